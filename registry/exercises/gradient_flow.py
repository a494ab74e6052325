"""Exercise gradient_flow: do a deep plain network's gradients vanish at initialisation?

Folklore says a deep plain network trains worse because its gradients
vanish on the way back to the input. He et al. 2015 (sec. 4.1) say their
plain networks, which have batch normalization, do not show it: "the
backward propagated gradients exhibit healthy norms with BN". The student
measures the gradient norm of each block of plain56_cifar and
resnet56_cifar at initialisation and answers from the numbers; the
checker measures the same on a batch of its own and compares.
"""

import functools
import math
from pathlib import Path

import keras
import numpy as np

from registry.assembly import build
from registry.exercises.worksheet import Fail, answer, number, read_yaml_file
from registry.inspection.weight_gradients import layer_norms

TITLE = "Why shortcuts help: measure each block's gradient at initialisation, plain and residual"
STARTER = "starter.yaml"

PLAIN, RESIDUAL = "plain56_cifar", "resnet56_cifar"
# An answer in orders of magnitude may be this far from the checker's: the
# student measures on other images (and another seed) than the checker.
ORDERS_TOLERANCE = 1.0
# The first block's norm below a tenth of the last block's: vanishing.
VANISHING_ORDERS = -1.0

MEASURE = (
    f"Run `resblocks gradients {PLAIN} {RESIDUAL} --data DIR --steps 0 --out init.png`: it prints "
    "each network's first and last block's gradient norm at initialisation."
)
ORDERS = (
    "log10(first block's norm / last block's norm): 2 means the first block's gradient is 100 "
    "times the last's, -2 a hundredth of it. " + MEASURE
)
SYNONYMS = {
    PLAIN: PLAIN,
    "plain": PLAIN,
    RESIDUAL: RESIDUAL,
    "residual": RESIDUAL,
    "resnet": RESIDUAL,
}


def check(path: Path) -> str:
    sheet = read_yaml_file(path)
    answers = sheet.get("answers") or {}
    larger = answer(
        answers, "larger_first_block", f"Name one of {PLAIN} and {RESIDUAL}. " + MEASURE
    )
    named = SYNONYMS.get(str(larger).strip().lower())
    if named is None:
        raise Fail(
            f"answers.larger_first_block must be {PLAIN} or {RESIDUAL}. Received: {larger!r}",
            MEASURE,
        )
    norms = measured()
    orders = {name: _orders(values) for name, values in norms.items()}
    wanted = PLAIN if norms[PLAIN][1] > norms[RESIDUAL][1] else RESIDUAL
    if named != wanted:
        raise Fail(
            f"answers.larger_first_block = {larger!r} is wrong.",
            "Compare the two networks' first numbers (the first block after the stem), "
            "not what you expect: " + MEASURE,
        )

    _check_orders(answers, "plain_orders", orders[PLAIN])
    _check_orders(answers, "residual_orders", orders[RESIDUAL])

    vanishing = _yes_no(answers, "plain_vanishing")
    if vanishing != (orders[PLAIN] < VANISHING_ORDERS):
        raise Fail(
            f"answers.plain_vanishing = {'yes' if vanishing else 'no'} does not follow from "
            f"your plain_orders.",
            "Vanishing means the first block's gradient is far smaller than the last's (here: "
            "below a tenth, plain_orders below -1). Answer from your measurement, not from what "
            "is often said about deep networks.",
        )
    return (
        f"at initialisation {PLAIN}'s first block gets about 10^{orders[PLAIN]:.1f} times the "
        f"gradient of its last, {RESIDUAL}'s about 10^{orders[RESIDUAL]:.1f} times. With batch "
        "normalization the plain network's gradients do not vanish, as He et al. 2015 (sec. 4.1) "
        "found; yet it trains worse (Figure 6). Now train both (README) and ask what the "
        "shortcuts change instead."
    )


@functools.cache
def measured() -> dict[str, np.ndarray]:
    """Each network's gradient norm per body layer at initialisation, on the checker's batch.

    32 images of uniform noise (0-255) in 10 classes, weights seeded with 0:
    the same numbers on every run. Measured once per process.
    """
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 255, (32, 32, 32, 3)).astype("float32")
    labels = np.arange(32) % 10
    norms = {}
    for name in (PLAIN, RESIDUAL):
        keras.utils.set_random_seed(0)
        model = build(name, num_classes=10, include_preprocessing=True)
        norms[name] = layer_norms(model, images, labels)
    return norms


def _orders(norms: np.ndarray) -> float:
    """log10 of the first block's norm over the last block's (the stem, norms[0], left out)."""
    return math.log10(float(norms[1]) / float(norms[-1]))


def _check_orders(answers, key: str, expected: float) -> None:
    value = number(answers, key, ORDERS)
    if abs(value - expected) > ORDERS_TOLERANCE:
        direction = "high" if value > expected else "low"
        raise Fail(f"answers.{key} = {value:g} is too {direction}.", ORDERS)


def _yes_no(answers, key: str) -> bool:
    value = answer(answers, key, "Answer yes or no, from your plain_orders.")
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("yes", "no"):
        return text == "yes"
    raise Fail(f"answers.{key} must be yes or no. Received: {value!r}", "Answer yes or no.")
