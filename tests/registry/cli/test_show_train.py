"""`resblocks show RECIPE --train`: the whole training pipeline, one line per `train:` key."""

import pytest
import yaml

from registry.cli import main
from registry.inspection.train_pipeline import describe
from registry.recipe.train_spec import AugmentSpec, TrainSpec


def _show(recipe, capsys) -> list[str]:
    assert main(["show", str(recipe), "--train"]) == 0
    return capsys.readouterr().out.splitlines()


def test_every_train_key_has_its_line(capsys):
    lines = _show("cifar10_resnet18", capsys)
    labels = [line[2:].split()[0] for line in lines[1:]]
    assert sorted(labels) == sorted(TrainSpec.model_fields)  # a key added later shows up too
    text = "\n".join(lines)
    assert " *augment" in text and "horizontal_flip, rotation 15, width_shift 0.1" in text
    assert " *epochs                         60" in text
    assert "eval                           whole image resized to 32x32 (squash), bilinear" in text


def test_known_keys_are_said_in_words(tmp_path, capsys):
    recipe = tmp_path / "r.yaml"
    train = {
        "optimizer": {"name": "adamw", "learning_rate": 0.002},
        "schedule": {"name": "cosine", "warmup_epochs": 5},
        "epochs": 100,
        "ema": 0.9998,
        "label_smoothing": 0.1,
        "eval": {"resize": "shorter_side", "crop_pct": 0.875, "tta": "flip"},
    }
    recipe.write_text(yaml.safe_dump({"base": "resnet50_tv", "name": "r", "train": train}))
    text = "\n".join(_show(recipe, capsys))
    assert "adamw, learning_rate 0.002; weight decay 0.004, decoupled" in text
    assert (
        "cosine decay to 0 x the rate at the last epoch, after 5 epochs of linear warm-up" in text
    )
    assert "0.9998 per optimizer step" in text
    assert "0.1 (targets smoothed towards 1/classes)" in text
    assert (
        "shorter side to 256 (224 / 0.875), centre crop 224x224, bilinear, test-time flip" in text
    )


def test_sgd_decay_is_said_to_be_coupled_and_a_recipe_without_train_gets_defaults(tmp_path, capsys):
    recipe = tmp_path / "r.yaml"
    train = {"optimizer": {"name": "sgd", "learning_rate": 0.1, "weight_decay": 1e-4}}
    recipe.write_text(yaml.safe_dump({"base": "resnet50", "name": "r", "train": train}))
    assert "weight decay 0.0001, coupled L2" in "\n".join(_show(recipe, capsys))
    lines = _show("resnet50", capsys)
    assert lines[0] == "training of resnet50: no train: section, so every setting is the default"


def test_a_section_it_does_not_know_is_printed_by_its_fields():
    assert describe(AugmentSpec()) == "none (every field at its default)"
    assert describe(AugmentSpec(vertical_flip=True, zoom=0.2)) == "vertical_flip, zoom 0.2"


@pytest.mark.parametrize(
    "section, where",
    [
        ({"resize": "centre"}, "train.eval.resize: must be one of 'squash' or 'shorter_side'"),
        ({"resize": "shorter_side", "crop_pct": 0}, "train.eval.crop_pct: must be at least 0.1"),
    ],
)
def test_a_bad_eval_value_is_one_located_line_and_exit_2(tmp_path, capsys, section, where):
    recipe = tmp_path / "bad.yaml"
    recipe.write_text(
        yaml.safe_dump({"base": "resnet18", "name": "bad", "train": {"eval": section}})
    )
    assert main(["show", str(recipe), "--train"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert where in err and str(recipe) in err
