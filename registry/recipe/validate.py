"""A recipe mapping to a validated `Recipe`: every problem found, each at its location.

Two passes, so every error has a precise location: the file's structure is
checked against `spec.RecipeSpec`, then each block's arguments against that
block's own argument model (`stages[2].filters`).
"""

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from registry.blocks import Entry, get_block, list_blocks
from registry.errors import Problem, RecipeError, short_repr
from registry.names import unknown_name_message
from registry.recipe.messages import problems_of
from registry.recipe.spec import BlockCall, RecipeSpec, ReferenceSpec, StageSpec
from registry.recipe.train_spec import TrainSpec


@dataclass(frozen=True)
class Call:
    """A block of the recipe: registry name, table entry, validated arguments.

    A block of a stage's `per_block` has `location` `stages[i].per_block[j]`,
    `own` the keys its mapping gives and `stage` the stage's location, where
    its other arguments are given.
    """

    block: str
    entry: Entry
    args: dict[str, Any]
    location: str
    own: frozenset[str] = frozenset()
    stage: str | None = None

    @property
    def cls(self) -> type:
        """The block's Keras class (imported on first use: validating does not need it)."""
        return self.entry.cls

    def location_of(self, argument: str) -> str:
        """Where the recipe gives this block `argument`: `stages[1].groups`.

        An argument a `per_block` block takes from its stage is located at
        the stage, with the block named: `stages[0].eca_kernel_size (for
        stages[0].per_block[2])`.
        """
        if self.stage is not None and argument not in self.own:
            return f"{self.stage}.{argument} (for {self.location})"
        return f"{self.location}.{argument}"


@dataclass(frozen=True)
class Stage:
    """A run of `repeats` blocks of one kind, named `layer_names`.

    `call` holds the stage's arguments; `per_block`, where the recipe gives
    it, one `Call` per block with that block's own arguments merged over
    them (`block_call(j)` reads either).
    """

    call: Call
    repeats: int
    name: str
    tap: str | None
    layer_names: list[str]
    stride_at_block: str = "first"
    per_block: tuple[Call, ...] = ()

    def block_call(self, j: int) -> Call:
        """The block `j`'s call: its own with `per_block`, else the stage's."""
        return self.per_block[j] if self.per_block else self.call

    @property
    def strided_block(self) -> int:
        """The index of the block that gets the stage's `strides`: 0 or the last."""
        return self.repeats - 1 if self.stride_at_block == "last" else 0

    @property
    def label(self) -> str:
        """The stage's name for tables: `block35_1..10` for a `{index}` pattern."""
        return self.name.replace("{index}", f"1..{self.repeats}")


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
    output_stride: int | None = None
    drop_path_rate: float = 0.0
    zero_init_last: bool = False

    @property
    def taps(self) -> dict[str, str]:
        """Feature name -> the layer whose output it is."""
        taps = {self.stem_tap: "stem"} if self.stem_tap else {}
        taps.update({s.tap: s.layer_names[-1] for s in self.stages if s.tap})
        return taps


# Names the Network gives its own layers (and the features dict its head
# output), which a stage cannot take.
RESERVED_LAYER_NAMES = ("image", "preprocess", "stem", "head", "avg_pool", "max_pool")
RESERVED_TAPS = ("predictions",)


