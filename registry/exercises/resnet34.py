"""Exercise resnet34: derive ResNet-34 from ResNet-18 by changing numbers only.

He et al. 2015, Table 1: the 18- and 34-layer networks have the same
stem, blocks, widths and head, and differ only in how many basic blocks
each stage repeats. The student's file is a recipe with `base: resnet18`.
"""

from pathlib import Path

from registry.assembly import build
from registry.errors import RecipeError
from registry.exercises.worksheet import Fail, trainable_params
from registry.recipe import load_recipe
from registry.recipe.strict_yaml import load_yaml

TITLE = "Derive ResNet-34 from ResNet-18 by changing numbers only"
STARTER = "starter.yaml"

TABLE_1 = (
    "Table 1 of the paper (reproduced in the seed article): in the 34-layer column, "
    "the xN of each row conv2_x .. conv5_x."
)
# torchvision's resnet34 and the paper's 21.8 M.
RESNET34_TRAINABLE = 21_797_672


def check(path: Path) -> str:
    try:
        raw = load_yaml(path)
        recipe = load_recipe(str(path))
    except RecipeError as error:
        raise Fail(
            str(error), "The file must be a valid recipe: try `resblocks validate FILE`."
        ) from None
    if raw.get("base") != "resnet18":
        raise Fail(
            f"the recipe's base is {raw.get('base')!r}, not 'resnet18'.",
            "Start from `base: resnet18` and change only numbers: the point is that 34 differs "
            "from 18 in numbers alone.",
        )
    if set(raw) - {"base", "name", "paper", "description", "stages", "references"}:
        extra = ", ".join(
            sorted(set(raw) - {"base", "name", "paper", "description", "stages", "references"})
        )
        raise Fail(
            f"the recipe changes {extra}; only stage repeats need to change.",
            "Remove those keys and patch `stages:` only.",
        )
    resnet18 = load_recipe("resnet18")
    for i, (mine, theirs) in enumerate(zip(recipe.stages, resnet18.stages)):
        if (mine.call.block, mine.call.args) != (theirs.call.block, theirs.call.args):
            raise Fail(
                f"stage {i} ({mine.name}) changes its block or arguments.",
                "Only the number of blocks per stage changes between ResNet-18 and ResNet-34.",
            )
    repeats = [stage.repeats for stage in recipe.stages]
    wanted = [3, 4, 6, 3]
    for i, (have, want) in enumerate(zip(repeats, wanted)):
        if have != want:
            raise Fail(
                f"stage {i} ({recipe.stages[i].name}) repeats {have} blocks; the 34-layer network "
                "has a different number there.",
                "Read " + TABLE_1 + " Patch by index: `stages: {" + f"{i}" + ": {repeats: N}}`.",
            )
    model = build(recipe)
    trainable = trainable_params(model)
    if trainable != RESNET34_TRAINABLE:
        raise Fail(
            f"the network has {trainable:,} trainable parameters, not ResNet-34's "
            f"{RESNET34_TRAINABLE:,}.",
            "Compare `resblocks show` of your file with `resblocks show resnet18` stage by stage.",
        )
    depth = 2 + 2 * sum(repeats)
    return (
        f"{depth} weighted layers and {trainable:,} trainable parameters: "
        "ResNet-34, from ResNet-18 by four numbers."
    )
