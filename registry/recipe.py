"""From a recipe (name, file, mapping) to a validated `Recipe`.

Two passes, so every error has a precise location: the file's structure is
checked by `registry.specs`, then each block's arguments by that block's
own argument model (`stages[2].filters`).
"""

import copy
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from recipes.loader import read_recipe
from registry.errors import Problem, RecipeError, unknown_name_message
from registry.registry import Entry, get_block, list_blocks
from registry.specs import BlockCall, RecipeSpec, ReferenceSpec
from registry.training.spec import TrainSpec


@dataclass(frozen=True)
class Call:
    """A block of the recipe: registry name, class, validated arguments."""

    block: str
    cls: type
    args: dict[str, Any]
    location: str


@dataclass(frozen=True)
class Stage:
    """A run of `repeats` blocks of one kind, named `layer_names`."""

    call: Call
    repeats: int
    name: str
    tap: str | None
    layer_names: list[str]


@dataclass(frozen=True)
class Recipe:
    """A validated recipe, ready to build."""

    name: str
    source: str
    raw: dict[str, Any] = field(repr=False)
    input_shape: tuple[int | None, ...]
    stem: Call
    stem_tap: str | None
    stages: list[Stage]
    head: Call | None
    preprocessing: str = "none"
    train: TrainSpec | None = None
    references: list[ReferenceSpec] = field(default_factory=list)

    @property
    def taps(self) -> dict[str, str]:
        """Feature name -> the layer whose output it is."""
        taps = {self.stem_tap: "stem"} if self.stem_tap else {}
        taps.update({s.tap: s.layer_names[-1] for s in self.stages if s.tap})
        return taps


def load_recipe(
    recipe: "str | Path | Mapping | Recipe",
    *,
    overrides: Mapping[str, Any] | None = None,
    num_classes: int | None = None,
    input_shape: "tuple | list | None" = None,
) -> Recipe:
    """Reads and validates a recipe, with overrides applied first.

    Args:
        recipe: a recipe name (`"resnet50"`), a path to a YAML file, a
            mapping, or an already loaded `Recipe`.
        overrides: dotted paths to values, e.g. `{"stages.0.block": "res_block"}`.
        num_classes: shorthand for `{"head.num_classes": n}`.
        input_shape: shorthand for `{"input_shape": [h, w, c]}`.

    Raises:
        RecipeError: naming the source, the location and the fix.
    """
    raw, source = _raw(recipe)
    overrides = dict(overrides or {})
    if num_classes is not None:
        if raw.get("head") is None:
            raise RecipeError(source, Problem("head", "num_classes was given, but the recipe has no head. Add `head: {block: classifier}`."))
        overrides["head.num_classes"] = num_classes
    if input_shape is not None:
        overrides["input_shape"] = list(input_shape)
    for path, value in overrides.items():
        set_path(raw, path, value, source)
    return validate_recipe(raw, source)


def _raw(recipe) -> tuple[dict[str, Any], str]:
    if isinstance(recipe, Recipe):
        return copy.deepcopy(recipe.raw), recipe.source
    if isinstance(recipe, Path):
        recipe = str(recipe)
    if isinstance(recipe, str):
        return read_recipe(recipe)
    if isinstance(recipe, Mapping):
        return copy.deepcopy(dict(recipe)), "<recipe given in code>"
    raise TypeError(
        "A recipe must be a name, a path, a mapping or a Recipe. "
        f"Received: {type(recipe).__name__}"
    )


def set_path(raw: dict[str, Any], path: str, value: Any, source: str) -> None:
    """Sets `raw["stages"][0]["block"] = value` for `path="stages.0.block"`."""
    where = f"overrides[{path!r}]"
    node: Any = raw
    keys = path.split(".")
    for depth, key in enumerate(keys):
        last = depth == len(keys) - 1
        if isinstance(node, list):
            if not (key.lstrip("-").isdigit() and -len(node) <= int(key) < len(node)):
                raise RecipeError(source, Problem(where, f"'{key}' is not an index of {'.'.join(keys[:depth])}, which has {len(node)} items (0 to {len(node) - 1})."))
            key = int(key)
        elif not isinstance(node, dict):
            raise RecipeError(source, Problem(where, f"{'.'.join(keys[:depth])} is a {type(node).__name__}, not a mapping or list."))
        if last:
            node[key] = value
        else:
            if isinstance(node, dict) and node.get(key) is None:
                node[key] = {}
            node = node[key]


def validate_recipe(raw: Mapping[str, Any], source: str = "<recipe given in code>") -> Recipe:
    """Validates a plain recipe mapping into a `Recipe`, or raises RecipeError."""
    try:
        spec = RecipeSpec.model_validate(raw)
    except ValidationError as error:
        raise RecipeError(source, problems_of(error, "", RecipeSpec)) from None

    problems: list[Problem] = []
    used_defaults: set[str] = set()
    stem = _call(spec.stem, "stem", ("stem", "block"), spec.defaults, used_defaults, problems)
    stages = []
    for i, stage in enumerate(spec.stages):
        call = _call(stage, f"stages[{i}]", ("block", "stem"), spec.defaults, used_defaults, problems)
        name = stage.name or f"stage{i + 1}"
        stages.append(Stage(call, stage.repeats, name, stage.tap, _layer_names(name, stage.repeats)))
    head = _call(spec.head, "head", ("head",), {}, set(), problems) if spec.head else None

    for key in sorted(set(spec.defaults) - used_defaults):
        problems.append(Problem(f"defaults.{key}", f"no block of this recipe takes an argument '{key}'. Remove it or fix its spelling."))
    _check_unique("tap", [("stem.tap", spec.stem.tap)] + [(f"stages[{i}].tap", s.tap) for i, s in enumerate(stages)], problems)
    _check_unique("layer name", [("stem", "stem")] + [(f"stages[{i}].name", n) for i, s in enumerate(stages) for n in s.layer_names], problems)
    if problems:
        raise RecipeError(source, problems)
    return Recipe(
        name=spec.name,
        source=source,
        raw=copy.deepcopy(dict(raw)),
        input_shape=tuple(spec.input_shape),
        stem=stem,
        stem_tap=spec.stem.tap,
        stages=stages,
        head=head,
        preprocessing=spec.preprocessing,
        train=spec.train,
        references=list(spec.references),
    )


