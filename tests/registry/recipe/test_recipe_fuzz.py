"""Property: a mutated recipe validates (and builds) or raises RecipeError, never another exception.

Mutations start from every shipped recipe (and a tiny one that builds in a
fraction of a second): keys deleted, renamed or added, values replaced by
values of any type (0, negatives, huge ints, NaN, strings, None, lists,
mappings), stages duplicated or dropped, block names swapped, input shapes
changed; and, one level down, the YAML text itself edited. The default
profile is small and derandomized so `make test` is stable; the slow one
explores far more and builds every mutation cheap enough to build.
"""

import copy

import pytest
from helpers import tiny_recipe
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from registry import RecipeError, list_blocks, load_recipe, model_from_recipe
from registry.blocks.arguments import RULES
from registry.recipe.files import RECIPE_DIR, read_recipe, recipe_names
from registry.recipe.spec import RecipeSpec, StageSpec
from registry.recipe.strict_yaml import parse_yaml

SHIPPED = {name: read_recipe(name)[0] for name in recipe_names()}
TEXTS = {name: (RECIPE_DIR / f"{name}.yaml").read_text() for name in recipe_names()}
# The shared tiny recipe with a bottleneck, a conv_bn and a hidden layer;
# and Inception-ResNet's modules at a size that builds in seconds (their
# widths are fixed).
TINY = tiny_recipe(
    **{
        "defaults": {"bn_momentum": 0.9},
        "stages.1.block": "bottle_neck",
        "stages.1.filters": 2,
        "stages.1.repeats": 2,
        "head.hidden_units": [8],
        "head.dropout": 0.5,
    }
)
TINY["stages"].append(
    {"name": "layer3", "block": "conv_bn", "filters": 8, "kernel_size": 3, "strides": 2}
)
TINY_INCEPTION = tiny_recipe(
    **{
        "name": "tiny_inception",
        "input_shape": [32, 32, 3],
        "stem.filters": 8,
        "stages": [
            {"block": "inception_res_block35", "scale": 0.2},
            {"block": "reduction_a", "tap": "c3"},
            {"block": "inception_res_block17", "scale": 0.1},
            {"block": "reduction_b"},
            {"name": "last", "block": "inception_res_block8", "scale": 1.0, "activation": None},
            {
                "name": "conv",
                "block": "conv_bn",
                "filters": 16,
                "kernel_size": 1,
                "bn_scale": False,
            },
        ],
        "head.num_classes": 5,
    }
)
TINY_INCEPTION["stages"][-1]["bn_scale"] = False


def narrow(raw: dict) -> dict:
    """A shipped recipe at 1/16 of its widths on 32x32 inputs: the same layout, cheap to build."""
    raw = copy.deepcopy(raw)
    raw["input_shape"] = [32, 32, 3]
    for call in [raw["stem"], *raw["stages"]]:
        if "filters" in call:
            call["filters"] = max(1, call["filters"] // 16)
    return raw


BASES = {
    "tiny": TINY,
    "tiny_inception": TINY_INCEPTION,
    **{
        f"narrow_{n}": narrow(r)
        for n, r in SHIPPED.items()
        if "resnet" in n and "inception" not in n
    },
}

KEYS = sorted(
    set(RecipeSpec.model_fields)
    | set(StageSpec.model_fields)
    | set(RULES)
    | {"base", "use_bias", "max_pool"}
)
# The string values that padding, shortcut and pooling arguments take.
SETTINGS = ["same", "valid", "identity", "zero_pad", "none", "projection", "avg", "max"]
WORDS = [
    *list_blocks(),
    *KEYS,
    "relu",
    "relux",
    *SETTINGS,
    "3x3",
    "{index}",
    "block{index}",
    "a b",
    "",
    "c2",
    "resnet50",
    "caffe",
]

SCALARS = st.one_of(
    st.integers(-3, 9),
    st.sampled_from([0, -1, 1000, 1001, 8192, 8193, 100_000, 2**31, 2**63, -(2**63)]),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.text(max_size=10),
    st.sampled_from(WORDS),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.one_of(st.sampled_from(KEYS), st.text(max_size=6), st.integers(-2, 5)),
            inner,
            max_size=4,
        )
    ),
    max_leaves=8,
)
# Values of the kind a slot already holds, in a plausible range, so that
# many mutants validate and get built.
PLAUSIBLE = {
    bool: st.booleans(),
    int: st.integers(1, 8),
    float: st.floats(0.01, 0.99),
    str: st.sampled_from(
        [
            "relu",
            "swish",
            *SETTINGS,
            "1x1",
            "3x3",
            "c2",
            "c6",
            "stage{index}",
            "res_block",
            "bottle_neck",
        ]
    ),
    list: st.lists(st.integers(1, 9), min_size=1, max_size=3),
}
# Weighted towards mutations that keep a recipe plausible: a wholly broken
# recipe only exercises the first check it fails.
MUTATIONS = (
    ["plausible"] * 4
    + ["small_number"] * 3
    + ["block"] * 2
    + ["input_shape"] * 2
    + ["duplicate_stage", "drop_stage", "set", "delete", "rename", "add", "add_plausible"]
)
YAML_CHARACTERS = "{}[]:,-&*!|>'\"#\n\t %@`?=0123456789abcxyz_."