def validate_recipe(raw: Mapping[str, Any], source: str = "<recipe given in code>") -> Recipe:
    """Validates a plain recipe mapping into a `Recipe`, or raises RecipeError.

    Checks structure and arguments only: `plugins:` are not imported here
    (`load_recipe(..., allow_plugins=True)` does that), so their blocks must
    already be registered.
    """
    if not isinstance(raw, Mapping):
        raise RecipeError(
            source,
            (
                "the top level must be a mapping (name:, input_shape:, stem:, stages:, ...). "
                f"Received: a {type(raw).__name__} ({short_repr(raw)})."
            ),
        )
    try:
        spec = RecipeSpec.model_validate(raw)
    except ValidationError as error:
        raise RecipeError(source, problems_of(error, "", RecipeSpec)) from None

    problems: list[Problem] = []
    used_defaults: set[str] = set()
    stem = _call(spec.stem, "stem", ("stem", "block"), spec.defaults, used_defaults, problems)
    stage_problems: list[Problem] = []
    stages = []
    for i, stage in enumerate(spec.stages):
        call = _call(
            stage, f"stages[{i}]", ("block", "stem"), spec.defaults, used_defaults, stage_problems
        )
        name = stage.name or f"stage{i + 1}"
        per_block = _per_block(stage, call, f"stages[{i}]", stage_problems)
        stages.append(
            Stage(
                call,
                stage.repeats,
                name,
                stage.tap,
                _layer_names(name, stage.repeats),
                stage.stride_at_block,
                per_block,
            )
        )
        if "stride_at_block" in stage.model_fields_set and call is not None:
            if not takes(call.cls, "strides"):
                problems.append(
                    Problem(
                        f"stages[{i}].stride_at_block",
                        f"the block '{stage.block}' takes no `strides`, so there is no stride to "
                        "place. Remove stride_at_block from this stage.",
                    )
                )
    problems.extend(_merged(stage_problems))
    head = _call(spec.head, "head", ("head",), {}, set(), problems) if spec.head else None

    if not any(
        p.location.endswith(".block") for p in problems
    ):  # else a block's arguments are unknown
        for key in sorted(set(spec.defaults) - used_defaults):
            problems.append(
                Problem(
                    f"defaults.{key}",
                    f"no block of this recipe takes an argument '{key}'. Remove it or fix its "
                    "spelling.",
                )
            )
    taps = [("stem.tap", spec.stem.tap)] + [
        (f"stages[{i}].tap", s.tap) for i, s in enumerate(stages)
    ]
    for location, tap in taps:
        if tap in RESERVED_TAPS:
            problems.append(
                Problem(
                    location,
                    f"'{tap}' is the key of the head's output in a features dict. Choose another "
                    "tap name.",
                )
            )
    _check_unique(
        "tap", taps, problems, "Rename one: taps are the names that features=[...] asks for."
    )
    layers = [(f"stages[{i}].name", n) for i, s in enumerate(stages) for n in s.layer_names]
    for location, layer in layers:
        if layer in RESERVED_LAYER_NAMES:
            problems.append(
                Problem(
                    location,
                    (
                        f"the layer name '{layer}' is reserved for the network's own layers "
                        f"({', '.join(RESERVED_LAYER_NAMES)}). Choose another `name:`."
                    ),
                )
            )
    _check_unique("layer name", layers, problems, "Give the stage another `name:`.")
    if not problems:
        _check_network_keys(spec, stages, problems)
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
        output_stride=spec.output_stride,
        drop_path_rate=spec.drop_path_rate,
        zero_init_last=spec.zero_init_last,
    )


# The recipe keys that build() turns into block arguments, and the argument each needs.
NETWORK_KEYS = {"drop_path_rate": "drop_path_rate", "zero_init_last": "zero_init_last"}


def takes(cls: type, argument: str) -> bool:
    """Whether a block's constructor has the argument (its own, or a base's keyword-only one)."""
    from resblocks.arguments import argument_names  # the class is loaded, and Keras with it

    return argument in argument_names(cls)


def _check_network_keys(spec: RecipeSpec, stages: list[Stage], problems: list[Problem]) -> None:
    """drop_path_rate, zero_init_last and output_stride need blocks that take them."""
    for key, argument in NETWORK_KEYS.items():
        if getattr(spec, key) and not any(s.call.entry.takes(argument) for s in stages):
            problems.append(
                Problem(
                    key,
                    f"no stage of this recipe has a block that takes `{argument}` (res_block and "
                    "bottleneck do). Remove the key, or use residual blocks.",
                )
            )
    if spec.output_stride is None:
        return
    for i, stage in enumerate(stages):
        if not (stage.call.entry.takes("strides") and stage.call.entry.takes("dilation")):
            problems.append(
                Problem(
                    "output_stride",
                    f"needs every stage to take `strides` and `dilation` (res_block, bottleneck), "
                    f"but stages[{i}] is a '{stage.call.block}', whose downsampling cannot be "
                    "replaced by dilation. Remove output_stride.",
                )
            )
            return


