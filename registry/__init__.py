"""registry: block names to Keras classes, validated recipes, and build().

    from registry import build, list_models, list_blocks, register_block
    model = build("resnet50", num_classes=5)

    from registry import train
    history = train("digits_demo", data="digits/train", out="runs/digits")
"""

import os

# TensorFlow's C++ start-up messages are noise on a command line; a value
# the user set wins.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from registry import builtins  # noqa: E402,F401  (registers the built-in blocks)
from registry.build import build, model_from_recipe
from registry.errors import Problem, RecipeError, WeightsError
from registry.imagenet import decode_predictions
from registry.preprocessing import input_convention, preprocess_input
from registry.profile import profile
from registry.recipe import Recipe, load_recipe, validate_recipe
from registry.registry import get_block, list_blocks, list_models, register_block
from registry.schema import recipe_schema
from registry.weights import load_model, load_weights


def train(recipe, **kwargs):
    """Trains a recipe on a folder of images; see `registry.training.run.train`.

    `history = registry.train("recipes/my_net.yaml", data="photos/", out="runs/photos")`
    returns the Keras History of the whole run. Imported on first use, so
    `import registry` does not load the input pipeline.
    """
    from registry.training.run import train as run_training

    return run_training(recipe, **kwargs)


__all__ = [
    "Problem",
    "Recipe",
    "RecipeError",
    "build",
    "decode_predictions",
    "get_block",
    "input_convention",
    "list_blocks",
    "list_models",
    "load_model",
    "load_recipe",
    "load_weights",
    "model_from_recipe",
    "preprocess_input",
    "profile",
    "recipe_schema",
    "register_block",
    "train",
    "validate_recipe",
    "WeightsError",
]
