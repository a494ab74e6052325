"""Exercise swap_block: ResNet-50 with basic blocks in place of bottlenecks.

The student derives a recipe from resnet50 that changes only the block
name (`bottle_neck` -> `res_block`), then measures both networks. The lesson
(He et al. 2015, Table 1): the swap gives the 34-layer layout; bottlenecks
buy 16 more layers for about 17% more parameters and 5% more multiply-adds.
"""

from pathlib import Path

from registry.assembly import build
from registry.exercises.counting import weighted_layers
from registry.exercises.worksheet import (
    Fail,
    answer,
    check_number,
    read_yaml_file,
    recipe_from,
    trainable_params,
)
from registry.inspection import profile
from registry.recipe import load_recipe

TITLE = "Swap BottleNeck for ResBlock in ResNet-50: what happens to parameters and multiply-adds?"
STARTER = "starter.yaml"

MEASURE = (
    "Measure it: `resblocks show FILE` prints both, or in Python `model = build(...)`, then "
    "`model.count_params()` and `registry.profile(model).total.macs / 1e9`."
)


def _numbers(stage) -> tuple:
    return (stage.call.args.get("filters"), stage.call.args.get("strides"), stage.repeats)


def check(path: Path) -> str:
    sheet = read_yaml_file(path)
    recipe = recipe_from(sheet.get("recipe"), "recipe", path.parent)
    reference = load_recipe("resnet50")
    if len(recipe.stages) != len(reference.stages):
        raise Fail(
            f"recipe has {len(recipe.stages)} stages; resnet50 has {len(reference.stages)}.",
            "Derive from resnet50 (`base: resnet50`) and patch the stages by index: `stages: {0: "
            "{block: res_block}, ...}`.",
        )
    for i, (mine, theirs) in enumerate(zip(recipe.stages, reference.stages)):
        if mine.call.block != "res_block":
            raise Fail(
                f"recipe stage {i} ({mine.name}) still uses '{mine.call.block}'.",
                "Change the block of every stage, and only the block: `stages: {"
                + f"{i}"
                + ": {block: res_block}}`.",
            )
        if _numbers(mine) != _numbers(theirs):
            raise Fail(
                f"recipe stage {i} ({mine.name}) changes more than the block: (filters, strides, "
                "repeats) = "
                f"{_numbers(mine)}, resnet50 has {_numbers(theirs)}.",
                "Keep resnet50's numbers so that only the block type differs; otherwise the "
                "comparison says nothing.",
            )

    answers = sheet.get("answers") or {}
    bottleneck_net, basic_net = build(reference), build(recipe)
    check_number(
        answers,
        "params_bottleneck",
        (bottleneck_net.count_params(), trainable_params(bottleneck_net)),
        "Count the parameters of build('resnet50'). " + MEASURE,
    )
    check_number(
        answers,
        "params_basic",
        (basic_net.count_params(), trainable_params(basic_net)),
        "Count the parameters of your recipe's network. " + MEASURE,
    )
    check_number(
        answers,
        "gmacs_bottleneck",
        profile(bottleneck_net).total.macs / 1e9,
        "Billions of multiply-adds of resnet50 at 224x224. " + MEASURE,
        rel=0.03,
    )
    check_number(
        answers,
        "gmacs_basic",
        profile(basic_net).total.macs / 1e9,
        "Billions of multiply-adds of your network at 224x224. " + MEASURE,
        rel=0.03,
    )
    depth = weighted_layers(basic_net)
    check_number(
        answers,
        "layers_basic",
        depth,
        "Count the weighted layers: the stem's conv, two convs per basic block (shortcut "
        "projections not counted), and the fc layer.",
        rel=0,
    )
    same_as = str(
        answer(
            answers,
            "same_as",
            "Which shipped recipe has this layout? `resblocks list` shows them; compare repeats "
            "and blocks.",
        )
    ).strip()
    if same_as != f"resnet{depth}":
        raise Fail(
            f"answers.same_as = {same_as!r} is not the shipped recipe with this layout.",
            "Look for a recipe with basic blocks (res_block) and repeats 3, 4, 6, 3.",
        )
    extra = bottleneck_net.count_params() / basic_net.count_params() - 1
    return (
        f"your {depth}-layer network is {same_as}'s layout. Bottlenecks make ResNet-50 "
        f"16 layers deeper for {extra:.0%} more parameters: each 1x1 reduce/expand pair is "
        "cheap, the 3x3 runs on 4x fewer channels."
    )
