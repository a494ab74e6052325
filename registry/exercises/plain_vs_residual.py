"""Exercise plain_vs_residual: the degradation experiment of He et al. 2015, sec. 4.2.

The student writes the plain 20- and 56-layer CIFAR networks and the
56-layer ResNet, each derived from resnet20_cifar by changing numbers and
the shortcut only, and finds that option-A shortcuts add no parameters:
so whatever the training run shows (plain-56 trains worse than plain-20,
ResNet-56 better than ResNet-20) is due to the shortcuts, not to size.
"""

from pathlib import Path

from registry.assembly import build
from registry.exercises.worksheet import Fail, check_number, read_yaml_file, recipe_from, stage_arg

TITLE = "Plain versus residual: build the networks of the degradation experiment (sec. 4.2)"
STARTER = "starter.yaml"

# name in the worksheet -> (blocks per stage n, shortcut); depth is 6n + 2.
WANTED = {"plain20": (3, "none"), "plain56": (9, "none"), "resnet56": (9, "zero_pad")}
FILTERS, STRIDES = (16, 32, 64), (1, 2, 2)


def check(path: Path) -> str:
    sheet = read_yaml_file(path)
    given = sheet.get("recipes") or {}
    built = {}
    for key, (n, shortcut) in WANTED.items():
        if key not in given:
            raise Fail(
                f"recipes.{key} is missing.",
                f"Add `{key}: {{base: resnet20_cifar, name: my_{key}, ...}}` under recipes:.",
            )
        recipe = recipe_from(given[key], f"recipes.{key}", path.parent)
        _check_layout(recipe, key, n)
        _check_shortcuts(recipe, key, shortcut)
        built[key] = recipe

    answers = sheet.get("answers") or {}
    plain, residual = build(built["plain20"]), build("resnet20_cifar")
    check_number(
        answers,
        "shortcut_params",
        residual.count_params() - plain.count_params(),
        "Compare build('resnet20_cifar').count_params() with your plain20's. What does a "
        "zero-padding shortcut compute?",
        rel=0,
    )
    return (
        "plain and residual twins differ only in their shortcuts, which cost no parameters. "
        "Now run the training comparison in the README: the deeper plain net trains worse, the "
        "deeper ResNet better."
    )


def _check_layout(recipe, key: str, n: int) -> None:
    stages = recipe.stages
    if len(stages) != 3 or any(stage.call.block != "res_block" for stage in stages):
        raise Fail(
            f"recipes.{key} must have three stages of res_block, as resnet20_cifar. Received: "
            f"{[stage.call.block for stage in stages]}",
            "Derive it: `base: resnet20_cifar`, then change numbers and the shortcut only.",
        )
    for i in range(len(stages)):
        if (stage_arg(recipe, i, "filters"), stage_arg(recipe, i, "strides")) != (
            FILTERS[i],
            STRIDES[i],
        ):
            raise Fail(
                f"recipes.{key} stage {i} changes filters or strides.",
                "Sec. 4.2 keeps 16, 32, 64 filters on 32x32, 16x16, 8x8 maps for every depth: "
                "change only the repeats.",
            )
    repeats = [stage.repeats for stage in stages]
    depth = 2 * sum(repeats) + 2
    wanted = 6 * n + 2
    if repeats != [n] * 3:
        raise Fail(
            f"recipes.{key} has repeats {repeats}: {depth} weighted layers, not {wanted}.",
            "A CIFAR network of sec. 4.2 has 6n+2 layers: the stem's conv, n basic blocks (2 "
            "convs each) in each of "
            f"3 stages, and the fc layer. Solve 6n+2 = {wanted} for n.",
        )


def _check_shortcuts(recipe, key: str, wanted: str) -> None:
    for i in range(len(recipe.stages)):
        shortcut = stage_arg(recipe, i, "shortcut")
        if shortcut == wanted:
            continue
        if wanted == "none":
            hint = (
                "A plain network adds nothing to each block's output: "
                "set `defaults: {shortcut: none}`."
            )
        elif shortcut == "projection":
            hint = (
                "That is option B (1x1 projections, with parameters). "
                "The paper's CIFAR ResNets use option A: zero_pad."
            )
        else:
            hint = (
                "The paper's CIFAR ResNets use option A: `shortcut: zero_pad` "
                "(resnet20_cifar already has it)."
            )
        raise Fail(
            f"recipes.{key} stage {i} has shortcut '{shortcut}'; this network needs '{wanted}'.",
            hint,
        )
