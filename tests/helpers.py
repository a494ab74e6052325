"""What tests in every folder share: a tiny recipe, image folders, small inputs, and one size rule.

- `tiny_recipe(**overrides)`: the smallest network worth building, changed
  with the recipe's own dotted paths (`"stages.0.block": "bottle_neck"`).
- `image_recipe(**overrides)`: the tiny network at 32x32 with stages conv2, conv3.
- `two_class_recipe(class_names)`: that network with one stage and two classes.
- `training_recipe(**train)`: that network with the train: section the training tests train.
- `write_image_folder(root, per_class)`: learnable class folders of images
  (`variants=PNG`: RGB PNGs only).
- `run_registry(*args)`: `python -m registry ...` in a subprocess, as a user runs it.
- `small_shape(name)`: the smallest input a shipped recipe is tested at.
- `is_large(name)`: the one rule for what runs in `make test-slow` only;
  `recipe_params(names)` applies it to a parametrization.
- `representatives()`: few small recipes that use every layer class between them;
  `representative_params(names)` marks the others of `names` slow.
- `built(name, ...)`: a model built once per test run, for read-only uses.
- `assert_keras_round_trip(layer, shape, tmp_path)`: a layer alone survives
  a safe .keras round trip.
- `measures(name)`: a recipe's parameter counts and layer classes, one
  build per test run.
- `trainable_parameters(layer)`, and `trainable_parameters_test(counts)`:
  the test that recipes have the trainable parameters counted elsewhere.
"""

from __future__ import annotations

import collections
import copy
import dataclasses
import functools
import inspect
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest
import yaml
from PIL import Image

from registry import build, list_models, load_recipe
from registry.keras_compat import sublayers
from registry.recipe import set_path

ROOT = Path(__file__).resolve().parents[1]

# Builds in well under a second at 16x16; tests change it with overrides.
TINY: dict[str, Any] = {
    "name": "tiny",
    "input_shape": [16, 16, 3],
    "stem": {"block": "cifar_stem", "filters": 4},
    "stages": [
        {"name": "layer1", "block": "res_block", "filters": 4, "repeats": 1, "tap": "c2"},
        {
            "name": "layer2",
            "block": "res_block",
            "filters": 8,
            "strides": 2,
            "repeats": 1,
            "tap": "c3",
        },
    ],
    "head": {"block": "classifier", "num_classes": 3},
}
# An override to this removes the key, where the recipe must not have it at all.
OMIT = object()


def constructor_arguments(cls: type) -> dict[str, inspect.Parameter]:
    """A layer's arguments: its `__init__`'s, and the keyword-only ones of its resblocks bases.

    Read here from the signatures, independently of `resblocks.arguments`,
    which keeps and configs them: the settings a base such as `ConvBNLayer`
    declares once are every subclass's arguments too.
    """
    own = inspect.signature(cls.__init__).parameters
    found = {n: p for n, p in own.items() if n != "self" and p.kind is p.POSITIONAL_OR_KEYWORD}
    for base in cls.__mro__:
        if base.__module__.startswith("resblocks") and "__init__" in vars(base):
            for n, p in inspect.signature(base.__init__).parameters.items():
                if p.kind is p.KEYWORD_ONLY:
                    found.setdefault(n, p)
    return found


def tiny_recipe(**overrides: Any) -> dict[str, Any]:
    """A fresh copy of TINY with `overrides` applied as `build(overrides=...)` applies them.

    Keys are dotted paths (`tiny_recipe(**{"stages.1.strides": 1})`) or
    top-level keys (`tiny_recipe(name="x", stages=[...])`); the value OMIT
    deletes the key.
    """
    raw = copy.deepcopy(TINY)
    for path, value in overrides.items():
        if value is OMIT:
            *parents, last = path.split(".")
            node = raw
            for key in parents:
                node = node[int(key)] if isinstance(node, list) else node[key]
            del node[int(last) if isinstance(node, list) else last]
        else:
            set_path(raw, path, copy.deepcopy(value), "tiny_recipe")
    return raw


