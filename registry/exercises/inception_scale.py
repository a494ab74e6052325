"""Exercise inception_scale: the residual scale factor of Inception-ResNet.

Szegedy et al. 2016, sec. 3.3: each Inception-ResNet block adds
`scale * F(x)` to x, with scale 0.1 to 0.3, because very wide residual
networks "died" early in training without it. The student reads the three
scales off the recipe, writes the unscaled variant, and finds that the
scale costs no parameters: it only changes how much each block may move x.
"""

from pathlib import Path

from registry.exercises.worksheet import (
    Fail,
    answer,
    check_number,
    read_yaml_file,
    recipe_from,
    stage_arg,
)
from registry.recipe import load_recipe
from resblocks import InceptionResBlock17

TITLE = "Inception-ResNet's residual scale: find it, remove it, and count what it costs"
STARTER = "starter.yaml"

# registry name -> the name of its blocks in keras.applications and the recipe
BLOCKS = {
    "inception_res_block35": "block35",
    "inception_res_block17": "block17",
    "inception_res_block8": "block8",
}


def check(path: Path) -> str:
    sheet = read_yaml_file(path)
    recipe = recipe_from(sheet.get("recipe"), "recipe", path.parent)
    reference = load_recipe("inception_resnet_v2")
    if [(s.name, s.call.block, s.repeats) for s in recipe.stages] != [
        (s.name, s.call.block, s.repeats) for s in reference.stages
    ]:
        raise Fail(
            "recipe changes the stages of inception_resnet_v2.",
            "Derive it with `base: inception_resnet_v2` and patch only `scale` of some stages, by "
            "index.",
        )
    for i, (mine, theirs) in enumerate(zip(recipe.stages, reference.stages)):
        if mine.call.block not in BLOCKS:
            continue
        if _without_scale(mine.call.args) != _without_scale(theirs.call.args):
            raise Fail(
                f"recipe stage {i} ({mine.name}) changes more than the scale.",
                "Patch only `scale:`.",
            )
        if stage_arg(recipe, i, "scale") != 1.0:
            raise Fail(
                f"recipe stage {i} ({mine.name}) still scales its residual by "
                f"{stage_arg(recipe, i, 'scale')}.",
                "Every Inception-ResNet stage of the unscaled variant needs `scale: 1.0`. Which "
                "stages hold inception_resnet_* blocks?",
            )

    answers = sheet.get("answers") or {}
    scales = answer(
        answers,
        "scales",
        "Give the three scales as a mapping: `scales: {block35: ..., block17: ..., block8: ...}`.",
    )
    if not isinstance(scales, dict):
        raise Fail(
            "answers.scales must be a mapping block35/block17/block8 -> number. Received: "
            f"{scales!r}",
            "Write `scales: {block35: ..., block17: ..., block8: ...}`.",
        )
    for i, stage in enumerate(reference.stages):
        key = BLOCKS.get(stage.call.block)
        if key is None or stage.repeats == 1:
            continue
        check_number(
            scales,
            key,
            stage_arg(reference, i, "scale"),
            f"Read the `scale:` of the {key}_{{index}} stage in recipes/inception_resnet_v2.yaml.",
            rel=0.001,
            where="answers.scales",
        )
    check_number(
        answers,
        "params_change",
        _params_change(),
        "Build one block with scale 0.1 and one with 1.0 and compare count_params(). What does "
        "ScaledResidual hold?",
        rel=0,
    )
    last = str(
        answer(
            answers,
            "unscaled_block",
            "Which block of inception_resnet_v2 has scale 1.0? Give its layer name.",
        )
    ).strip()
    unscaled = [
        name
        for i, stage in enumerate(reference.stages)
        if stage.call.block in BLOCKS and stage_arg(reference, i, "scale") == 1.0
        for name in stage.layer_names
    ]
    if last not in unscaled:
        raise Fail(
            f"answers.unscaled_block = {last!r} is scaled in inception_resnet_v2.",
            "Look for `scale: 1.0` in recipes/inception_resnet_v2.yaml; give the layer name "
            "(`resblocks show` lists them).",
        )
    return (
        "the scale is a free knob: no parameters, same shapes, yet it sets how far each of 39 "
        "blocks may push x. "
        f"{unscaled[0]} is left unscaled and linear so conv_7b sees the raw sum."
    )


def _without_scale(args: dict) -> dict:
    return {key: value for key, value in args.items() if key != "scale"}


def _params_change() -> int:
    """Parameters of one block17 at scale 1.0 minus at scale 0.1 (a small input suffices)."""
    counts = []
    for scale in (0.1, 1.0):
        block = InceptionResBlock17(scale=scale)
        block.build((None, 8, 8, 64))
        counts.append(block.count_params())
    return counts[1] - counts[0]
