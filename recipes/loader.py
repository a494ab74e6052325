"""Reads recipe files: safe YAML only, and `base:` inheritance.

A recipe is data. It is parsed with YAML's safe loader (no Python tags),
duplicate keys are refused instead of silently keeping the last, the file
size and the number of aliases are capped so a hostile file cannot make
loading slow, and `base: NAME` merges the recipe onto another one.
"""

from pathlib import Path
from typing import Any

import yaml

from registry.errors import Problem, RecipeError, unknown_name_message

RECIPE_DIR = Path(__file__).resolve().parent
MAX_BYTES = 1 << 20  # a real recipe is a few kB
MAX_ALIASES = 100
MAX_BASE_DEPTH = 16


def recipe_names() -> list[str]:
    """Sorted names of the recipes shipped in this folder."""
    return sorted(path.stem for path in RECIPE_DIR.glob("*.yaml"))


def is_path(recipe: str) -> bool:
    """A string names a file if it has a YAML suffix or a path separator."""
    return recipe.endswith((".yaml", ".yml")) or "/" in recipe or "\\" in recipe


def find_recipe(recipe: str, relative_to: Path | None = None) -> Path:
    """The file of a recipe name (`resnet50`) or path (`my/net.yaml`)."""
    if is_path(recipe):
        path = Path(recipe).expanduser()
        if relative_to is not None and not path.is_absolute():
            path = relative_to / path
        if not path.is_file():
            raise RecipeError(
                str(path), f"no such file. Give the path of a .yaml recipe, or one of the names: {', '.join(recipe_names())}"
            )
        return path
    path = RECIPE_DIR / f"{recipe}.yaml"
    if not path.is_file():
        raise RecipeError(f"'{recipe}'", unknown_name_message("recipe", recipe, recipe_names()))
    return path


def read_recipe(recipe: str) -> tuple[dict[str, Any], str]:
    """Loads a recipe by name or path, with its bases merged in.

    Returns:
        The plain mapping and the source (the file's path) for messages.
    """
    path = find_recipe(recipe)
    return _read_with_bases(path, chain=[]), str(path)


def _read_with_bases(path: Path, chain: list[Path]) -> dict[str, Any]:
    resolved = path.resolve()
    if resolved in chain:
        cycle = " -> ".join(p.name for p in [*chain, resolved])
        raise RecipeError(str(chain[0]), Problem("base", f"the bases form a cycle: {cycle}. Remove one `base:`."))
    if len(chain) >= MAX_BASE_DEPTH:
        raise RecipeError(str(chain[0]), Problem("base", f"more than {MAX_BASE_DEPTH} levels of `base:`."))
    raw = load_yaml(path)
    base = raw.pop("base", None)
    if base is None:
        return raw
    if not isinstance(base, str):
        raise RecipeError(str(path), Problem("base", f"must be a recipe name or path. Received: {base!r}"))
    try:
        base_path = find_recipe(base, relative_to=path.parent)
    except RecipeError as error:
        raise RecipeError(str(path), Problem("base", str(error.problems[0]))) from None
    return merge(_read_with_bases(base_path, [*chain, resolved]), raw)


def merge(base: Any, update: Any) -> Any:
    """`update` laid over `base`.

    Mappings merge key by key. A list is replaced by a list, or patched item
    by item by a mapping of indices (`stages: {1: {repeats: 4}}`), so a
    derived recipe can change numbers only.
    """
    if isinstance(base, dict) and isinstance(update, dict):
        merged = dict(base)
        for key, value in update.items():
            merged[key] = merge(base[key], value) if key in base else value
        return merged
    if isinstance(base, list) and isinstance(update, dict) and all(isinstance(k, int) for k in update):
        merged = list(base)
        for index, value in update.items():
            if not -len(base) <= index < len(base):
                raise RecipeError("<base merge>", f"index {index} is out of range for a list of {len(base)} items.")
            merged[index] = merge(base[index], value)
        return merged
    return update


class _StrictLoader(yaml.SafeLoader):
    """Safe YAML that refuses duplicate keys and too many aliases."""

    def __init__(self, stream):
        super().__init__(stream)
        self.aliases = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise yaml.YAMLError(f"more than {MAX_ALIASES} aliases (*name); a recipe needs few or none")
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                raise yaml.YAMLError(
                    f"duplicate key {key!r} on line {key_node.start_mark.line + 1} "
                    f"(first on line {seen[key] + 1}); keep one"
                )
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep)


def load_yaml(path: Path) -> dict[str, Any]:
    """Parses one recipe file into a mapping, or raises RecipeError."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise RecipeError(str(path), f"the file is {size} bytes; a recipe may be at most {MAX_BYTES}.")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise RecipeError(str(path), f"cannot read the file: {error}") from None
    return parse_yaml(text, str(path))


def parse_yaml(text: str, source: str) -> dict[str, Any]:
    """Parses recipe text into a mapping, or raises RecipeError naming `source`."""
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as error:
        where = ""
        mark = getattr(error, "problem_mark", None)
        if mark is not None:
            where = f" (line {mark.line + 1}, column {mark.column + 1})"
        problem = getattr(error, "problem", None) or str(error)
        raise RecipeError(source, f"not valid recipe YAML{where}: {problem}. Recipes are plain YAML data: no Python tags.") from None
    if not isinstance(data, dict):
        raise RecipeError(source, f"the top level must be a mapping (name:, stem:, stages:, ...). Received: {type(data).__name__}")
    return data