def image_recipe(**overrides: Any) -> dict[str, Any]:
    """The tiny network at 32x32, rescaled, with stages conv2 (8 filters) and conv3 (16, stride 2).

    No train: section. `overrides` are dotted paths, as tiny_recipe's.
    """
    return tiny_recipe(
        **{
            "input_shape": [32, 32, 3],
            "preprocessing": "rescale",
            "stem.filters": 8,
            "stages.0.name": "conv2",
            "stages.0.filters": 8,
            "stages.1.name": "conv3",
            "stages.1.filters": 16,
            **overrides,
        }
    )


def two_class_recipe(class_names: tuple[str, str] = ("a", "b")) -> dict[str, Any]:
    """image_recipe with one stage, conv2 at stride 2 (a 16x16 last map), and two named classes."""
    return image_recipe(
        **{
            "stages.1": OMIT,
            "stages.0.strides": 2,
            "head.num_classes": 2,
            "head.class_names": list(class_names),
        }
    )


def training_recipe(overrides: dict[str, Any] | None = None, **train: Any) -> dict[str, Any]:
    """image_recipe's network with a train: section.

    `train` keys are laid over the train section (2 epochs of batches of 6,
    a quarter held out, horizontal flips): the network the training tests
    train on `write_image_folder`'s three classes. `overrides` (dotted
    paths, as tiny_recipe's) are applied last.
    """
    section = {"batch_size": 6, "epochs": 2, "val_split": 0.25}
    section["augment"] = {"horizontal_flip": True}
    return image_recipe(**{"train": {**section, **train}, **(overrides or {})})


