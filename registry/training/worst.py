"""The validation images a model gets most wrong: highest loss first, drawn as a grid.

The loss of an image is the cross-entropy of its true class, -log p(true),
so a confident mistake ranks above a hesitant one, and a right answer given
with little confidence can rank too. `resblocks evaluate --worst N` draws
them with the true label, the predicted label and its probability under each.
"""

from __future__ import annotations

import math
import os

import numpy as np

from registry.training.data import ImageFolder, image_dataset
from registry.training.evaluate import Evaluation


def worst_indices(evaluation: Evaluation, count: int) -> np.ndarray:
    """The positions in `evaluation.paths` of the `count` images with the highest loss."""
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"Argument `count` must be a positive int. Received: count={count!r}")
    rows = np.arange(len(evaluation.labels))
    true = evaluation.probabilities[rows, evaluation.labels]
    losses = -np.log(np.clip(true, 1e-12, 1.0))
    return np.argsort(-losses, kind="stable")[:count]


def plot_worst(
    evaluation: Evaluation,
    count: int,
    path: str | os.PathLike,
    image_size: tuple[int, int],
) -> list[int]:
    """Draws the `count` highest-loss images as a grid into the PNG `path`.

    Args:
        evaluation: what `evaluate` measured.
        count: int. How many images to draw (fewer if the folder has fewer).
        path: str or path. The PNG to write.
        image_size: (height, width). The size the images are decoded at, as
            the model saw them.

    Returns:
        The positions of the images drawn, highest loss first.
    """
    chosen = [int(i) for i in worst_indices(evaluation, count)]
    folder = ImageFolder(
        root=".",
        class_names=("images",),
        paths=tuple(evaluation.paths[i] for i in chosen),
        labels=(0,) * len(chosen),
    )
    dataset = image_dataset(
        folder,
        image_size=image_size,
        batch_size=len(chosen),
        shuffle=False,
        fit=evaluation.eval_transform,  # cropped as the model saw them
    )
    ((images, _),) = dataset.take(1).as_numpy_iterator()

    import matplotlib

    matplotlib.use("Agg", force=False)  # files only, never a window
    import matplotlib.pyplot as plt

    columns = min(len(chosen), 6)
    rows = math.ceil(len(chosen) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(2.2 * columns, 2.6 * rows), squeeze=False)
    names = evaluation.class_names
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, i in zip(axes.flat, images, chosen):
        ax.axis("on")
        ax.set_xticks([])
        ax.set_yticks([])
        shown = np.clip(image, 0, 255).astype("uint8")
        ax.imshow(shown[..., 0] if shown.shape[-1] == 1 else shown, cmap="gray")
        predicted = int(evaluation.predicted[i])
        ax.set_xlabel(
            f"true: {names[int(evaluation.labels[i])]}\n"
            f"predicted: {names[predicted]} ({evaluation.probabilities[i, predicted]:.2f})",
            fontsize=8,
            color="black" if predicted == evaluation.labels[i] else "firebrick",
        )
    figure.suptitle(f"the {len(chosen)} images with the highest loss", fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=100, bbox_inches="tight")  # the labels under the last row too
    plt.close(figure)
    return chosen
