"""The pictures a run leaves behind: loss and accuracy curves, and a confusion matrix.

Drawn with matplotlib's Agg backend into files, never a window, so training
on a server without a display works.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def plot_curves(history: Sequence[Mapping[str, float]], path: str | os.PathLike) -> None:
    """Loss and accuracy per epoch, training against validation, side by side.

    Args:
        history: list of dict. One row per epoch with `epoch`, `loss`,
            `accuracy` and, when validated, `val_loss`, `val_accuracy`.
        path: str or path. The PNG file to write.
    """
    plt = _pyplot()
    epochs = [row["epoch"] for row in history]
    figure, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, metric in zip(axes, ("loss", "accuracy")):
        for key, label, style in ((metric, "train", "-o"), (f"val_{metric}", "validation", "-s")):
            values = [row.get(key, np.nan) for row in history]
            if not all(np.isnan(values)):
                ax.plot(epochs, values, style, label=label, markersize=3)
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.set_title(metric)
        ax.grid(True, alpha=0.3)
        ax.legend()
    from matplotlib.ticker import MaxNLocator

    for ax in axes:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if epochs:
            ax.set_xlim(0.5, max(epochs) + 0.5)
    figure.tight_layout()
    figure.savefig(os.fspath(path), format="png", dpi=100)
    plt.close(figure)


def plot_confusion(
    matrix: np.ndarray, class_names: Sequence[str], path: str | os.PathLike, title: str = ""
) -> None:
    """A confusion matrix: true class down, predicted class across, with counts.

    Args:
        matrix: array of shape (classes, classes). `matrix[i, j]` counts
            images of class i predicted as class j.
        class_names: list of str. The label of each row and column.
        path: str or path. The PNG file to write.
        title: str. Shown above the matrix.
    """
    plt = _pyplot()
    n = len(class_names)
    side = min(4 + 0.5 * n, 30)
    figure, ax = plt.subplots(figsize=(side, side))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(n), labels=class_names, rotation=90 if n > 10 else 45, ha="right")
    ax.set_yticks(range(n), labels=class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if title:
        ax.set_title(title)
    if n <= 30:
        peak = matrix.max() if matrix.size else 0
        for i in range(n):
            for j in range(n):
                colour = "white" if matrix[i, j] > peak / 2 else "black"
                ax.text(
                    j, i, str(int(matrix[i, j])), ha="center", va="center", color=colour, fontsize=8
                )
    figure.tight_layout()
    figure.savefig(os.fspath(path), format="png", dpi=100)
    plt.close(figure)
