"""The training loss around trained weights, along random directions (`resblocks landscape`).

Li et al. 2018, "Visualizing the Loss Landscape of Neural Nets": the loss
at θ + α d₁ (+ β d₂) for random Gaussian directions d, each *filter* of d
scaled to the norm of the same filter of θ, so that directions are
comparable across layers and networks whatever the scale of their weights
(their section 4, "filter normalization"). As in their code
(`net_plotter.py`, `ignore='biasbn'`), the directions leave biases and
batch-norm parameters alone: those entries are zero. A filter is one output
channel: the last axis of a Keras kernel (HWIO convolutions, (in, out)
dense layers), so a dense layer's filter is the weights into one unit.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence

import keras
import numpy as np

from registry.training import saved
from registry.training.data import image_dataset
from registry.training.sources import open_source, relabel


@dataclasses.dataclass(frozen=True)
class Landscape:
    """The loss on a grid around the trained weights.

    Args:
        alphas: array. Steps along the first direction.
        betas: array or None. Steps along the second (None: 1-D).
        losses: array (len(alphas),) or (len(alphas), len(betas)).
        centre: float. The trained model's own loss.
    """

    alphas: np.ndarray
    betas: np.ndarray | None
    losses: np.ndarray
    centre: float

    def to_dict(self) -> dict:
        """Plain lists and floats (JSON), so a figure can be checked or drawn again."""
        return {
            "alphas": self.alphas.tolist(),
            "betas": None if self.betas is None else self.betas.tolist(),
            "losses": self.losses.tolist(),
            "centre": self.centre,
        }


def filter_normalized_direction(model: keras.Model, rng: np.random.Generator) -> list[np.ndarray]:
    """One random direction, an array per trainable weight, filter-normalised (Li et al. 2018).

    Kernels (2 or more axes): Gaussian, each filter (slice of the last axis)
    scaled to the norm of the weight's filter. Biases and batch-norm
    parameters (1 axis): zero.
    """
    direction = []
    for weight in model.trainable_weights:
        theta = np.asarray(keras.ops.convert_to_numpy(weight.value), dtype="float64")
        if theta.ndim < 2:
            direction.append(np.zeros_like(theta))
            continue
        d = rng.standard_normal(theta.shape)
        axes = tuple(range(theta.ndim - 1))
        d_norm = np.sqrt(np.sum(d * d, axis=axes, keepdims=True))
        theta_norm = np.sqrt(np.sum(theta * theta, axis=axes, keepdims=True))
        direction.append(d / np.maximum(d_norm, 1e-12) * theta_norm)
    return direction


def load_data(
    model: keras.Model,
    data: str | os.PathLike,
    batch_size: int,
    image_size=None,
    images: int | None = None,
    seed: int = 0,
):
    """(images as the model takes them, labels) batches of the training data, in order.

    `data` is anything `train` takes: a folder, a data set's name (its
    training split) or a folder of its files. `images` keeps a sample of
    that many, drawn by `seed` (every grid point then costs that many
    forward passes instead of the whole set's: Li et al. use all of
    CIFAR-10's 50,000, a CPU affords a few thousand).
    """
    folder = relabel(open_source(data, "train"), saved.class_names(model))
    if images is not None and images < len(folder):
        sample = np.random.default_rng(seed).choice(len(folder), size=images, replace=False)
        folder = folder.subset(np.sort(sample))
    dataset = image_dataset(
        folder,
        image_size=saved.image_size(model, image_size),
        batch_size=batch_size,
        shuffle=False,
    )
    images = saved.model_inputs(model, dataset)
    labels = dataset.map(lambda pixels, label: label)
    import tensorflow as tf

    return tf.data.Dataset.zip((images, labels))


def loss_landscape(
    model: str | os.PathLike | keras.Model,
    data: str | os.PathLike,
    *,
    two_d: bool = False,
    points: int = 21,
    span: float = 1.0,
    seed: int = 0,
    batch_size: int = 64,
    image_size: int | None = None,
    images: int | None = None,
    allow_plugins: bool = False,
) -> Landscape:
    """The mean cross-entropy on `data` at θ + α d₁ (+ β d₂), α and β in [-span, span].

    Args:
        model: a `.keras` file, a run folder (its `model.keras`), or a model.
        data: str or path. Images in one subfolder per class (the training set).
        two_d: bool. Two directions and a grid instead of one line.
        points: int. Grid points per direction (odd, so that 0 is on it).
        span: float. The grid runs from -span to +span; 1 is a step as
            long as the weights themselves, filter by filter.
        seed: int. Seeds the directions.
        batch_size: int. Images per forward pass.
        image_size: int or None for the model's input size.
        images: int or None. The loss on a sample of this many training
            images, drawn by `seed`; None: all of them.
        allow_plugins: bool. Import the plugins of the run's recipe.yaml first.

    Returns:
        A `Landscape`. The model's weights are restored afterwards.
    """
    if points < 3 or points % 2 == 0:
        raise ValueError(
            "Argument `points` must be an odd number of at least 3, so that the trained "
            f"weights (0) are on the grid. Received: points={points}"
        )
    if not span > 0:
        raise ValueError(f"Argument `span` must be positive. Received: span={span}")
    whole = isinstance(images, int) and not isinstance(images, bool)
    if images is not None and not (whole and images >= 1):
        raise ValueError(
            f"Argument `images` must be a positive int or None (all). Received: images={images!r}"
        )
    model = saved.load_trained(model, allow_plugins=allow_plugins)
    dataset = load_data(model, data, batch_size, image_size, images, seed)
    model.compile(loss="sparse_categorical_crossentropy")
    weights = model.trainable_weights
    theta = [np.asarray(keras.ops.convert_to_numpy(w.value), dtype="float64") for w in weights]
    rng = np.random.default_rng(seed)
    first = filter_normalized_direction(model, rng)
    second = filter_normalized_direction(model, rng) if two_d else None

    def loss_at(alpha: float, beta: float) -> float:
        for w, t, d1, d2 in zip(weights, theta, first, second or first):
            moved = t + alpha * d1 + (beta * d2 if second is not None else 0.0)
            w.assign(moved.astype(w.dtype))
        return float(model.evaluate(dataset, verbose=0))

    grid = np.linspace(-span, span, points)
    try:
        centre = loss_at(0.0, 0.0)
        if second is None:
            losses = np.array([loss_at(a, 0.0) for a in grid])
        else:
            losses = np.array([[loss_at(a, b) for b in grid] for a in grid])
    finally:
        for w, t in zip(weights, theta):
            w.assign(t.astype(w.dtype))
    return Landscape(grid, grid if two_d else None, losses, centre)


def plot_landscape(
    landscapes: Landscape | Mapping[str, Landscape], path: str | os.PathLike, title: str = ""
) -> None:
    """The loss around trained weights: one line per model (1-D), or a contour panel each (2-D).

    `landscapes` maps a label (the run's name) to its `Landscape`, so that
    networks drawn side by side share axes, as Li et al.'s Figure 1 puts
    ResNet-56 with and without shortcuts next to each other.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)  # files only, never a window
    import matplotlib.pyplot as plt

    if isinstance(landscapes, Landscape):
        landscapes = {"": landscapes}
    two_d = any(each.betas is not None for each in landscapes.values())
    if not two_d:
        figure, ax = plt.subplots(figsize=(6, 4.5))
        for label, each in landscapes.items():
            name = f"{label}: " if label else ""
            ax.plot(
                each.alphas, each.losses, "-o", markersize=3, label=f"{name}{each.centre:.4f} at 0"
            )
        every = np.concatenate([np.ravel(each.losses) for each in landscapes.values()])
        finite = every[np.isfinite(every)]
        # Far from the weights the loss grows by orders of magnitude: a log axis keeps
        # the basin around 0 visible next to the walls.
        if finite.size and finite.min() > 0 and finite.max() > 30 * finite.min():
            ax.set_yscale("log")
        ax.set_xlabel("α (direction 1, filter-normalised)")
        ax.set_ylabel("training loss")
        ax.legend()
        ax.set_title(title or "training loss around the trained weights")
        ax.grid(True, alpha=0.3)
    else:
        panels = len(landscapes)
        figure, axes = plt.subplots(1, panels, figsize=(5.5 * panels, 4.5), squeeze=False)
        every = np.concatenate([np.ravel(each.losses) for each in landscapes.values()])
        levels = _levels(every)  # the same levels everywhere: panels compare
        for ax, (label, each) in zip(axes[0], landscapes.items()):
            a, b = np.meshgrid(each.alphas, each.betas, indexing="ij")
            contours = ax.contour(a, b, each.losses, levels=levels)
            ax.clabel(contours, fontsize=7)
            ax.plot([0], [0], "k+")
            ax.set_xlabel("α (direction 1)")
            ax.set_ylabel("β (direction 2)")
            ax.set_title(f"{label + ': ' if label else ''}centre {each.centre:.4f}")
        if title:
            figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def _levels(losses: Sequence) -> np.ndarray:
    """Contour levels spread over the finite losses (a far point can be huge or NaN).

    Evenly spaced in the logarithm when the losses span more than 30x, as
    they do a filter-normalised step away from trained weights: even levels
    would all crowd the walls and leave the basin, the part worth seeing, blank.
    """
    finite = np.asarray(losses)[np.isfinite(losses)]
    low, high = float(finite.min()), float(np.percentile(finite, 95))
    if high <= low:
        return np.linspace(low, low + 1.0, 15)
    if low > 0 and high > 30 * low:
        return np.geomspace(low * 1.05, high, 15)
    return np.linspace(low, high, 15)
