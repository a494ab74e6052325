"""Recipe text to a plain mapping: YAML's safe loader, made strict.

A recipe is data. It is parsed with YAML's safe loader (no Python tags),
duplicate keys are refused instead of silently keeping the last, and the
file size, nesting depth and the number of values after expanding aliases
are capped, so a hostile file (a "billion laughs" alias bomb) fails in
milliseconds instead of eating the memory. Every refusal carries its fix.
"""

import re
from pathlib import Path
from typing import Any

import yaml

from registry.errors import RecipeError, short_repr

MAX_BYTES = 1 << 20  # a real recipe is a few kB
MAX_ALIASES = 100
MAX_VALUES = 100_000  # values after expanding aliases; a real recipe has a few hundred
MAX_DEPTH = 32  # nesting levels; a real recipe has four or five

FIX_LINE = "Fix that line."
FIX_TAGS = (
    "Recipes are plain data, with no Python tags (!!python/...) or other custom tags: "
    "write the value itself."
)
FIX_SYNTAX = "Fix the YAML syntax there (indentation, brackets, quotes; tabs are not allowed)."


class RefusedYAML(yaml.MarkedYAMLError):
    """Valid YAML that a recipe may not hold (a tag, a duplicate key, an alias bomb), with its fix.

    Attributes:
        fix: str. What to write instead, for the message.
    """

    def __init__(self, problem: str, mark, fix: str = FIX_LINE):
        super().__init__(problem=problem, problem_mark=mark)
        self.fix = fix


class _StrictLoader(yaml.SafeLoader):
    """Safe YAML that refuses duplicate keys, merge keys, custom tags and alias bombs."""

    def __init__(self, stream):
        super().__init__(stream)
        self.aliases = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise RefusedYAML(
                    f"more than {MAX_ALIASES} aliases (*name); a recipe needs few or none",
                    event.start_mark,
                )
            if event.anchor not in self.anchors:
                raise RefusedYAML(f"found undefined alias {event.anchor!r}", event.start_mark)
        return super().compose_node(parent, index)

    # Nesting is refused while scanning: PyYAML's scanner slows down
    # quadratically with depth, and its composer recurses once per level.
    def fetch_flow_collection_start(self, TokenClass):
        if self.flow_level >= MAX_DEPTH:
            raise RefusedYAML(f"values nested more than {MAX_DEPTH} levels deep", self.get_mark())
        super().fetch_flow_collection_start(TokenClass)

    def add_indent(self, column):
        if len(self.indents) >= MAX_DEPTH:
            raise RefusedYAML(f"values nested more than {MAX_DEPTH} levels deep", self.get_mark())
        return super().add_indent(column)

    def get_single_node(self):
        node = super().get_single_node()
        if node is not None:
            _expanded_size(node, 0, {}, set())
        return node

    def construct_undefined(self, node):
        raise RefusedYAML(
            f"could not determine a constructor for the tag {node.tag!r}", node.start_mark, FIX_TAGS
        )

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise RefusedYAML(
                    "merge keys (<<) are not supported; derive a recipe with `base:` instead",
                    key_node.start_mark,
                )
            key = self.construct_object(key_node, deep=True)
            try:
                repeated = key in seen
            except TypeError:  # a list or mapping used as a key
                raise RefusedYAML(
                    f"a key must be a plain value (a name or a number), not a {type(key).__name__}",
                    key_node.start_mark,
                    FIX_SYNTAX,
                ) from None
            if repeated:
                raise RefusedYAML(
                    f"duplicate key {short_repr(key)} on line {key_node.start_mark.line + 1} "
                    f"(first on line {seen[key] + 1}); keep one",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep)


_StrictLoader.add_constructor(None, _StrictLoader.construct_undefined)

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
        raise RefusedYAML(f"values nested more than {MAX_DEPTH} levels deep", node.start_mark)
    if key in open_nodes:
        raise RefusedYAML("an alias refers to a value that contains it (a loop)", node.start_mark)
    open_nodes.add(key)
    children = (
        node.value
        if isinstance(node, yaml.SequenceNode)
        else [n for pair in node.value for n in pair]
    )
    total = 1
    for child in children:
        total += _expanded_size(child, depth + 1, sizes, open_nodes)
        if total > MAX_VALUES:
            raise RefusedYAML(
                f"more than {MAX_VALUES:,} values once aliases are expanded (an alias bomb?); a "
                "recipe has a few hundred",
                node.start_mark,
            )
    open_nodes.discard(key)
    sizes[key] = total
    return total


def load_yaml(path: Path) -> dict[str, Any]:
    """Parses one recipe file into a mapping, or raises RecipeError."""
    try:
        if path.is_dir():
            raise RecipeError(
                str(path),
                "this is a directory, not a recipe file. Give the path of a .yaml file inside it.",
            )
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise RecipeError(
                str(path),
                f"the file is {size:,} bytes; a recipe may be at most {MAX_BYTES:,}. Is this the "
                "right file?",
            )
        data = path.read_bytes()
    except OSError as error:
        raise RecipeError(
            str(path),
            f"cannot read the file: {error.strerror or error}. Check the path and its permissions.",
        ) from None
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
            source,
            f"not valid recipe YAML: values nested too deeply; a recipe needs at most {MAX_DEPTH} "
            "levels.",
        ) from None
    if data is None:
        raise RecipeError(
            source,
            "the file is empty. A recipe needs at least `name:`, `input_shape:`, `stem:` and "
            "`stages:` (see recipes/resnet18.yaml).",
        )
    if not isinstance(data, dict):
        raise RecipeError(
            source,
            "the top level must be a mapping (name:, input_shape:, stem:, stages:, ...). "
            f"Received: a {type(data).__name__} "
            f"({short_repr(data)}). Write `key: value` lines, not `- item` lines.",
        )
    return data


def _yaml_problem(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
    problem = getattr(error, "problem", None) or str(error)
    fix = error.fix if isinstance(error, RefusedYAML) else FIX_SYNTAX
    return f"not valid recipe YAML{where}: {problem.rstrip('.')}. {fix}"