FAST = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SLOW = settings(
    max_examples=1000,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def slots(node, found=None) -> list:
    """Every (container, key) pair in a nested recipe, so any value can be changed."""
    found = [] if found is None else found
    items = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for key, value in list(items):
        found.append((node, key))
        slots(value, found)
    return found


def mappings(node, found=None) -> list:
    found = [] if found is None else found
    if isinstance(node, dict):
        found.append(node)
    for value in (
        node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
    ):
        mappings(value, found)
    return found


def mutate(data, raw: dict) -> None:
    """Applies one random mutation to `raw` in place."""
    kind = data.draw(st.sampled_from(MUTATIONS), label="mutation")
    every = slots(raw)
    if kind == "set" and every:
        container, key = data.draw(st.sampled_from(every))
        container[key] = data.draw(VALUES, label="value")
    elif kind == "plausible":
        leaves = [(c, k) for c, k in every if type(c[k]) in PLAUSIBLE]
        if leaves:
            container, key = data.draw(st.sampled_from(leaves))
            container[key] = data.draw(PLAUSIBLE[type(container[key])], label="value")
    elif kind == "small_number":
        numbers = [(c, k) for c, k in every if isinstance(c[k], int) and not isinstance(c[k], bool)]
        if numbers:
            container, key = data.draw(st.sampled_from(numbers))
            container[key] = data.draw(st.integers(-1, 9), label="number")
    elif kind == "delete" and every:
        container, key = data.draw(st.sampled_from(every))
        del container[key]
    elif kind == "rename":
        keyed = [(c, k) for c, k in every if isinstance(c, dict)]
        if keyed:
            container, key = data.draw(st.sampled_from(keyed))
            container[data.draw(st.sampled_from(KEYS) | st.text(max_size=8), label="new key")] = (
                container.pop(key)
            )
    elif kind in ("add", "add_plausible"):
        container = data.draw(st.sampled_from(mappings(raw)))
        value = data.draw(
            VALUES if kind == "add" else st.one_of(*PLAUSIBLE.values()), label="value"
        )
        container[data.draw(st.sampled_from(KEYS), label="key")] = value
    elif kind == "block":
        calls = [m for m in mappings(raw) if "block" in m]
        if calls:
            names = st.sampled_from(list_blocks()) | st.sampled_from(WORDS)
            data.draw(st.sampled_from(calls))["block"] = data.draw(names, label="block")
    elif kind == "input_shape":
        side = st.one_of(st.integers(8, 64), st.integers(1, 8), st.none(), st.integers(-2, 10_000))
        shape = st.tuples(side, side, st.integers(1, 4)).map(list) | st.lists(side, max_size=4)
        raw["input_shape"] = data.draw(shape, label="shape")
    elif (
        kind in ("duplicate_stage", "drop_stage")
        and isinstance(raw.get("stages"), list)
        and raw["stages"]
    ):
        stages = raw["stages"]
        index = data.draw(st.integers(0, len(stages) - 1))
        if kind == "duplicate_stage":
            twin = copy.deepcopy(stages[index])
            if isinstance(twin, dict):  # its own layer names, no second tap, so it may validate
                twin.pop("tap", None)
                twin["name"] = f"twin{index}_{len(stages)}"
            stages.insert(index, twin)
        else:
            del stages[index]


def cheap(recipe, *, blocks: int, width: int) -> bool:
    """Whether building this recipe takes well under a second or two (no huge kernels or stacks)."""
    calls = [recipe.stem, *(s.call for s in recipe.stages)] + ([recipe.head] if recipe.head else [])
    total = 1 + sum(s.repeats for s in recipe.stages)
    widest = max(
        c.args.get("filters", 64) * c.args.get("expansion", 4 if c.block == "bottle_neck" else 1)
        for c in calls
    )
    inception = sum(c.block.startswith(("inception", "mixed", "reduction")) for c in calls)
    kernel = max(max(c.args.get("kernel_size", [7, 7])) for c in calls)
    head = recipe.head.args if recipe.head else {}
    sides = [d for d in recipe.input_shape[:2] if d is not None]
    return (
        total + 2 * inception <= blocks
        and widest <= width
        and widest * widest * kernel * kernel <= 20_000_000
        and head.get("num_classes", 1000) * widest <= 2_000_000
        and sum(head.get("hidden_units", [])) <= 4096
        and all(side <= 96 for side in sides)
    )


def outcome(raw, *, build_if_cheap: dict | None = None) -> str:
    """'invalid', 'valid', 'built' or 'unbuildable'; any exception but RecipeError escapes.

    Recorded as a Hypothesis event: `--hypothesis-show-statistics` shows the mix.
    """
    result = _outcome(raw, build_if_cheap)
    event(result)
    return result


def _outcome(raw, build_if_cheap: dict | None) -> str:
    try:
        recipe = load_recipe(raw)
    except RecipeError:
        return "invalid"
    if build_if_cheap is None or not cheap(recipe, **build_if_cheap):
        return "valid"
    try:
        model_from_recipe(recipe)
    except RecipeError:
        return "unbuildable"
    return "built"


def mutated(data, base: dict, most: int) -> dict:
    raw = copy.deepcopy(base)
    for _ in range(data.draw(st.integers(1, most), label="mutations")):
        mutate(data, raw)
    return raw


@FAST
@given(st.data())
def test_mutated_shipped_recipes_validate_or_raise_recipe_error(data):
    name = data.draw(st.sampled_from(sorted(SHIPPED)), label="recipe")
    outcome(mutated(data, SHIPPED[name], 3))


@settings(FAST, max_examples=15)
@given(st.data())
def test_mutated_tiny_recipe_builds_or_raises_recipe_error(data):
    outcome(mutated(data, TINY, 2), build_if_cheap={"blocks": 8, "width": 64})


@FAST
@given(st.data())
def test_edited_recipe_text_loads_or_raises_recipe_error(data):
    outcome(_edited_text(data))


@pytest.mark.slow
@SLOW
@given(st.data())
def test_many_mutated_recipes_validate_build_or_raise_recipe_error(data):
    bases = {**SHIPPED, **BASES}
    name = data.draw(st.sampled_from(sorted(bases)), label="recipe")
    outcome(mutated(data, bases[name], 4), build_if_cheap={"blocks": 20, "width": 512})


@pytest.mark.slow
@SLOW
@given(st.data())
def test_much_edited_recipe_text_loads_or_raises_recipe_error(data):
    outcome(_edited_text(data, most=6))


def _edited_text(data, most: int = 3):
    """A shipped recipe's YAML with a few characters deleted, inserted or lines duplicated."""
    text = TEXTS[data.draw(st.sampled_from(sorted(TEXTS)), label="recipe")]
    for _ in range(data.draw(st.integers(1, most), label="edits")):
        at = data.draw(st.integers(0, len(text)), label="at")
        kind = data.draw(st.sampled_from(["delete", "insert", "duplicate_line"]), label="edit")
        if kind == "delete":
            text = text[:at] + text[at + data.draw(st.integers(1, 8)) :]
        elif kind == "insert":
            text = (
                text[:at]
                + data.draw(st.text(YAML_CHARACTERS, min_size=1, max_size=6), label="inserted")
                + text[at:]
            )
        else:
            start = text.rfind("\n", 0, at) + 1
            end = text.find("\n", at)
            line = text[start : end if end >= 0 else len(text)]
            text = text[:start] + line + "\n" + text[start:]
    try:
        return parse_yaml(text, "<edited>")
    except RecipeError:
        return None  # counts as refused: the property holds