def run_registry(
    *args: Any,
    cwd: Path = ROOT,
    python: str = sys.executable,
    timeout: int = 600,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess:
    """`python -m registry *args` in a subprocess, this checkout first on the path, `env` added."""
    return subprocess.run(
        [python, "-m", "registry", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
    )


def write_recipe(path: Path, recipe: dict[str, Any]) -> Path:
    """`recipe` as a YAML file at `path`."""
    path.write_text(yaml.safe_dump(recipe, sort_keys=False))
    return path


CLASSES = ("horizontal", "plain", "vertical")
# (extension, PIL mode) cycled through the images of each class.
VARIANTS = (
    ("png", "RGB"),
    ("jpg", "RGB"),
    ("png", "L"),
    ("png", "RGBA"),
    ("bmp", "RGB"),
    ("jpeg", "L"),
)
PNG = (("png", "RGB"),)  # variants= for RGB PNGs only


def pattern(name: str, rng: np.random.Generator, size: int = 32) -> np.ndarray:
    """An RGB uint8 image: stripes across, stripes down, or flat, with noise and a random colour."""
    colour = rng.uniform(0.4, 1.0, 3)
    period = int(rng.integers(4, 9))
    phase = int(rng.integers(0, period))
    stripes = ((np.arange(size) + phase) // (period // 2)) % 2
    if name == "horizontal":
        base = np.repeat(stripes[:, None], size, axis=1).astype(float)
    elif name == "vertical":
        base = np.repeat(stripes[None, :], size, axis=0).astype(float)
    else:
        base = np.full((size, size), 0.5)
    image = base[..., None] * colour * 200 + 30 + rng.normal(0, 8, (size, size, 3))
    return np.clip(image, 0, 255).astype(np.uint8)


def write_image_folder(
    root: Path,
    per_class: int | dict[str, int],
    *,
    size: int = 32,
    seed: int = 0,
    classes=CLASSES,
    variants=VARIANTS,
) -> Path:
    """Writes `root/<class>/<i>.<ext>` images a small network learns in a few steps.

    Args:
        per_class: images in each class, or a count for each class name
            (then the names are the classes; a name not in CLASSES is
            drawn as "plain" with its own colour, so classes stay apart).
        size: the images' width and height.
        seed: the draw of colours, stripes and noise.
        classes: the class names, when per_class is a number.
        variants: (extension, PIL mode) pairs cycled through each class.
    """
    counts = per_class if isinstance(per_class, dict) else dict.fromkeys(classes, per_class)
    rng = np.random.default_rng(seed)
    for index, (name, count) in enumerate(counts.items()):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(count):
            ext, mode = variants[i % len(variants)]
            if name in CLASSES:
                pixels = pattern(name, rng, size)
            else:
                # One flat colour per class with noise: as quick to learn.
                noise = rng.normal(60 + 70 * index, 30, (size, size, 3))
                pixels = np.clip(noise, 0, 255).astype("uint8")
            Image.fromarray(pixels).convert(mode).save(root / name / f"{i:03d}.{ext}")
    return root


# The recipes on Inception-ResNet's stem (V1, V2, FaceNet's, timm's) need
# 75x75: their stem and reductions shrink a smaller map to nothing. The
# rest run at 32 (CIFAR-sized) or 64.
INCEPTION_STEM = "inception_res_net_stem"


def small_shape(name: str) -> tuple[int, int, int]:
    """The smallest input a shipped recipe is tested at: 75, 32 or 64 pixels square.

    With the recipe's own channels (1 for a grayscale recipe such as
    d2l_resnet18_fashion_mnist): the stem's weights depend on them.
    """
    recipe = load_recipe(name)
    if recipe.stem.block == INCEPTION_STEM:
        return (75, 75, 3)
    height, _, channels = recipe.input_shape
    side = 32 if height is not None and height <= 64 else 64
    return (side, side, channels or 3)


# What makes a test of a whole network slow is its depth: graph tracing,
# op-by-op execution on JAX and PyTorch, and the layers a file holds grow
# with it. Measured on the 2-core CI machine (build and one forward pass at
# the small input, tests/registry/assembly/test_recipes.py): the recipes of
# at most 17 blocks take 0.1 to 2.7 s, Wide ResNet-50-2's 69 M parameters
# included (2.7 s, against 1.8 to 2.4 s for the other 16-block ResNet-50s);
# from 21 blocks on (the 44- to 110-layer CIFAR nets, Inception-ResNet-V1
# and V2, every 101- and 152-layer ResNet) 1.8 to 7.5 s, and on JAX a
# 101-layer network costs twice a 50-layer one in every check.
MAX_BLOCKS = 20


def blocks(name: str) -> int:
    """The number of blocks of a recipe's stages: the sum of their repeats."""
    return sum(stage.repeats for stage in load_recipe(name).stages)


@dataclasses.dataclass(frozen=True)
class Measures:
    """What the tests read off a recipe's model at its small input, default classes.

    `params`: Keras' count_params (BN statistics included); `trainable`:
    what PyTorch's sum(p.numel()) counts; `layout`: see `layout`.
    """

    params: int
    trainable: int
    layout: frozenset[str]


@functools.cache
def measures(name: str) -> Measures:
    """A recipe's `Measures`, from one build per test run.

    `representatives()` measures every recipe that is not large while
    pytest collects; the count tests read the same measures, so the build
    they share is not repeated (a model kept in `built` would be evicted
    long before them).
    """
    model = build(name, input_shape=small_shape(name))
    classes = {type(layer) for layer in sublayers(model, recursive=True)}
    return Measures(
        model.count_params(),
        trainable_parameters(model),
        frozenset(c.__name__ for c in classes if c.__module__.startswith("resblocks.")),
    )


def parameters(name: str) -> int:
    """A recipe's parameter count (Keras' count, BN statistics included)."""
    return measures(name).params


@functools.cache
def is_large(name: str) -> bool:
    """Whether a recipe's tests of the whole network run in `make test-slow` only.

    Large: more than MAX_BLOCKS blocks. Read from the recipe alone, so that
    collecting a test parameterized by it builds nothing.
    """
    return blocks(name) > MAX_BLOCKS


def recipe_params(names=None, *, marks=()) -> list:
    """`pytest.param`s of recipe names (all shipped recipes by default), large ones marked slow.

    An entry may be a tuple whose first item is the recipe name, for a
    parametrization by `name, expected, ...`.
    """
    names = list_models() if names is None else names
    rows = [n if isinstance(n, tuple) else (n,) for n in names]
    return [
        pytest.param(
            *row,
            id="-".join(map(str, row)),
            marks=[*marks, pytest.mark.slow] if is_large(row[0]) else list(marks),
        )
        for row in rows
    ]


def layout(name: str) -> frozenset[str]:
    """A recipe's layout: the classes of resblocks layers it is made of, sublayers included.

    Two recipes of one layout run the same layers' code and differ only in
    depth, width or arguments (ResNet-50/101/152 of one family); a grouped
    convolution, a zero-padding shortcut or a channel gate makes another.
    Keras' own layers do not count: a dropout rate is an argument.
    """
    return measures(name).layout


def representatives(names=None) -> list[str]:
    """Few small recipes that between them use every resblocks layer class the others use.

    For the checks too costly to run on every recipe in `make test` (each
    recipe on three backends, each timm checkpoint): every layer class of a
    recipe that is not large runs there in at least one recipe. A greedy set
    cover: the recipe that adds the most classes not yet covered, the
    cheapest (fewest blocks, then parameters) among equals, until all are
    covered. `names` limits the choice to those recipes (all shipped ones
    by default).
    """
    small = [name for name in (list_models() if names is None else names) if not is_large(name)]
    small.sort(key=lambda n: (blocks(n), parameters(n), n))
    uncovered = set().union(*(layout(name) for name in small))
    chosen = []
    while uncovered:
        best = max(small, key=lambda n: len(layout(n) & uncovered))  # the first of the cheapest
        chosen.append(best)
        uncovered -= layout(best)
    return sorted(chosen)


def representative_params(names) -> list:
    """`pytest.param`s of `names`: the representatives of their layouts, the others marked slow."""
    shown = set(representatives(names))
    return [pytest.param(n, id=n, marks=[] if n in shown else [pytest.mark.slow]) for n in names]


def assert_keras_round_trip(layer, shape, tmp_path: Path, *, atol=1e-5, seed=1) -> None:
    """A layer alone in a model, saved as .keras and loaded with safe_mode=True, is the same.

    The same outputs (inference mode, within `atol`, on normal inputs of
    `shape` drawn with `seed`) and the same config.
    """
    inputs = keras.Input(shape)
    model = keras.Model(inputs, layer(inputs))
    model.save(tmp_path / "block.keras")
    loaded = keras.saving.load_model(tmp_path / "block.keras", safe_mode=True)
    x = np.random.default_rng(seed).normal(size=(2, *shape)).astype("float32")
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(loaded(x, training=False)),
        keras.ops.convert_to_numpy(model(x, training=False)),
        atol=atol,
    )
    assert loaded.layers[1].get_config() == model.layers[1].get_config()


def trainable_parameters(layer) -> int:
    """A model's or layer's trainable parameters: what PyTorch's sum(p.numel()) counts."""
    return sum(int(np.prod(w.shape)) for w in layer.trainable_weights)


def trainable_parameters_test(counts: dict[str, int]):
    """A test that each recipe of `counts` has that many trainable parameters.

    Parametrized by `recipe_params` (large recipes slow), each count read
    from the recipe's `measures`. A test module assigns it to its own test name, which
    keeps the counts beside what they document and the test ids per module:
    `test_trainable_parameters_equal_timms = trainable_parameters_test(TRAINABLE)`.
    """

    @pytest.mark.parametrize("name", recipe_params(list(counts)))
    def test(name):
        assert measures(name).trainable == counts[name]

    return test


# Built models kept for the whole run, oldest dropped first: 12 of the
# largest (ResNet-152 and the wide ResNets at their small input) fit in 3 GB.
KEEP = 12
_MODELS: collections.OrderedDict = collections.OrderedDict()


def built(name: str, **kwargs: Any):
    """The recipe's model (at its small input unless `input_shape` is given), built once per run.

    Shared by every test that only reads it (counts, summaries, profiles,
    diagrams, forward passes in inference mode): a test that changes
    weights, compiles or trains builds its own. `kwargs` go to `build`.
    """
    kwargs = {k: v for k, v in kwargs.items() if v is not None}  # None is build's default
    kwargs.setdefault("input_shape", small_shape(name))
    key = (name, repr(sorted(kwargs.items())))
    if key in _MODELS:
        _MODELS.move_to_end(key)
    else:
        _MODELS[key] = build(name, **kwargs)
        while len(_MODELS) > KEEP:
            _MODELS.popitem(last=False)
    return _MODELS[key]
