"""Exercise own_block: write a residual block, register it, and use it in a recipe.

The student's Python file defines a Keras layer (squeeze-and-excitation or
pre-activation, their choice), registers it with `@register_block`, and
sets `RECIPE` to a recipe that uses it. The checker builds and runs the
recipe, round-trips the block's config, and tests that it is residual:
with every weight at zero, F(x) = 0, so the block must pass x through.
"""

import importlib.util
import itertools
import sys
import traceback
from pathlib import Path

import numpy as np

from registry.assembly import build
from registry.blocks import get_block, list_blocks, trial_blocks
from registry.exercises.worksheet import Fail, recipe_from

TITLE = (
    "Write and register your own block (squeeze-and-excitation or pre-activation) "
    "and use it in a recipe"
)
STARTER = "starter.py"

_loads = itertools.count()


def check(path: Path) -> str:
    # Blocks the file registers are forgotten after, so a file can be checked twice.
    with trial_blocks():
        before = set(list_blocks())
        module = _run(path)
        new = [name for name in list_blocks() if name not in before]
        if not new:
            raise Fail(
                f"{path.name} registers no new block.",
                'Decorate your class with @register_block("your_block_name") (from registry '
                "import register_block).",
            )
        if not hasattr(module, "RECIPE"):
            raise Fail(
                f"{path.name} has no RECIPE.",
                "Set RECIPE = {'base': 'resnet20_cifar', 'name': ..., 'stages': {...}} at the end "
                "of the file.",
            )
        recipe = recipe_from(module.RECIPE, "RECIPE", path.parent)
        stages = [stage for stage in recipe.stages if stage.call.block in new]
        if not stages:
            raise Fail(
                f"RECIPE does not use your block ({', '.join(new)}): its stages use "
                f"{', '.join(sorted({s.call.block for s in recipe.stages}))}.",
                "Patch the stages of the base recipe by index: `'stages': {0: {'block': '"
                + new[0]
                + "'}, ...}`.",
            )
        model = _build(recipe)
        block = _keeps_shape(model, stages)
        _check_config(block)
        _check_residual(block)
        cls = get_block(stages[0].call.block).cls
        return (
            f"{cls.__name__} is registered as '{stages[0].call.block}', builds in {recipe.name} "
            f"({model.count_params():,} parameters), saves its config, and passes x through when "
            "F(x) = 0."
        )


def _run(path: Path):
    """Imports the student's file as a fresh module; its errors become a Fail."""
    name = f"_exercise_own_block_{next(_loads)}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise Fail(
            f"cannot import {path}: it must be a Python file ending in .py.",
            "Copy starter.py and edit the copy.",
        )
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as error:  # noqa: BLE001 - the student's code may raise anything
        lines = [
            frame.lineno
            for frame in traceback.extract_tb(error.__traceback__)
            if frame.filename == str(path)
        ]
        where = f" (line {lines[-1]})" if lines else ""
        raise Fail(
            f"{path.name}{where} raised {type(error).__name__}: {error}",
            f"Run `python {path.name}` to see the whole traceback.",
        ) from None
    finally:
        sys.modules.pop(name, None)
    return module


def _build(recipe):
    try:
        model = build(recipe)
        images = np.random.default_rng(0).uniform(0, 1, (2, *recipe.input_shape)).astype("float32")
        output = np.asarray(model(images, training=False))
    except Exception as error:  # noqa: BLE001 - a broken block fails in Keras, anywhere
        raise Fail(
            f"RECIPE does not build and run: {type(error).__name__}: {error}",
            "Check build() and compute_output_shape() of your block against its call(): the "
            "shapes must agree.",
        ) from None
    if not np.all(np.isfinite(output)):
        raise Fail(
            "the network's output holds NaN or infinity.",
            "Look for a division or a missing activation in call().",
        )
    return model


def _keeps_shape(model, stages):
    """A built block of the student's kind whose output has its input's shape."""
    for stage in stages:
        for name in stage.layer_names:
            layer = model.get_layer(name)
            if tuple(layer.input.shape) == tuple(layer.output.shape):
                return layer
    raise Fail(
        "no block of your kind keeps its input's shape, so the identity shortcut cannot be tested.",
        "Use your block in a stage with `repeats: 2` or more: the blocks after the first keep the "
        "shape.",
    )


def _check_config(layer) -> None:
    try:
        config = layer.get_config()
        clone = type(layer).from_config(config)
        same = clone.get_config() == config
    except Exception as error:  # noqa: BLE001 - a broken get_config fails anywhere
        raise Fail(
            f"{type(layer).__name__}.from_config(layer.get_config()) fails: "
            f"{type(error).__name__}: {error}",
            "get_config() must return {**super().get_config(), ...} with every argument of "
            "__init__, so Keras can save and load the block.",
        ) from None
    if not same:
        raise Fail(
            f"{type(layer).__name__}: a copy made from get_config() has a different config.",
            "Keep one attribute per __init__ argument and return exactly those from get_config().",
        )


def _check_residual(layer) -> None:
    """With all weights zero, F(x) = 0: a residual block outputs x (for x >= 0)."""
    shape = tuple(layer.input.shape[1:])
    x = np.random.default_rng(1).uniform(0.1, 1, (2, *shape)).astype("float32")
    clone = type(layer).from_config(layer.get_config())
    clone(x, training=False)  # creates every weight, also of children built lazily
    for weight in clone.weights:
        weight.assign(np.zeros(weight.shape, dtype=weight.dtype))
    y = np.asarray(clone(x, training=False))
    if not np.allclose(y, x, atol=1e-5):
        raise Fail(
            f"with all its weights at zero, {type(layer).__name__} outputs values around "
            f"{float(np.mean(y)):.3g}, "
            f"not its input (around {float(np.mean(x)):.3g}).",
            "A residual block computes H(x) = F(x) + x: with F = 0 it must give x back. Add the "
            "shortcut in call(): "
            "`return self.act(y + identity)`.",
        )
