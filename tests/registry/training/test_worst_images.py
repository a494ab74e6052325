"""`evaluate --worst N`: the images with the highest loss, in a grid with their labels."""

import json

import numpy as np
import PIL.Image
import pytest
from helpers import PNG, two_class_recipe, write_image_folder

from registry import build
from registry.cli import main
from registry.training.evaluate import Evaluation
from registry.training.worst import worst_indices

TINY = two_class_recipe()  # one stage: a 16x16 last map


def evaluation(probabilities, labels) -> Evaluation:
    probabilities = np.asarray(probabilities, dtype="float32")
    return Evaluation(
        class_names=["a", "b"],
        accuracy=0.0,
        per_class={},
        counts={},
        confusion=np.zeros((2, 2)),
        paths=[f"{i}.png" for i in range(len(labels))],
        labels=np.asarray(labels),
        predicted=probabilities.argmax(axis=1),
        probabilities=probabilities,
    )


def test_highest_loss_first_a_confident_mistake_before_a_hesitant_one():
    result = evaluation(
        [[0.9, 0.1], [0.4, 0.6], [0.01, 0.99], [0.55, 0.45], [0.0, 1.0]], [0, 0, 0, 0, 1]
    )
    # losses: 0.11, 0.92, 4.6, 0.6, 0 -> 2, 1, 3 (a right answer given at 0.55), 0, 4
    assert worst_indices(result, 3).tolist() == [2, 1, 3]
    assert worst_indices(result, 10).tolist() == [2, 1, 3, 0, 4]


def test_count_must_be_positive():
    with pytest.raises(ValueError, match="must be a positive int. Received: count=0"):
        worst_indices(evaluation([[0.5, 0.5]], [0]), 0)


def test_evaluate_writes_the_grid(tmp_path, capsys):
    model = tmp_path / "model.keras"
    build(TINY, include_preprocessing=True).save(model)
    write_image_folder(tmp_path / "val", {"a": 3, "b": 3}, size=36, variants=PNG)
    args = ["evaluate", str(model), "--data", str(tmp_path / "val"), "--worst", "4", "--json"]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["worst_png"] == str(tmp_path / "worst_val.png")
    with PIL.Image.open(tmp_path / "worst_val.png") as picture:
        assert picture.size[0] > 400
