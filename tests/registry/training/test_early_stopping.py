"""`train: {early_stopping: ...}`: Keras' rule on the run's history, recorded, final on resume."""

import json

import pytest
from helpers import OMIT, PNG, tiny_recipe, write_image_folder

from registry import RecipeError, load_recipe
from registry.training.callbacks import early_stop_reason

RECIPE = tiny_recipe(
    **{"name": "tiny_stop", "preprocessing": "rescale", "stages.1": OMIT, "head.num_classes": 2}
)


def history(metric, values):
    return [{"epoch": i + 1, metric: value} for i, value in enumerate(values)]


def test_a_loss_that_stops_falling_for_patience_epochs_stops_the_run():
    rows = history("val_loss", [1.0, 0.8, 0.85, 0.9])
    assert early_stop_reason(rows[:3], "val_loss", patience=2) is None
    assert early_stop_reason(rows, "val_loss", patience=2) == (
        "early_stopping: val_loss has not improved for 2 epochs (patience 2); "
        "its best was 0.8000 at epoch 2"
    )


def test_an_accuracy_must_rise_and_by_more_than_min_delta():
    rows = history("val_accuracy", [0.5, 0.52, 0.53])
    assert early_stop_reason(rows, "val_accuracy", patience=2) is None
    reason = early_stop_reason(rows, "val_accuracy", patience=2, min_delta=0.05)
    assert reason.startswith("early_stopping: val_accuracy has not improved by more than 0.05")
    assert reason.endswith("its best was 0.5000 at epoch 1")


def test_an_improvement_resets_the_count():
    rows = history("val_loss", [1.0, 1.1, 0.9, 1.0])
    assert early_stop_reason(rows, "val_loss", patience=2) is None


@pytest.mark.parametrize(
    "rule, message",
    [
        ({"patience": 0}, "train.early_stopping.patience: must be at least 1. Received: 0."),
        ({}, "train.early_stopping.patience: required"),
        ({"patience": 2, "monitor": "loss"}, "train.early_stopping.monitor: "),
        ({"patience": 2, "min_delta": -1}, "train.early_stopping.min_delta: must be at least 0"),
    ],
)
def test_bad_rules_are_located_errors(rule, message):
    with pytest.raises(RecipeError) as error:
        load_recipe({**RECIPE, "train": {"early_stopping": rule}})
    assert message in str(error.value)


@pytest.mark.slow  # a run: about 30 s on a busy CPU
def test_a_stopped_run_says_why_records_it_and_does_not_train_on(tmp_path, capsys):
    from registry.training.run import train

    # No change of val_accuracy can beat a min_delta of 1: the run stops after epoch 2.
    stop = {"patience": 1, "monitor": "val_accuracy", "min_delta": 1.0}
    recipe = {**RECIPE, "train": {"batch_size": 4, "epochs": 5, "early_stopping": stop}}
    data = write_image_folder(tmp_path / "data", {"dark": 6, "light": 6}, size=16, variants=PNG)
    out = tmp_path / "run"
    history = train(recipe, data=data, out=out, verbose=0)
    assert history.epoch == [0, 1]
    state = json.loads((out / "state.json").read_text())
    assert state["epoch"] == 2 and state["stopped"].startswith(
        "early_stopping: val_accuracy has not improved by more than 1 for 1 epochs"
    )
    again = train(recipe, data=data, out=out, verbose=1)
    assert again.epoch == [0, 1]
    printed = capsys.readouterr().out
    assert "stopped early after epoch 2: early_stopping: val_accuracy" in printed


def test_the_recipe_reference_documents_the_rule():
    from pathlib import Path

    from registry.recipe.train_spec import EarlyStoppingSpec

    page = Path(__file__).resolve().parents[3] / "docs" / "reference" / "recipes.md"
    section = page.read_text(encoding="utf-8").split("## The `train:` section")[1].split("\n## ")[0]
    assert all(f"`{key}`" in section for key in EarlyStoppingSpec.model_fields)
