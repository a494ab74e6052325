"""The gradient norm of each block, at initialisation and after training (`resblocks gradients`).

For every body layer (the stem, each block) the norm of the gradient of
the training loss with respect to all of that layer's trainable weights,
measured on one fixed batch (`registry.inspection.weight_gradients`):
once at initialisation and once after `steps` steps of SGD with momentum.
Plotted against depth, one line per recipe, it shows where the learning
signal is weak.

It is tempting to read a plain network's failure to train as vanishing
gradients; He et al. 2015 (section 4.1) say otherwise: their plain
networks have batch normalization, and they "verify that the backward
propagated gradients exhibit healthy norms with BN". The degradation they
report is an optimisation difficulty of another kind. This tool lets you
look for yourself, plain-56 beside ResNet-56.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence

import keras
import numpy as np

from registry.assembly import build
from registry.inspection.weight_gradients import layer_norms
from registry.recipe import load_recipe
from registry.training.data import image_dataset
from registry.training.sources import open_source

LEARNING_RATE, MOMENTUM = (
    0.05,
    0.9,
)  # SGD, as the paper trains; lower than its 0.1 for small batches


@dataclasses.dataclass(frozen=True)
class GradientNorms:
    """What `gradient_norms` measured for one recipe.

    Args:
        recipe: str. The recipe's name.
        layers: list of str. The body layers, input side first.
        initial: array. The gradient norm of each layer at initialisation.
        trained: array. The same after `steps` steps.
        steps: int. Training steps between the two.
    """

    recipe: str
    layers: list[str]
    initial: np.ndarray
    trained: np.ndarray
    steps: int


def load_data(data: str | os.PathLike, image_size: tuple[int, int], batch_size: int, seed: int):
    """Class names, shuffled training batches and the fixed batch measured on.

    `data` is anything `train` takes: a folder, a data set's name (its
    training split) or a folder of its files.
    """
    folder = open_source(data, "train")
    train = image_dataset(
        folder, image_size=image_size, batch_size=batch_size, shuffle=True, seed=seed
    )
    fixed = image_dataset(folder, image_size=image_size, batch_size=batch_size, shuffle=False)
    ((images, labels),) = fixed.take(1).as_numpy_iterator()
    return list(folder.class_names), train, (images, labels)


def gradient_norms(
    recipe: str | os.PathLike | Mapping,
    data: str | os.PathLike,
    *,
    steps: int = 300,
    batch_size: int = 32,
    image_size: int | None = None,
    seed: int = 0,
) -> GradientNorms:
    """The gradient norm of each body layer, at initialisation and after `steps` steps.

    Args:
        recipe: a recipe name, YAML file or mapping.
        data: str or path. Images in one subfolder per class.
        steps: int. SGD steps (learning rate 0.05, momentum 0.9) between
            the two measurements; 0 measures at initialisation only.
        batch_size: int. Images per step, and in the batch measured on.
        image_size: int or None for the recipe's input size.
        seed: int. Seeds the weights and the shuffle: the same seed gives
            the same numbers.

    Returns:
        A `GradientNorms`.
    """
    loaded = load_recipe(recipe)
    size = (image_size, image_size) if image_size else tuple(loaded.input_shape[:2])
    keras.utils.set_random_seed(seed)  # first: TensorFlow's global seed also seeds the shuffle
    names, train, (images, labels) = load_data(data, size, batch_size, seed)
    model = build(
        loaded,
        num_classes=len(names),
        input_shape=[*size, loaded.input_shape[2]],
        include_preprocessing=True,
    )
    layers = [layer.name for layer in model.body]
    initial = layer_norms(model, images, labels)
    if steps:
        model.compile(
            optimizer=keras.optimizers.SGD(LEARNING_RATE, momentum=MOMENTUM),
            loss="sparse_categorical_crossentropy",
        )
        model.fit(train.repeat(), steps_per_epoch=steps, epochs=1, shuffle=False, verbose=0)
    trained = layer_norms(model, images, labels) if steps else initial
    return GradientNorms(loaded.name, layers, initial, trained, steps)


def plot_gradient_norms(results: Sequence[GradientNorms], path: str | os.PathLike) -> None:
    """One line per recipe, gradient norm against depth: solid at init, dashed after training."""
    import matplotlib

    matplotlib.use("Agg", force=False)  # files only, never a window
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots(figsize=(8, 4.5))
    for i, result in enumerate(results):
        colour = f"C{i}"
        depth = np.arange(1, len(result.layers) + 1)
        ax.plot(depth, result.initial, "-", color=colour, label=f"{result.recipe}, initial")
        if result.steps:
            label = f"{result.recipe}, after {result.steps} steps"
            ax.plot(depth, result.trained, "--", color=colour, label=label)
    ax.set_yscale("log")
    ax.set_xlabel("body layer (stem = 1, then each block)")
    ax.set_ylabel("norm of d loss / d weights")
    ax.set_title("gradient norm of each block")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
