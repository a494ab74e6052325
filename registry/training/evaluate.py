"""evaluate(): a trained model's accuracy on labelled images: a folder, a named set, arrays.

The accuracy is given per class and as a confusion matrix.

A folder's class subfolders are matched to the model's classes by name,
so a test folder may hold fewer classes than the model knows, in any order.
A named data set ("fashion_mnist") is measured on its test split.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from registry.recipe.train_spec import EvalSpec
from registry.training import saved
from registry.training.arrays import ImageArrays
from registry.training.data import image_dataset
from registry.training.eval_transform import predict_scores, resolve
from registry.training.sources import evaluation_source


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """What `evaluate` measured.

    Args:
        class_names: list of str. The model's classes; rows and columns of
            `confusion` in this order.
        accuracy: float. Fraction of images whose top class is right.
        per_class: dict of str to float. Accuracy (recall) of each class
            with images in the folder.
        counts: dict of str to int. Images of each class in the folder.
        confusion: array (classes, classes). `confusion[i, j]` counts images
            of class i predicted as class j.
        paths: list of str. The images, in folder order.
        labels: array of int. True class index of each image.
        predicted: array of int. Predicted class index of each image.
        probabilities: array (images, classes). The model's outputs.
        source: str. What was measured, for the report: "10,000 test images
            of fashion_mnist"; empty for a folder ("N images").
        eval_transform: EvalSpec or None. How the images were fitted to the
            input size (None: squashed).
    """

    class_names: list[str]
    accuracy: float
    per_class: dict[str, float]
    counts: dict[str, int]
    confusion: np.ndarray
    paths: list[str]
    labels: np.ndarray
    predicted: np.ndarray
    probabilities: np.ndarray
    source: str = ""
    eval_transform: EvalSpec | None = None

    def report(self) -> str:
        """A few lines for the terminal: overall, then one per class."""
        width = max(len(name) for name in self.per_class) if self.per_class else 5
        lines = [f"accuracy {self.accuracy:.4f} on {self.source or f'{len(self.paths)} images'}"]
        for name, value in self.per_class.items():
            lines.append(f"  {name:<{width}}  {value:.4f}  ({self.counts[name]} images)")
        return "\n".join(lines)


def evaluate(
    model: str | os.PathLike | keras.Model,
    data: str | os.PathLike | tuple,
    *,
    batch_size: int = 32,
    image_size: int | Sequence[int] | None = None,
    confusion_png: str | os.PathLike | None = None,
    skip_bad_images: bool = False,
    allow_plugins: bool = False,
    download: bool = False,
    eval_transform: EvalSpec | dict[str, Any] | None = None,
) -> Evaluation:
    """Runs the model over every image of a folder, a named data set's test split, or arrays.

    Args:
        model: a `.keras` file, a run folder (its `model.keras`), or a model.
        data: A folder of images in one subfolder per class, named as the
            model's classes; a data set's name ("fashion_mnist", ...) or a
            folder of its files, whose test split is measured; or
            `(images, labels)` arrays whose labels index the model's classes.
        batch_size: int. Images per forward pass.
        image_size: int, (height, width) or None for the model's input size.
        confusion_png: path or None. Where to draw the confusion matrix.
        skip_bad_images: bool. Leave out unreadable images instead of stopping.
        allow_plugins: bool. Import the plugins of the run's recipe.yaml
            first, for a model made of custom blocks.
        download: bool. Let `keras.datasets` download a named set that is
            not found (needs internet).
        eval_transform: EvalSpec, mapping or None. How each image is fitted
            to the input size (a recipe's `train.eval`: `{resize:
            shorter_side, crop_pct: 0.875}`, `tta: flip`, ...); None uses the
            `recipe.yaml` of the run `model` is in, else squashes the whole
            image, as always.

    Returns:
        An `Evaluation`.

    Raises:
        DataError: the data is not found, unusable, or has a class the model has not.
    """
    fit = resolve(model, eval_transform)
    model = saved.load_trained(model, allow_plugins=allow_plugins)
    names = saved.class_names(model)
    source = evaluation_source(data, names, skip_bad_images=skip_bad_images, download=download)
    dataset = image_dataset(
        source,
        image_size=saved.image_size(model, image_size),
        batch_size=batch_size,
        shuffle=False,
        fit=fit,
    )
    probabilities = predict_scores(model, saved.model_inputs(model, dataset), fit)
    labels = np.asarray(source.labels)
    predicted = probabilities.argmax(axis=1)
    confusion = np.zeros((len(names), len(names)), dtype=np.int64)
    np.add.at(confusion, (labels, predicted), 1)
    present = [i for i in range(len(names)) if confusion[i].sum()]
    evaluation = Evaluation(
        class_names=names,
        accuracy=float((predicted == labels).mean()),
        per_class={names[i]: float(confusion[i, i] / confusion[i].sum()) for i in present},
        counts={names[i]: int(confusion[i].sum()) for i in present},
        confusion=confusion,
        paths=list(source.paths),
        labels=labels,
        predicted=predicted,
        probabilities=probabilities,
        source=source.summary() if isinstance(source, ImageArrays) else "",
        eval_transform=fit,
    )
    if confusion_png is not None:
        from registry.training.plots import plot_confusion

        plot_confusion(
            confusion,
            names,
            confusion_png,
            title=f"{model.name}: accuracy {evaluation.accuracy:.4f}",
        )
    return evaluation
