"""evaluate(): a trained model's accuracy on a labelled image folder.

The accuracy is given per class and as a confusion matrix.

The folder's class subfolders are matched to the model's classes by name,
so a test folder may hold fewer classes than the model knows, in any order.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence

import keras
import numpy as np

from registry.training import saved
from registry.training.data import image_dataset, scan_image_folder
from registry.training.run import relabel


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

    def report(self) -> str:
        """A few lines for the terminal: overall, then one per class."""
        width = max(len(name) for name in self.per_class) if self.per_class else 5
        lines = [f"accuracy {self.accuracy:.4f} on {len(self.paths)} images"]
        for name, value in self.per_class.items():
            lines.append(f"  {name:<{width}}  {value:.4f}  ({self.counts[name]} images)")
        return "\n".join(lines)


def evaluate(
    model: str | os.PathLike | keras.Model,
    data: str | os.PathLike,
    *,
    batch_size: int = 32,
    image_size: int | Sequence[int] | None = None,
    confusion_png: str | os.PathLike | None = None,
    skip_bad_images: bool = False,
    allow_plugins: bool = False,
) -> Evaluation:
    """Runs the model over every image of a class-per-subfolder folder.

    Args:
        model: a `.keras` file, a run folder (its `model.keras`), or a model.
        data: str or path. Images in one subfolder per class, named as the
            model's classes.
        batch_size: int. Images per forward pass.
        image_size: int, (height, width) or None for the model's input size.
        confusion_png: path or None. Where to draw the confusion matrix.
        skip_bad_images: bool. Leave out unreadable images instead of stopping.
        allow_plugins: bool. Import the plugins of the run's recipe.yaml
            first, for a model made of custom blocks.

    Returns:
        An `Evaluation`.

    Raises:
        DataError: the folder is unusable or has a class the model has not.
    """
    model = saved.load_trained(model, allow_plugins=allow_plugins)
    names = saved.class_names(model)
    folder = relabel(scan_image_folder(data, skip_bad_images=skip_bad_images), names)
    dataset = image_dataset(
        folder, image_size=saved.image_size(model, image_size), batch_size=batch_size, shuffle=False
    )
    probabilities = model.predict(saved.model_inputs(model, dataset), verbose=0)
    labels = np.asarray(folder.labels)
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
        paths=list(folder.paths),
        labels=labels,
        predicted=predicted,
        probabilities=probabilities,
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
