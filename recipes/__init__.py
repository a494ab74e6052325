"""The declarative recipe files (YAML) and the loader that reads them."""

from recipes.loader import RECIPE_DIR, find_recipe, read_recipe, recipe_names

__all__ = ["RECIPE_DIR", "find_recipe", "read_recipe", "recipe_names"]