def _call(spec: BlockCall, location: str, kinds, defaults, used_defaults, problems) -> Call | None:
    """Looks up the block and validates its arguments; records problems."""
    try:
        entry: Entry = get_block(spec.block, where=f"{location}.block: ")
    except ValueError:
        allowed = [n for kind in kinds for n in list_blocks(kind=kind)]
        problems.append(
            Problem(f"{location}.block", unknown_name_message("block", spec.block, allowed))
        )
        return None
    if entry.kind not in kinds:
        allowed = [n for kind in kinds for n in list_blocks(kind=kind)]
        problems.append(
            Problem(
                f"{location}.block",
                (
                    f"'{spec.block}' is a {entry.kind}, which cannot be used here. "
                    f"Use one of: {', '.join(sorted(allowed))}"
                ),
            )
        )
        return None
    fields = entry.args.model_fields
    given = {k: v for k, v in defaults.items() if k in fields}
    used_defaults.update(given)
    overridden = {k: v for k, v in given.items() if k in spec.args}
    given = {**entry.preset, **given, **spec.args}  # an old name's preset, then the recipe's
    try:
        args = entry.args.model_validate(given)
    except ValidationError as error:
        place_keys = [k for k in type(spec).model_fields if k != "block"]
        problems.extend(
            problems_of(error, location, entry.args, block=spec.block, place_keys=place_keys)
        )
        return None
    if overridden:
        # A default every block overrides is never used, but a bad one is still a mistake.
        try:
            entry.args.model_validate({**given, **overridden})
        except ValidationError as error:
            items = [
                item for item in error.errors() if item["loc"] and item["loc"][0] in overridden
            ]
            for problem in problems_of(items, "defaults", entry.args, block=spec.block):
                if problem not in problems:
                    problems.append(problem)
    name = entry.alias_of or entry.name  # an old name is recorded as the new one
    return Call(name, entry, args.model_dump(exclude_unset=True), location)


def _per_block(
    stage: StageSpec, call: Call | None, location: str, problems: list[Problem]
) -> tuple[Call, ...]:
    """A stage's `per_block`: one call per block, each mapping merged over the stage's arguments.

    Refused, at `stages[i].per_block...`: a list whose length is not
    `repeats`, a stage key (`repeats`, `tap`, ...) or `strides` in a
    mapping, and an argument the block does not take or a bad value, as
    the block's argument model words it.
    """
    if stage.per_block is None or call is None:  # none given, or the block is already wrong
        return ()
    where = f"{location}.per_block"
    if len(stage.per_block) != stage.repeats:
        problems.append(
            Problem(
                where,
                f"gives {len(stage.per_block)} mapping(s), but the stage has repeats: "
                f"{stage.repeats}. Give one mapping per block, in order ({{}} for a block "
                "that keeps the stage's arguments), or change repeats.",
            )
        )
        return ()
    calls, stage_keys = [], [k for k in StageSpec.model_fields if k != "block"]
    for j, own in enumerate(stage.per_block):
        located = f"{where}[{j}]"
        refused = [k for k in own if k in (*stage_keys, "block", "strides")]
        for key in refused:
            problems.append(Problem(f"{located}.{key}", _NOT_PER_BLOCK.get(key, _STAGE_KEY)))
        try:
            args = call.entry.args.model_validate({**call.args, **own})
        except ValidationError as error:
            items = [
                item for item in error.errors() if not item["loc"] or item["loc"][0] not in refused
            ]
            problems.extend(problems_of(items, located, call.entry.args, block=call.block))
            continue
        if not refused:
            given = args.model_dump(exclude_unset=True)
            calls.append(Call(call.block, call.entry, given, located, frozenset(own), location))
    return tuple(calls) if len(calls) == stage.repeats else ()


# Why a key cannot be one block's own (`stages[i].per_block[j].KEY`).
_STAGE_KEY = "a key of the stage, not an argument of its blocks. Give it on the stage itself."
_NOT_PER_BLOCK = {
    "block": "every block of a stage is of the stage's kind. Start another stage for another "
    "block.",
    "strides": "the stage's `strides` goes to its first block (its last with stride_at_block: "
    "last) and the others get 1. Give strides on the stage, or start another stage.",
}


def _merged(problems: list[Problem]) -> list[Problem]:
    """The same mistake in several stages (`repeat:` for `repeats:`) told once, at all of them."""
    locations: dict[tuple[str, str], list[str]] = {}
    for problem in problems:
        key = problem.location.split("]", 1)[-1]
        locations.setdefault((key, problem.message), []).append(problem.location)
    return [Problem(", ".join(where), message) for (_, message), where in locations.items()]


def _layer_names(name: str, repeats: int) -> list[str]:
    """`conv2` x3 -> conv2_block1..3; `block35_{index}` x2 -> block35_1, block35_2."""
    if "{index}" in name:
        return [name.replace("{index}", str(j + 1)) for j in range(repeats)]
    if repeats == 1:
        return [name]
    return [f"{name}_block{j + 1}" for j in range(repeats)]


def _check_unique(
    what: str, located: list[tuple[str, str | None]], problems: list[Problem], fix: str
) -> None:
    seen: dict[str, str] = {}
    reported: set[str] = set()
    for location, value in located:
        if value is None:
            continue
        if value in seen and location not in reported:
            problems.append(
                Problem(
                    location,
                    f"the {what} '{value}' is already used at {seen[value]}; each must be unique. "
                    f"{fix}",
                )
            )
            reported.add(location)
        seen.setdefault(value, location)
