"""The pictures of runs: loss and accuracy curves (one run's, or several side by side), confusion.

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


def plot_comparison(
    histories: Mapping[str, Sequence[Mapping[str, float]]], path: str | os.PathLike
) -> None:
    """Several runs' curves in one figure: loss and accuracy by epoch, one colour per run.

    The look of He et al. 2015, Figure 6: training dashed, validation
    solid, so each run's gap between the two reads at a glance.

    Args:
        histories: dict of run name to its history (`history.csv`'s rows:
            `epoch`, `loss`, `accuracy`, `val_loss`, `val_accuracy`).
        path: str or path. The PNG file to write.
    """
    plt = _pyplot()
    from matplotlib.lines import Line2D
    from matplotlib.ticker import MaxNLocator

    figure, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    last_epoch = 0
    for index, history in enumerate(histories.values()):
        colour = colours[index % len(colours)]
        epochs = [row["epoch"] for row in history]
        last_epoch = max([last_epoch, *epochs])
        for ax, metric in zip(axes, ("loss", "accuracy")):
            for key, style in ((metric, "--"), (f"val_{metric}", "-")):
                values = [row.get(key, np.nan) for row in history]
                if not all(np.isnan(values)):
                    ax.plot(epochs, values, style, color=colour, marker="o", markersize=2.5)
    runs = [
        Line2D([], [], color=colours[i % len(colours)], label=name)
        for i, name in enumerate(histories)
    ]
    kinds = [
        Line2D([], [], color="grey", linestyle="--", label="training"),
        Line2D([], [], color="grey", linestyle="-", label="validation"),
    ]
    for ax, metric in zip(axes, ("loss", "accuracy")):
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.set_title(metric)
        ax.grid(True, alpha=0.3)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if last_epoch:
            ax.set_xlim(0.5, last_epoch + 0.5)
    axes[0].legend(handles=runs, fontsize=8)
    axes[1].legend(handles=kinds, fontsize=8)
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
