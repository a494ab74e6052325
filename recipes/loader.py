"""Deprecated: the recipe reader moved to `registry.recipe` (`files` and `strict_yaml`).

This module re-exports its old names for one release, with a DeprecationWarning.
"""

import warnings

from registry.recipe.files import (  # noqa: F401
    MAX_BASE_DEPTH,
    RECIPE_DIR,
    find_recipe,
    is_path,
    merge,
    read_recipe,
    recipe_names,
    resolve_bases,
)
from registry.recipe.strict_yaml import (  # noqa: F401
    MAX_ALIASES,
    MAX_BYTES,
    MAX_DEPTH,
    MAX_VALUES,
    load_yaml,
    parse_yaml,
)

warnings.warn(
    "recipes.loader moved to registry.recipe.files and registry.recipe.strict_yaml; "
    "the old module goes away in the next release.",
    DeprecationWarning,
    stacklevel=2,
)
