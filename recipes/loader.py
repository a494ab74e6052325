"""Reads recipe files: safe YAML only, and `base:` inheritance.

A recipe is data. It is parsed with YAML's safe loader (no Python tags),
duplicate keys are refused instead of silently keeping the last, and the
file size, nesting depth and the number of values after expanding aliases
are capped, so a hostile file (a "billion laughs" alias bomb) fails in
milliseconds instead of eating the memory. `base: NAME` merges the recipe
onto another one.
"""

import re
from pathlib import Path
from typing import Any

import yaml

from registry.errors import Problem, RecipeError, short_repr, unknown_name_message

RECIPE_DIR = Path(__file__).resolve().parent
MAX_BYTES = 1 << 20  # a real recipe is a few kB
MAX_ALIASES = 100
MAX_VALUES = 100_000  # values after expanding aliases; a real recipe has a few hundred
MAX_DEPTH = 32  # nesting levels; a real recipe has four or five
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
        if _is_dir(path):
            raise RecipeError(str(path), "this is a directory, not a recipe file. Give the path of a .yaml file inside it.")
        if not _is_file(path):
            raise RecipeError(
                str(path), f"no such file. Give the path of a .yaml recipe, or one of the names: {', '.join(recipe_names())}"
            )
        return path
    path = RECIPE_DIR / f"{recipe}.yaml"
    if not _is_file(path):
        raise RecipeError(short_repr(recipe), unknown_name_message("recipe", recipe, recipe_names()))
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
        raise _ChainError(str(chain[0]), Problem("base", f"the bases form a cycle: {cycle}. Remove one `base:`."))
    if len(chain) >= MAX_BASE_DEPTH:
        raise _ChainError(str(chain[0]), Problem("base", f"more than {MAX_BASE_DEPTH} levels of `base:`. Derive from a recipe nearer the root."))
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
        problems = [Problem("base", f"the base recipe {error.source} is invalid: {p}") for p in error.problems]
        raise RecipeError(str(path), problems) from None
    return merge(base_raw, raw, str(path))


def _find_base(base: Any, source: str, relative_to: Path) -> Path:
    if not isinstance(base, str):
        raise RecipeError(source, Problem("base", f"must be a recipe name (resnet50) or a path (my/net.yaml). Received: {short_repr(base)}"))
    try:
        return find_recipe(base, relative_to=relative_to)
    except RecipeError as error:
        raise RecipeError(source, Problem("base", f"{error.source}: {error.problems[0]}")) from None


def _resolve_plugin_paths(raw: dict[str, Any], folder: Path) -> None:
    """Makes `plugins:` file paths absolute, so they survive merging into another recipe."""
    plugins = raw.get("plugins")
    if isinstance(plugins, list):
        raw["plugins"] = [
            str(folder / p) if isinstance(p, str) and p.endswith(".py") and not Path(p).is_absolute() else p
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
                        f"the base recipe's {location or 'list'} has {len(base)} items, so index {index} does not exist. "
                        f"Patch an index from 0 to {len(base) - 1}, or give the whole list.",
                    ),
                )
            merged[index] = merge(base[index], value, source, f"{location}[{index}]")
        return merged
    return update


class _StrictLoader(yaml.SafeLoader):
    """Safe YAML that refuses duplicate keys, merge keys and alias bombs."""

    def __init__(self, stream):
        super().__init__(stream)
        self.aliases = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                event = self.peek_event()
                raise yaml.MarkedYAMLError(
                    problem=f"more than {MAX_ALIASES} aliases (*name); a recipe needs few or none",
                    problem_mark=event.start_mark,
                )
        return super().compose_node(parent, index)

    # Nesting is refused while scanning: PyYAML's scanner slows down
    # quadratically with depth, and its composer recurses once per level.
    def fetch_flow_collection_start(self, TokenClass):
        if self.flow_level >= MAX_DEPTH:
            raise yaml.MarkedYAMLError(problem=f"values nested more than {MAX_DEPTH} levels deep", problem_mark=self.get_mark())
        super().fetch_flow_collection_start(TokenClass)

    def add_indent(self, column):
        if len(self.indents) >= MAX_DEPTH:
            raise yaml.MarkedYAMLError(problem=f"values nested more than {MAX_DEPTH} levels deep", problem_mark=self.get_mark())
        return super().add_indent(column)

    def get_single_node(self):
        node = super().get_single_node()
        if node is not None:
            _expanded_size(node, 0, {}, set())
        return node

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise yaml.MarkedYAMLError(
                    problem="merge keys (<<) are not supported; derive a recipe with `base:` instead",
                    problem_mark=key_node.start_mark,
                )
            key = self.construct_object(key_node, deep=True)
            try:
                repeated = key in seen
            except TypeError:  # a list or mapping used as a key
                raise yaml.MarkedYAMLError(
                    problem=f"a key must be a plain value (a name or a number), not a {type(key).__name__}",
                    problem_mark=key_node.start_mark,
                ) from None
            if repeated:
                raise yaml.MarkedYAMLError(
                    problem=f"duplicate key {short_repr(key)} on line {key_node.start_mark.line + 1} "
                    f"(first on line {seen[key] + 1}); keep one",
                    problem_mark=key_node.start_mark,
                )
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep)


