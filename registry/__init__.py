"""registry: block names to Keras classes, validated recipes, and build().

    from registry import build, list_models, list_blocks, register_block
    model = build("resnet50", num_classes=5)

    from registry import train
    history = train("digits_demo", data="digits/train", out="runs/digits")
    history = train("resnet20_cifar", data="fashion_mnist", out="runs/fashion")

The sub-packages follow a recipe on its way to a model, lowest first:
`blocks` (the block table), `recipe` (the file format), `pretrained`
(weight files, labels, input conventions), `assembly` (build), then
`inspection`, `exercises` and `training`, and `cli` at the top. This module
only re-exports their public names.
"""

import importlib
import os

# TensorFlow's C++ start-up messages are noise on a command line; a value
# the user set wins.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# Each public name and the sub-package that defines it, imported on first
# use (PEP 562): `import registry` (and so the `resblocks` command line's
# --help, list and validate) does not load Keras and TensorFlow until a name
# that needs them is asked for.
_EXPORTS = {
    "build": "registry.assembly",
    "model_from_recipe": "registry.assembly",
    "get_block": "registry.blocks",
    "list_blocks": "registry.blocks",
    "register_block": "registry.blocks",
    "trial_blocks": "registry.blocks",
    "Problem": "registry.errors",
    "RecipeError": "registry.errors",
    "ResblocksError": "registry.errors",
    "WeightsError": "registry.errors",
    "grad_cam": "registry.inspection",
    "profile": "registry.inspection",
    "receptive_fields": "registry.inspection",
    "decode_predictions": "registry.pretrained",
    "input_convention": "registry.pretrained",
    "load_model": "registry.pretrained",
    "load_weights": "registry.pretrained",
    "preprocess_input": "registry.pretrained",
    "torch_state_dict": "registry.pretrained",
    "Recipe": "registry.recipe",
    "list_models": "registry.recipe",
    "load_recipe": "registry.recipe",
    "recipe_schema": "registry.recipe",
    "validate_recipe": "registry.recipe",
}


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'registry' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # the next look-up is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


def train(recipe, **kwargs):
    """Trains a recipe on images, a named data set or arrays; see `registry.training.run.train`.

    `history = registry.train("recipes/my_net.yaml", data="photos/", out="runs/photos")`
    returns the Keras History of the whole run; `data="fashion_mnist"` or
    `data=(x, y), val=(x_val, y_val)` train on a named set or on arrays.
    Imported on first use, so `import registry` does not load the input pipeline.
    """
    from registry.training.run import train as run_training

    return run_training(recipe, **kwargs)


def evaluate(model, data, **kwargs):
    """A trained model's accuracy, per class and confusion; see `registry.training.evaluate`.

    `registry.evaluate("runs/fashion", "fashion_mnist").report()` measures a
    named set's test split; `data` may also be a folder or `(x, y)` arrays.
    Imported on first use, like `train`.
    """
    from registry.training.evaluate import evaluate as run_evaluation

    return run_evaluation(model, data, **kwargs)


def export(model, path, format="savedmodel", **kwargs):
    """Exports a trained model, verified in its runtime; see `registry.deploy.exporting.export`.

    `registry.export("runs/sat/model.keras", "sat.onnx", format="onnx")` writes
    ONNX (or "savedmodel", "litert", "openvino") after checking it against
    Keras. Imported on first use, like `train`.
    """
    from registry.deploy.exporting import export as export_model

    return export_model(model, path, format, **kwargs)


__all__ = [
    "Problem",
    "Recipe",
    "RecipeError",
    "ResblocksError",
    "WeightsError",
    "build",
    "decode_predictions",
    "evaluate",
    "export",
    "get_block",
    "grad_cam",
    "input_convention",
    "list_blocks",
    "list_models",
    "load_model",
    "load_recipe",
    "load_weights",
    "model_from_recipe",
    "preprocess_input",
    "profile",
    "receptive_fields",
    "recipe_schema",
    "register_block",
    "torch_state_dict",
    "train",
    "trial_blocks",
    "validate_recipe",
]
