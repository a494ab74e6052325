"""load_recipe(): a name, a file or a mapping, with overrides, to a validated `Recipe`.

Read (`files`), override (dotted paths written into the mapping, so they
are validated like the file itself), import the recipe's plugins if
allowed (`plugins`), validate (`validate`).
"""

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from registry.errors import Problem, RecipeError, short_repr
from registry.recipe import files
from registry.recipe.plugins import check_plugins, import_plugins
from registry.recipe.validate import Recipe, validate_recipe


def load_recipe(
    recipe: "str | Path | Mapping | Recipe",
    *,
    overrides: Mapping[str, Any] | None = None,
    num_classes: int | None = None,
    input_shape: "tuple | list | None" = None,
    allow_plugins: bool = False,
    drop_path_rate: float | None = None,
    zero_init_last: bool | None = None,
    output_stride: int | None = None,
) -> Recipe:
    """Reads and validates a recipe, with overrides applied first.

    Args:
        recipe: a recipe name (`"resnet50"`), a path to a YAML file, a
            mapping, or an already loaded `Recipe`.
        overrides: dotted paths to values, e.g. `{"stages.0.block": "res_block"}`.
        num_classes: shorthand for `{"head.num_classes": n}`.
        input_shape: shorthand for `{"input_shape": [h, w, c]}`.
        drop_path_rate, zero_init_last, output_stride: shorthands for the
            recipe keys of the same names.
        allow_plugins: bool. Import the Python modules the recipe lists under
            `plugins:` (they register custom blocks). False refuses a recipe
            that has any: a plugin is code, and runs with your rights.

    Raises:
        RecipeError: naming the source, the location and the fix.
    """
    raw, source = _raw(recipe)
    # A Recipe's own plugins were allowed (and imported) when it was loaded.
    trusted = set(raw.get("plugins") or []) if isinstance(recipe, Recipe) else set()
    network = {
        "drop_path_rate": drop_path_rate,
        "zero_init_last": zero_init_last,
        "output_stride": output_stride,
    }
    changes = _overrides(overrides, num_classes, input_shape, raw, source)
    changes.update({key: value for key, value in network.items() if value is not None})
    for path, value in changes.items():
        set_path(raw, path, value, source)
    plugins = check_plugins(raw.get("plugins"), source)
    import_plugins([p for p in plugins if p not in trusted], source, allowed=allow_plugins)
    return validate_recipe(raw, source)


def _raw(recipe) -> tuple[dict[str, Any], str]:
    if isinstance(recipe, Recipe):
        return copy.deepcopy(recipe.raw), recipe.source
    if isinstance(recipe, Path):
        recipe = str(recipe)
    if isinstance(recipe, str):
        return files.read_recipe(recipe)
    source = "<recipe given in code>"
    if isinstance(recipe, Mapping):
        return files.resolve_bases(copy.deepcopy(dict(recipe)), source, Path.cwd()), source
    raise RecipeError(
        source,
        (
            "a recipe must be a name (resnet50), a path to a .yaml file, a mapping or a Recipe. "
            f"Received: a {type(recipe).__name__} ({short_repr(recipe)})."
        ),
    )


def _overrides(overrides, num_classes, input_shape, raw, source) -> dict[str, Any]:
    """All changes to apply, as dotted paths to values."""
    if overrides is None:
        overrides = {}
    if not isinstance(overrides, Mapping) or not all(isinstance(k, str) for k in overrides):
        raise RecipeError(
            source,
            Problem(
                "overrides",
                (
                    "must be a mapping of dotted paths to values, e.g. {'stages.0.block': "
                    "'res_block'}. "
                    f"Received: {short_repr(overrides)}"
                ),
            ),
        )
    changes = dict(overrides)
    if num_classes is not None:
        if raw.get("head") is None:
            raise RecipeError(
                source,
                Problem(
                    "head",
                    "num_classes was given, but the recipe has no head. Add `head: {block: "
                    "classifier}`.",
                ),
            )
        changes["head.num_classes"] = num_classes
    if input_shape is not None:
        changes["input_shape"] = (
            list(input_shape) if isinstance(input_shape, (list, tuple)) else input_shape
        )
    return changes


def set_path(raw: dict[str, Any], path: str, value: Any, source: str) -> None:
    """Sets `raw["stages"][0]["block"] = value` for `path="stages.0.block"`."""
    where = f"overrides[{path!r}]"
    node: Any = raw
    keys = path.split(".")
    if not all(keys):
        raise RecipeError(
            source,
            Problem(
                where,
                "a path is keys joined by dots, with no empty part, e.g. 'stages.0.filters'. Fix "
                "the path.",
            ),
        )
    for depth, key in enumerate(keys):
        last = depth == len(keys) - 1
        parent = ".".join(keys[:depth])
        if isinstance(node, list):
            if not (key.lstrip("-").isdigit() and -len(node) <= int(key) < len(node)):
                raise RecipeError(
                    source,
                    Problem(
                        where,
                        (
                            f"'{key}' is not an index of {parent}, which has {len(node)} items. "
                            f"Use an index from 0 to {len(node) - 1}."
                        ),
                    ),
                )
            key = int(key)
        elif not isinstance(node, dict):
            raise RecipeError(
                source,
                Problem(
                    where,
                    (
                        f"{parent} is {short_repr(node)}, a {type(node).__name__}, which has no "
                        f"'{key}'. "
                        f"Override '{parent}' itself, or fix the path."
                    ),
                ),
            )
        if last:
            node[key] = value
        else:
            if isinstance(node, dict) and node.get(key) is None:
                node[key] = {}
            node = node[key]