def _call(spec: BlockCall, location: str, kinds, defaults, used_defaults, problems) -> Call | None:
    """Looks up the block and validates its arguments; records problems."""
    try:
        entry: Entry = get_block(spec.block)
    except ValueError:
        allowed = [n for kind in kinds for n in list_blocks(kind=kind)]
        problems.append(Problem(f"{location}.block", unknown_name_message("block", spec.block, allowed)))
        return None
    if entry.kind not in kinds:
        allowed = [n for kind in kinds for n in list_blocks(kind=kind)]
        problems.append(Problem(f"{location}.block", f"'{spec.block}' is a {entry.kind}, which cannot be used here. Use one of: {', '.join(sorted(allowed))}"))
        return None
    fields = entry.args.model_fields
    given = {k: v for k, v in defaults.items() if k in fields}
    used_defaults.update(given)
    given.update(spec.args)
    try:
        args = entry.args.model_validate(given)
    except ValidationError as error:
        problems.extend(problems_of(error, location, entry.args, block=spec.block))
        return None
    return Call(spec.block, entry.cls, args.model_dump(exclude_unset=True), location)


def _layer_names(name: str, repeats: int) -> list[str]:
    """`conv2` x3 -> conv2_block1..3; `block35_{index}` x2 -> block35_1, block35_2."""
    if "{index}" in name:
        return [name.replace("{index}", str(j + 1)) for j in range(repeats)]
    if repeats == 1:
        return [name]
    return [f"{name}_block{j + 1}" for j in range(repeats)]


def _check_unique(what: str, located: list[tuple[str, str | None]], problems: list[Problem]) -> None:
    seen: dict[str, str] = {}
    for location, value in located:
        if value is None:
            continue
        if value in seen:
            problems.append(Problem(location, f"the {what} '{value}' is already used at {seen[value]}; each must be unique."))
        else:
            seen[value] = location


def problems_of(error: ValidationError, prefix: str, model: type[BaseModel], block: str | None = None) -> list[Problem]:
    """Turns pydantic's errors into located, Keras-worded problems."""
    problems = []
    for item in error.errors():
        loc, inner = _walk(model, item["loc"])
        location = _location(prefix, loc)
        field_name = loc[-1] if loc else ""
        kind = item["type"]
        if kind == "extra_forbidden":
            if block:
                message = unknown_name_message("argument", field_name, list(inner.model_fields), f" for block '{block}'", "Its arguments")
            else:
                message = unknown_name_message("key", field_name, list(inner.model_fields), listed="Valid keys")
        elif kind == "missing":
            message = f"required {'argument' if block else 'key'} '{field_name}' is missing."
        elif kind == "value_error":
            # Our validators word their own message, value included.
            message = item["msg"].removeprefix("Value error, ")
        else:
            message = f"{item['msg']}. Received: {item['input']!r}"
        problems.append(Problem(location, message))
    return problems


def _walk(model: type[BaseModel], loc: tuple) -> tuple[tuple, type[BaseModel]]:
    """Follows `loc` through nested models.

    Returns the location without the tags pydantic adds for tagged unions
    (`train.optimizer.sgd.momentum` -> `train.optimizer.momentum`) and the
    model whose key the last part is, so an unknown key lists its siblings.
    """
    clean: list = []
    current: type[BaseModel] | None = model
    holder: type[BaseModel] = model
    i = 0
    while i < len(loc):
        part = loc[i]
        clean.append(part)
        i += 1
        if current is None:
            continue
        if isinstance(part, int):
            continue
        holder = current
        field = current.model_fields.get(part)
        candidates = _models_in(field.annotation) if field is not None else []
        current = candidates[0] if len(candidates) == 1 else None
        if len(candidates) > 1 and i < len(loc):
            tag = loc[i]
            tagged = [m for m in candidates if _tag_of(m, tag)]
            if tagged:
                current = tagged[0]
                i += 1  # the tag is not a key of the file
    return tuple(clean), holder


def _tag_of(model: type[BaseModel], tag) -> bool:
    field = model.model_fields.get("name")
    return field is not None and tag in typing.get_args(field.annotation)


def _models_in(annotation) -> list[type[BaseModel]]:
    """The pydantic models an annotation can hold (through Optional, lists, Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found = []
    for arg in typing.get_args(annotation):
        for m in _models_in(arg):
            if m not in found:
                found.append(m)
    return found


def _location(prefix: str, loc: tuple) -> str:
    """('stages', 2, 'repeats') -> 'stages[2].repeats'."""
    text = prefix
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text
