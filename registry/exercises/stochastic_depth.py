"""Exercise stochastic_depth: the expected depth of ResNet-50 under stochastic depth.

Huang et al. 2016, "Deep Networks with Stochastic Depth", sec. 3: block l
survives a training step with probability p_l, so the expected number of
active blocks is the sum of the p_l (their eq. for the linear decay rule).
resblocks follows timm's rule, rate_k = drop_path_rate * k / (N - 1) for
k = 0..N-1; the student counts the blocks, reads the rates, computes the
expected depth with both indexings and sees that they differ by half a
block. The checker compares with the rates of the built model.
"""

import functools
from pathlib import Path

from registry.assembly import build
from registry.exercises.worksheet import check_number, read_yaml_file

TITLE = "Stochastic depth: the expected depth of ResNet-50 at drop_path_rate 0.2"
STARTER = "starter.yaml"

RECIPE = "resnet50"
RATE = 0.2


def check(path: Path) -> str:
    sheet = read_yaml_file(path)
    answers = sheet.get("answers") or {}
    rates = _rates()
    blocks = len(rates)
    check_number(
        answers,
        "residual_blocks",
        blocks,
        "Count the blocks of every stage of recipes/resnet50.yaml: the `repeats`.",
        rel=0,
    )
    check_number(
        answers,
        "first_rate",
        rates[0],
        "timm's rule: drop_path_rate * k / (N - 1), with k counted from 0.",
        rel=1e-3,
    )
    check_number(
        answers,
        "last_rate",
        rates[-1],
        "The last block, k = N - 1, drops at the full drop_path_rate.",
        rel=1e-3,
    )
    expected = sum(1 - rate for rate in rates)
    check_number(
        answers,
        "expected_depth",
        expected,
        "A block is active with probability 1 - its rate; the expected number of active blocks "
        "is the sum of those (Huang et al., sec. 3).",
        rel=1e-3,
    )
    # Huang et al.'s own indexing: p_l = 1 - l / L (1 - p_L), l = 1..L.
    huang = sum(1 - layer / blocks * RATE for layer in range(1, blocks + 1))
    check_number(
        answers,
        "huang_expected_depth",
        huang,
        "Use the paper's p_l = 1 - l / L (1 - p_L), with l from 1 to L and p_L = 1 - 0.2; its "
        "sum has a closed form.",
        rel=1e-3,
    )
    return (
        f"{blocks} residual blocks, {expected:.1f} active on average with timm's rule and "
        f"{huang:.2f} with the paper's: Huang's first block already drops {RATE / blocks:.4f}, "
        "timm's never does. At inference all are active."
    )


@functools.cache
def _rates() -> tuple[float, ...]:
    """The per-block drop rates of the built network (once per process)."""
    model = build(RECIPE, input_shape=(64, 64, 3), drop_path_rate=RATE)
    return tuple(layer.drop_path_rate for layer in model.layers if hasattr(layer, "drop_path_rate"))
