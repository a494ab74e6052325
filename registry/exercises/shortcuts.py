"""Exercise shortcuts: projection (option B) versus zero-padding (option A) shortcuts.

He et al. 2015, sec. 3.3 and Table 3: where a block changes the shape, A
zero-pads the new channels (no parameters), B projects with a 1x1 conv;
C projects every shortcut. The student switches resnet20_cifar to B,
counts what the projections cost, and works out by hand what C would cost.
"""

from pathlib import Path

import keras

from registry.assembly import build
from registry.exercises.worksheet import Fail, check_number, read_yaml_file, recipe_from, stage_arg
from registry.recipe import load_recipe

TITLE = "Projection versus zero-padding shortcuts: options A, B and C on ResNet-20"
STARTER = "starter.yaml"

COUNT = (
    "model.count_params() counts 4 numbers per batch-norm channel (gamma, beta, mean, variance)."
)


def check(path: Path) -> str:
    sheet = read_yaml_file(path)
    recipe = recipe_from(sheet.get("recipe"), "recipe", path.parent)
    reference = load_recipe("resnet20_cifar")
    if _layout(recipe) != _layout(reference):
        raise Fail(
            "recipe changes more than the shortcuts of resnet20_cifar.",
            "Derive it with `base: resnet20_cifar` and change only the shortcut option.",
        )
    for i in range(len(recipe.stages)):
        if stage_arg(recipe, i, "shortcut") != "projection":
            raise Fail(
                f"recipe stage {i} still uses shortcut '{stage_arg(recipe, i, 'shortcut')}'.",
                "Option B is `projection`; resnet20_cifar sets zero_pad in its `defaults:`, so "
                "override it there.",
            )

    answers = sheet.get("answers") or {}
    option_b, option_a = build(recipe), build(reference)
    projections = [
        layer for layer in option_b.layers if getattr(layer, "downsample", None) is not None
    ]
    check_number(
        answers,
        "projections",
        len(projections),
        "How many blocks change the shape (channels or size)? Only those get a projection in "
        "option B.",
        rel=0,
    )
    trainable = sum(
        int(keras.ops.size(w)) for layer in projections for w in layer.downsample.trainable_weights
    )
    check_number(
        answers,
        "extra_params",
        (option_b.count_params() - option_a.count_params(), trainable),
        "Compare count_params() of your recipe and of resnet20_cifar. " + COUNT,
        rel=0,
    )
    check_number(
        answers,
        "option_c_extra_params",
        _option_c(option_a),
        "Option C puts a 1x1 conv + BN on all 9 shortcuts: C_in x C_out weights plus 4 x C_out for "
        "BN each. " + COUNT,
        rel=0,
    )
    return (
        f"option B adds {option_b.count_params() - option_a.count_params():,} parameters on "
        f"{len(projections)} shortcuts, "
        f"option C would add {_option_c(option_a):,}. Table 3 of the paper: B is slightly better "
        "than A, C barely better than B, "
        "so projections are not essential to fix degradation."
    )


def _layout(recipe) -> list[tuple]:
    return [
        (s.call.block, s.repeats, s.call.args.get("filters"), s.call.args.get("strides"))
        for s in recipe.stages
    ]


def _option_c(model) -> int:
    """Parameters of a 1x1 conv + BN (4 per channel) on every block's shortcut."""
    total = 0
    previous = model.get_layer("stem").output.shape[-1]
    for layer in model.layers:
        if layer.name in ("stem", "head") or not hasattr(layer, "shortcut"):
            continue
        channels = layer.output.shape[-1]
        total += previous * channels + 4 * channels
        previous = channels
    return total
