"""The shipped recipe files: one YAML file per network. Data only.

Their reader is `registry.recipe` (`load_recipe`, `read_recipe`,
`list_models`). The names this package used to export (`RECIPE_DIR`,
`find_recipe`, `read_recipe`, `recipe_names`) still work, with a
DeprecationWarning, for one release.
"""

import warnings

_MOVED = ("RECIPE_DIR", "find_recipe", "read_recipe", "recipe_names")


def __getattr__(name: str):
    if name in _MOVED:
        warnings.warn(
            f"recipes.{name} moved to registry.recipe.{name}; the old name goes away in the next "
            "release.",
            DeprecationWarning,
            stacklevel=2,
        )
        from registry.recipe import files

        value = globals()[name] = getattr(files, name)  # warned once
        return value
    raise AttributeError(f"module 'recipes' has no attribute {name!r}")
