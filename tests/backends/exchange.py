"""One recipe's model made on one Keras backend and checked on another.

The cross-backend test (`test_cross_backend.py`) runs these functions in
its own process (TensorFlow) and in one `worker.py` process per other
backend, each on the files the others wrote:

- `make`: builds the recipe with random BN statistics, saves it as
  `.keras` and `.weights.h5`, and writes what it computes (`outputs`).
- `check`: loads both files of another backend and writes what they
  compute here, and the losses of two training steps from those weights.
- `save`: saves the model loaded from the `.keras` file again, from this
  backend, for the others to check.

What is compared: the logits (the head's softmax off, so that tiny logit
differences are not hidden), in inference mode; and the losses of two SGD
steps in training mode (BN on batch statistics, the second step after one
update), with dropout and stochastic depth off, since their random masks
cannot be equal across backends.
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
from helpers import small_shape

from registry import build, load_recipe
from registry.keras_compat import sublayers
from resblocks.drop_path import DropPath

NUM_CLASSES = 10


# A case is a recipe name, or NAME + SHALLOW: that recipe with one block in
# each stage, the smallest network of its layout (the same layers' code).
SHALLOW = ":one_block_per_stage"


def recipe_of(case: str) -> tuple[str, dict]:
    """(the recipe name, the overrides) of a case."""
    name, shallow, _ = case.partition(SHALLOW)
    overrides = {"head.activation": None}
    if shallow:
        stages = load_recipe(name).stages
        overrides.update({f"stages.{i}.repeats": 1 for i in range(len(stages))})
    return name, overrides


def inputs(case: str) -> tuple[np.ndarray, np.ndarray]:
    """(images, one-hot labels) of a batch of 4, the same on every backend."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (4, *small_shape(recipe_of(case)[0]))).astype("float32")
    y = np.eye(NUM_CLASSES, dtype="float32")[rng.integers(0, NUM_CLASSES, 4)]
    return x, y


def fresh(case: str, weights: Path | None = None) -> keras.Model:
    """The case's recipe at its small input, 10 classes, logits out (loading `weights` if given)."""
    name, overrides = recipe_of(case)
    return build(
        name,
        num_classes=NUM_CLASSES,
        input_shape=small_shape(name),
        overrides=overrides,
        weights=weights,
    )


def randomize_statistics(model: keras.Model, seed: int = 1) -> None:
    """BN statistics and affine terms away from their 0/1 start, so inference tests them."""
    rng = np.random.default_rng(seed)
    for layer in sublayers(model, recursive=True):
        if isinstance(layer, keras.layers.BatchNormalization):
            shape = layer.moving_mean.shape
            values = {
                "gamma": rng.uniform(0.5, 1.5, shape),
                "beta": rng.normal(0.0, 0.1, shape),
                "moving_mean": rng.normal(0.0, 0.1, shape),
                "moving_variance": rng.uniform(0.5, 1.5, shape),
            }
            for variable in layer.weights:
                key = variable.path.rsplit("/", 1)[-1]
                if key in values:
                    variable.assign(values[key].astype("float32"))


def logits(model: keras.Model, x: np.ndarray) -> np.ndarray:
    return keras.ops.convert_to_numpy(model(x, training=False))


def training_losses(model: keras.Model, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The losses of two SGD steps from the model's weights (dropout and drop-path off)."""
    for layer in sublayers(model, recursive=True):
        if isinstance(layer, (keras.layers.Dropout, DropPath)):
            layer.rate = 0.0
    model.compile(
        # Each step moves the weights by 1e-3 (in norm) along the gradient,
        # whatever the network: a step length at which every recipe's loss
        # moves, well short of where the loss stops being smooth.
        optimizer=keras.optimizers.SGD(learning_rate=1e-3, global_clipnorm=1.0),
        loss=keras.losses.CategoricalCrossentropy(from_logits=True),
        # Two steps each: op by op is faster than compiling on TensorFlow
        # (2 s against more) and PyTorch, but not on JAX, whose eager ops
        # each compile alone: resnest14d's step took 30 s op by op, 6.6 s
        # compiled (one block per stage, 2 cores). XLA is JAX's default too.
        jit_compile=keras.config.backend() == "jax",
    )
    return np.array([float(model.train_on_batch(x, y)) for _ in range(2)])


def files(folder: Path, backend: str) -> tuple[Path, Path]:
    return folder / f"{backend}.keras", folder / f"{backend}.weights.h5"


def result_path(folder: Path, saved_on: str, loaded_on: str) -> Path:
    return folder / f"{saved_on}-on-{loaded_on}.npz"


def remove(folder: Path, backend: str) -> None:
    """Deletes a backend's two files: for the largest recipes they are 1 GB."""
    for path in files(folder, backend):
        path.unlink()


def save(model: keras.Model, folder: Path, backend: str) -> None:
    whole, weights = files(folder, backend)
    model.save(whole)
    model.save_weights(weights)


def make(name: str, folder: Path, train: bool) -> dict:
    """Builds, saves and runs the recipe here.

    Returns its logits, layer names and (if `train`) training losses.
    """
    keras.utils.set_random_seed(0)
    model = fresh(name)
    randomize_statistics(model)
    save(model, folder, keras.config.backend())
    x, y = inputs(name)
    made = {"logits": logits(model, x), "layer_names": [layer.name for layer in model.layers]}
    if train:
        made["losses"] = training_losses(model, x, y)
    return made


def check(name: str, folder: Path, saved_on: str, train: bool) -> tuple[dict, keras.Model]:
    """Loads `saved_on`'s two files here: the logits of each and (if `train`) the losses.

    Returns those and the model loaded from the `.keras` file.
    """
    whole, weights = files(folder, saved_on)
    x, y = inputs(name)
    loaded = keras.saving.load_model(whole, safe_mode=True)
    rebuilt = fresh(name, weights=weights)  # through registry's loader, as users load
    result = {"keras_logits": logits(loaded, x), "weights_logits": logits(rebuilt, x)}
    if train:
        result["losses"] = training_losses(rebuilt, x, y)
    return result, loaded


def max_relative_diff(a: np.ndarray, b: np.ndarray) -> float:
    """max |a - b| over max(1, max |b|): an absolute error for logits of order 1."""
    return float(np.max(np.abs(a - b)) / max(1.0, float(np.max(np.abs(b)))))
