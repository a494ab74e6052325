"""Exercise feature_pyramid: read the shapes of ResNet-101's multi-scale features.

The feature extractor of the first seed article returns c1..c5: the stem's
output and each stage's last block. Detection and segmentation heads (FPN)
are built on these maps, so their sizes and strides must be known by heart.
"""

import functools
import math
from pathlib import Path

from registry.assembly import build
from registry.exercises.worksheet import Fail, answer, number, read_yaml_file

TITLE = "Read the feature-pyramid shapes of ResNet-101 (c1..c5)"
STARTER = "starter.yaml"

TAPS = ("c1", "c2", "c3", "c4", "c5")
SIZE = 224


def check(path: Path) -> str:
    sheet = read_yaml_file(path)
    answers = sheet.get("answers") or {}
    shapes = _mapping(answers, "shapes")
    for name in TAPS:  # the form of every answer first: building ResNet-101 takes seconds
        got = shapes.get(name)
        if not (isinstance(got, list) and len(got) == 3 and all(isinstance(d, int) for d in got)):
            raise Fail(
                f"answers.shapes.{name} must be [height, width, channels]. Received: {got!r}",
                "Build the extractor and print `{k: v.shape for k, v in model.output.items()}`, or "
                "reason from the recipe: "
                "which layers halve the map, and how many channels does each stage output?",
            )
    truth = _truth()
    for name in TAPS:
        got = shapes[name]
        if tuple(got) != truth[name]:
            wrong = "height and width" if tuple(got[:2]) != truth[name][:2] else "channels"
            hint = (
                "Halve the size once per stride-2 step: the stem has two (7x7/2 conv, 3x3/2 "
                "max-pool), conv2 none, conv3..conv5 one each."
                if wrong == "height and width"
                else "A bottleneck stage outputs filters x 4 channels (expansion 4); "
                "the stem outputs its own filters."
            )
            raise Fail(f"answers.shapes.{name} = {got}: the {wrong} are wrong.", hint)

    strides = _mapping(answers, "strides")
    for name in TAPS:
        want = SIZE // truth[name][0]
        got = number(
            strides,
            name,
            "The stride of a map is how many input pixels one of its pixels covers: 224 / its "
            "height.",
            where="answers.strides",
        )
        if got != want:
            raise Fail(
                f"answers.strides.{name} = {got:g} is wrong.",
                f"Divide {SIZE} by the height of {name}.",
            )

    c5_stride = SIZE // truth["c5"][0]
    size = number(
        answers, "input_for_c5_16", "Which square input gives a 16x16 c5? Use the stride of c5."
    )
    if math.ceil(size / c5_stride) != 16:
        raise Fail(
            f"answers.input_for_c5_16 = {size:g} does not give a 16x16 c5.",
            "Multiply the wanted size by the stride of c5.",
        )
    return (
        f"c1..c5 at strides {', '.join(str(SIZE // truth[n][0]) for n in TAPS)}: c1 and c2 share "
        "stride 4, "
        "so a feature pyramid usually starts at c2 with its 256 channels."
    )


@functools.cache
def _truth() -> dict[str, tuple]:
    """The shapes of c1..c5 at SIZE, from the built network (once per process)."""
    model = build("resnet101", include_top=False, features=list(TAPS), input_shape=(SIZE, SIZE, 3))
    return {name: tuple(model.output[name].shape[1:]) for name in TAPS}


def _mapping(answers, key: str) -> dict:
    value = answer(answers, key, f"Fill in answers.{key} for c1 .. c5.")
    if not isinstance(value, dict):
        raise Fail(
            f"answers.{key} must be a mapping c1..c5 -> value. Received: {value!r}",
            f"Keep the starter's layout of answers.{key}.",
        )
    return value
