"""The recipe format: reading files, the schema, validation, overrides, plugins, JSON Schema.

    from registry.recipe import load_recipe
    recipe = load_recipe("resnet50", num_classes=5)   # a validated Recipe

| module | holds |
| --- | --- |
| `strict_yaml` | recipe text to a mapping: safe YAML; duplicate keys, tags, alias bombs refused |
| `files` | shipped recipes by name, files by path, `base:` inheritance (`merge`), `list_models` |
| `spec`, `train_spec` | the pydantic structure of a recipe file and of its `train:` section |
| `messages` | pydantic's errors reworded as located problems with a fix |
| `validate` | `validate_recipe` -> `Recipe` (its stages, calls and taps) |
| `load` | `load_recipe`: name or file or mapping, overrides, plugins, validation |
| `plugins` | a recipe's `plugins:`, imported only when allowed |
| `json_schema` | `recipe_schema()` for editors |
"""

from registry.recipe.files import RECIPE_DIR, find_recipe, list_models, read_recipe, recipe_names
from registry.recipe.json_schema import recipe_schema
from registry.recipe.load import load_recipe, set_path
from registry.recipe.validate import (
    RESERVED_LAYER_NAMES,
    RESERVED_TAPS,
    Call,
    Recipe,
    Stage,
    validate_recipe,
)

__all__ = [
    "RECIPE_DIR",
    "RESERVED_LAYER_NAMES",
    "RESERVED_TAPS",
    "Call",
    "Recipe",
    "Stage",
    "find_recipe",
    "list_models",
    "load_recipe",
    "read_recipe",
    "recipe_names",
    "recipe_schema",
    "set_path",
    "validate_recipe",
]
