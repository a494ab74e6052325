"""Recipe files: finding them by name or path, reading them, and `base:` inheritance.

The shipped recipes are the YAML files of the top-level `recipes/` folder,
found beside the `registry` package (`RECIPE_DIR`); any other file is named by its path.
`base: NAME` merges a recipe onto another one (`merge`).
"""

from pathlib import Path
from typing import Any

from registry.errors import Problem, RecipeError, short_repr
from registry.names import filter_names, natural_sorted, unknown_name_message
from registry.recipe.strict_yaml import load_yaml
from registry.recipe.timm_names import PREFIX, TIMM_RECIPES, is_timm_name, timm_recipe

# The folder of the shipped YAML files: `recipes/`, installed beside the
# `registry` package (in the clone, and in site-packages). Found from this
# file, not by asking the import system for a top-level `recipes`: a user's
# own `recipes/` folder in the working directory would shadow that name.
RECIPE_DIR = Path(__file__).resolve().parents[2] / "recipes"
MAX_BASE_DEPTH = 16


def recipe_names() -> list[str]:
    """Names of the shipped recipes, in natural order (resnet18 before resnet101)."""
    return natural_sorted(path.stem for path in RECIPE_DIR.glob("*.yaml"))


def list_models(pattern: str | None = None, exclude: str | None = None) -> list[str]:
    """Names of the shipped recipes in natural order, filtered by fnmatch patterns.

    `list_models("resnet*")` starts resnet18, resnet34, resnet50, resnet101, resnet152.
    """
    return filter_names(recipe_names(), pattern, exclude)


def is_path(recipe: str) -> bool:
    """A string names a file if it has a YAML suffix or a path separator."""
    return recipe.endswith((".yaml", ".yml")) or "/" in recipe or "\\" in recipe


def find_recipe(recipe: str, relative_to: Path | None = None) -> Path:
    """The file of a recipe name (`resnet50`), timm name (`timm/resnet50`) or path (`my/net.yaml`).

    `timm/NAME` is the recipe of timm's NAME (`timm_names.TIMM_RECIPES`:
    `timm/resnet50` is `resnet50_tv`), unless a file of that path exists.
    """
    if is_timm_name(recipe) and not _is_file(Path(recipe).expanduser()):
        name = timm_recipe(recipe)
        if name is None:
            timm_names = [PREFIX + n for n in TIMM_RECIPES]
            raise RecipeError(
                short_repr(recipe),
                unknown_name_message(
                    "timm model", recipe, timm_names, listed="With a shipped recipe"
                )
                + " docs/reference/timm.md lists timm's ResNets, and why the others are left out.",
            )
        return RECIPE_DIR / f"{name}.yaml"
    if is_path(recipe):
        path = Path(recipe).expanduser()
        if relative_to is not None and not path.is_absolute():
            path = relative_to / path
        if _is_dir(path):
            raise RecipeError(
                str(path),
                "this is a directory, not a recipe file. Give the path of a .yaml file inside it.",
            )
        if not _is_file(path):
            raise RecipeError(
                str(path),
                "no such file. Give the path of a .yaml recipe, or one of the names: "
                f"{', '.join(recipe_names())}",
            )
        return path
    path = RECIPE_DIR / f"{recipe}.yaml"
    if not _is_file(path):
        raise RecipeError(
            short_repr(recipe), unknown_name_message("recipe", recipe, recipe_names())
        )
    return path


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except (OSError, ValueError):  # a name with a NUL byte, or too long
        return False


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except (OSError, ValueError):
        return False


def read_recipe(recipe: str) -> tuple[dict[str, Any], str]:
    """Loads a recipe by name or path, with its bases merged in.

    Returns:
        The plain mapping and the source (the file's path) for messages.
    """
    path = find_recipe(recipe)
    return _read_with_bases(path, chain=[]), str(path)


def resolve_bases(raw: dict[str, Any], source: str, relative_to: Path) -> dict[str, Any]:
    """Merges the `base:` of a recipe given as a mapping (paths relative to `relative_to`)."""
    raw = dict(raw)
    base = raw.pop("base", None)
    if base is None:
        return raw
    base_path = _find_base(base, source, relative_to)
    return merge(_read_with_bases(base_path, chain=[]), raw, source)


class _ChainError(RecipeError):
    """A problem of the whole chain of bases (a cycle), named from the first file."""


def _read_with_bases(path: Path, chain: list[Path]) -> dict[str, Any]:
    resolved = path.resolve()
    if resolved in chain:
        cycle = " -> ".join(p.name for p in [*chain, resolved])
        raise _ChainError(
            str(chain[0]), Problem("base", f"the bases form a cycle: {cycle}. Remove one `base:`.")
        )
    if len(chain) >= MAX_BASE_DEPTH:
        raise _ChainError(
            str(chain[0]),
            Problem(
                "base",
                f"more than {MAX_BASE_DEPTH} levels of `base:`. Derive from a recipe nearer the "
                "root.",
            ),
        )
    raw = load_yaml(path)
    _resolve_plugin_paths(raw, path.parent)
    base = raw.pop("base", None)
    if base is None:
        return raw
    base_path = _find_base(base, str(path), path.parent)
    try:
        base_raw = _read_with_bases(base_path, [*chain, resolved])
    except _ChainError:
        raise  # already names the first file and the whole chain
    except RecipeError as error:
        problems = [
            Problem("base", f"the base recipe {error.source} is invalid: {p}")
            for p in error.problems
        ]
        raise RecipeError(str(path), problems) from None
    return merge(base_raw, raw, str(path))


def _find_base(base: Any, source: str, relative_to: Path) -> Path:
    if not isinstance(base, str):
        raise RecipeError(
            source,
            Problem(
                "base",
                "must be a recipe name (resnet50) or a path (my/net.yaml). Received: "
                f"{short_repr(base)}",
            ),
        )
    try:
        return find_recipe(base, relative_to=relative_to)
    except RecipeError as error:
        raise RecipeError(source, Problem("base", f"{error.source}: {error.problems[0]}")) from None


def _resolve_plugin_paths(raw: dict[str, Any], folder: Path) -> None:
    """Makes `plugins:` file paths absolute, so they survive merging into another recipe."""
    plugins = raw.get("plugins")
    if isinstance(plugins, list):
        raw["plugins"] = [
            str(folder / p)
            if isinstance(p, str) and p.endswith(".py") and not Path(p).is_absolute()
            else p
            for p in plugins
        ]


def merge(base: Any, update: Any, source: str = "<recipe>", location: str = "") -> Any:
    """`update` laid over `base`.

    Mappings merge key by key. A list is replaced by a list, or patched item
    by item by a mapping of indices (`stages: {1: {repeats: 4}}`), so a
    derived recipe can change numbers only.
    """
    if isinstance(base, dict) and isinstance(update, dict):
        merged = dict(base)
        for key, value in update.items():
            where = f"{location}.{key}" if location else str(key)
            merged[key] = merge(base[key], value, source, where) if key in base else value
        return merged
    if isinstance(base, list) and isinstance(update, dict) and all(type(k) is int for k in update):
        merged = list(base)
        for index, value in update.items():
            if not -len(base) <= index < len(base):
                raise RecipeError(
                    source,
                    Problem(
                        f"{location}[{index}]",
                        f"the base recipe's {location or 'list'} has {len(base)} items, so index "
                        f"{index} does not exist. "
                        f"Patch an index from 0 to {len(base) - 1}, or give the whole list.",
                    ),
                )
            merged[index] = merge(base[index], value, source, f"{location}[{index}]")
        return merged
    return update
