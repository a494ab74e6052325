"""registry: block names to Keras classes, validated recipes, and build().

    from registry import build, list_models, list_blocks, register_block
    model = build("resnet50", num_classes=5)
"""

import registry.builtins  # noqa: F401  (registers the built-in blocks)
from registry.build import build, model_from_recipe
from registry.errors import Problem, RecipeError, WeightsError
from registry.recipe import Recipe, load_recipe, validate_recipe
from registry.registry import get_block, list_blocks, list_models, register_block
from registry.schema import recipe_schema
from registry.weights import load_model, load_weights


__all__ = [
    "Problem",
    "Recipe",
    "RecipeError",
    "build",
    "get_block",
    "list_blocks",
    "list_models",
    "load_model",
    "load_recipe",
    "load_weights",
    "model_from_recipe",
    "recipe_schema",
    "register_block",
    "validate_recipe",
    "WeightsError",
]