# YAML 1.1 reads 1e-5 as text (it wants 1.0e-5); recipes mean the number.
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def _expanded_size(node: yaml.Node, depth: int, sizes: dict[int, int], open_nodes: set[int]) -> int:
    """Values in `node` with aliases expanded; refuses deep, huge or looping documents.

    Memoized per node, so an alias bomb is measured in the time it takes to
    read it, not the time it would take to expand it.
    """
    if isinstance(node, yaml.ScalarNode):
        return 1
    key = id(node)
    if key in sizes:
        return sizes[key]
    if depth >= MAX_DEPTH:
        raise yaml.MarkedYAMLError(problem=f"values nested more than {MAX_DEPTH} levels deep", problem_mark=node.start_mark)
    if key in open_nodes:
        raise yaml.MarkedYAMLError(problem="an alias refers to a value that contains it (a loop)", problem_mark=node.start_mark)
    open_nodes.add(key)
    children = node.value if isinstance(node, yaml.SequenceNode) else [n for pair in node.value for n in pair]
    total = 1
    for child in children:
        total += _expanded_size(child, depth + 1, sizes, open_nodes)
        if total > MAX_VALUES:
            raise yaml.MarkedYAMLError(
                problem=f"more than {MAX_VALUES:,} values once aliases are expanded (an alias bomb?); a recipe has a few hundred",
                problem_mark=node.start_mark,
            )
    open_nodes.discard(key)
    sizes[key] = total
    return total


def load_yaml(path: Path) -> dict[str, Any]:
    """Parses one recipe file into a mapping, or raises RecipeError."""
    try:
        if path.is_dir():
            raise RecipeError(str(path), "this is a directory, not a recipe file. Give the path of a .yaml file inside it.")
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise RecipeError(str(path), f"the file is {size:,} bytes; a recipe may be at most {MAX_BYTES:,}. Is this the right file?")
        data = path.read_bytes()
    except OSError as error:
        raise RecipeError(str(path), f"cannot read the file: {error.strerror or error}. Check the path and its permissions.") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise RecipeError(
            str(path),
            f"the file is not UTF-8 text: byte {data[error.start]:#04x} on line {line} "
            f"(byte {error.start}) cannot be decoded. "
            "Save it as UTF-8 (recipes are plain text files).",
        ) from None
    return parse_yaml(text, str(path))


def parse_yaml(text: str, source: str) -> dict[str, Any]:
    """Parses recipe text into a mapping, or raises RecipeError naming `source`."""
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as error:
        raise RecipeError(source, _yaml_problem(error)) from None
    except RecursionError:
        raise RecipeError(
            source, f"not valid recipe YAML: values nested too deeply; a recipe needs at most {MAX_DEPTH} levels."
        ) from None
    if data is None:
        raise RecipeError(source, "the file is empty. A recipe needs at least `name:`, `input_shape:`, `stem:` and `stages:` (see recipes/resnet18.yaml).")
    if not isinstance(data, dict):
        raise RecipeError(
            source,
            f"the top level must be a mapping (name:, input_shape:, stem:, stages:, ...). Received: a {type(data).__name__} "
            f"({short_repr(data)}). Write `key: value` lines, not `- item` lines.",
        )
    return data


def _yaml_problem(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
    problem = getattr(error, "problem", None) or str(error)
    if "constructor for the tag" in problem:
        fix = "Recipes are plain data, with no Python tags (!!python/...) or other custom tags: write the value itself."
    elif "duplicate key" in problem or "alias" in problem or "nested" in problem or "merge keys" in problem:
        fix = "Fix that line."
    else:
        fix = "Fix the YAML syntax there (indentation, brackets, quotes; tabs are not allowed)."
    return f"not valid recipe YAML{where}: {problem.rstrip('.')}. {fix}"
