"""Exercise cardinality: ResNeXt's Table 2, cardinality against width at equal cost.

Xie et al. 2017, Table 2: at about ResNet-50's 4.1 billion multiply-adds,
a bottleneck of C paths of width d is more accurate the more paths it has
(1x64d 23.9% top-1 error, 2x40d 23.0, 4x24d 22.6, 8x14d 22.3, 32x4d 22.2).
The student finds, for C = 2, 4, 8 and 32, a width d that keeps ResNet-50's
cost, from the rule width = int(filters * d / 64) * C. The checker builds
each (C, d) network and accepts a d whose multiply-adds are within 5% of
resnet50_tv's, the tolerance within which the paper calls them equal.
"""

import functools
from pathlib import Path

from registry.exercises.worksheet import Fail, answer, check_number, number, read_yaml_file
from registry.inspection import profile

TITLE = "Cardinality or width: ResNeXt's Table 2 at ResNet-50's cost"
STARTER = "starter.yaml"

RECIPE = "resnet50_tv"
CARDINALITIES = (2, 4, 8, 32)
TOLERANCE = 0.05
# Multiply-adds scale with the map's area, so ratios counted at 64x64 are
# those at 224x224 (up to the tiny classifier), at a fraction of the time.
COUNT_AT = (64, 64, 3)


def check(path: Path) -> str:
    sheet = read_yaml_file(path)
    answers = sheet.get("answers") or {}
    count = "Count it: `resblocks show resnet50_tv` prints the total multiply-accumulates, in G."
    number(answers, "resnet50_gmacs", count)  # filled in, before anything is built
    check_number(answers, "resnet50_gmacs", _macs(1, 64, (224, 224, 3)) / 1e9, count, rel=0.01)
    hint = (
        "The 3x3 of a stage costs 9 * width^2 / C per pixel and the two 1x1s 2 * 4 * filters * "
        "width, with width = int(filters * d / 64) * C; solve for d, then measure: "
        "`registry.profile({'base': 'resnet50_tv', 'name': 'mine', 'defaults': {'groups': C, "
        "'base_width': d}}).total.macs`."
    )
    widths = answer(answers, "widths", hint)
    if not isinstance(widths, dict):
        raise Fail(
            f"answers.widths must map each cardinality to a width. Received: {widths!r}", hint
        )
    base = _macs(1, 64)
    for groups in CARDINALITIES:
        d = number(widths, groups, hint, where="answers.widths")
        if d != int(d) or d < 1:
            raise Fail(f"answers.widths.{groups} must be a whole number of channels.", hint)
        ratio = _macs(groups, int(d)) / base
        if abs(ratio - 1) > TOLERANCE:
            direction = "more" if ratio > 1 else "fewer"
            raise Fail(
                f"{groups}x{int(d)}d has {abs(ratio - 1):.0%} {direction} multiply-adds than "
                "ResNet-50; Table 2 compares networks of equal cost.",
                hint,
            )
    check_number(
        answers,
        "resnext50_params_m",
        _params(32, 4) / 1e6,
        "Build it: `build('resnext50_32x4d')`; its trainable parameters, in millions.",
        rel=0.01,
    )
    return (
        "at equal cost, Table 2 finds 32 paths of width 4 (22.2% top-1 error) better than one of "
        "width 64 (23.9%): cardinality is a better use of multiply-adds than width. ResNeXt-50 "
        f"even has fewer parameters ({_params(32, 4) / 1e6:.2f} M against "
        f"{_params(1, 64) / 1e6:.2f} M)."
    )


def _recipe(groups: int, base_width: int) -> dict:
    return {
        "base": RECIPE,
        "name": f"resnext_{groups}x{base_width}d",
        "defaults": {"stride_at": "3x3", "groups": groups, "base_width": base_width},
    }


@functools.cache
def _macs(groups: int, base_width: int, input_shape: tuple = COUNT_AT) -> int:
    return profile(_recipe(groups, base_width), input_shape=input_shape).total.macs


@functools.cache
def _params(groups: int, base_width: int) -> int:
    return profile(_recipe(groups, base_width), input_shape=COUNT_AT).total.trainable
