"""The same numbers on every backend: for every layout in `make test`, every recipe in test-slow.

A model saved on one backend (`.keras` and `.weights.h5`) loads on the
other two with the same logits, within 1e-5 of the largest (float32,
inference mode); and a training step from the same weights gives the same
loss within 1e-4 (of the loss, if above 1), and the same loss after it
(see STEP). This process's
backend (TensorFlow under `make test`) makes each model; a worker on each
other backend checks it and saves it again from there, for this process
and the third backend to check. So all six directions are covered: TF -> JAX, TF -> torch,
JAX -> TF, JAX -> torch, torch -> TF, torch -> JAX.
"""

import exchange
import keras
import numpy as np
import pytest
from backend_workers import ask
from helpers import parameters, representatives

from registry import list_models

LOGITS = 1e-5  # relative to the largest logit (at least 1)
LOSS = 1e-4  # on the loss of the training step, relative to it (at least 1)
# After one step, the loss may differ by 2% of how far the step moved it,
# more than 1e-4 where it moved far. At random weights and 4 images, deep
# BN layers see few values per channel, and the gradient there is so
# sensitive that float32 rounding changes the step's effect: measured TF vs
# JAX 0.44% on inception_resnet_v2, torch 0.19% on resnet50_tv.
STEP = 0.02


def compare(result, reference: dict, direction: str) -> None:
    for kind, file in (("keras", ".keras"), ("weights", ".weights.h5")):
        diff = exchange.max_relative_diff(result[f"{kind}_logits"], reference["logits"])
        assert diff <= LOGITS, f"{direction}, {file}: logits differ by {diff:.2e}"
    if "losses" not in result:
        return
    (first, second), (first_ref, second_ref) = result["losses"], reference["losses"]
    assert abs(first - first_ref) <= LOSS * max(1.0, abs(first_ref)), (
        f"{direction}: the training step's loss is {first}, {first_ref} on the reference"
    )
    moved = abs(second_ref - first_ref)
    assert abs(second - second_ref) <= LOSS + STEP * moved, (
        f"{direction}: the loss after one step is {second}, {second_ref} on the reference "
        f"(which the step moved by {moved:.2e})"
    )


# `make test` compares the smallest network of each layout: the smallest
# recipe made of each set of layer classes (helpers.representatives) with
# one block per stage (exchange.SHALLOW). The training step, three per
# case (compiled on JAX: 6.6 s for resnest14d on 2 cores), is compared
# there on the representatives of at most TRAIN_PARAMS parameters at full
# size (5 of the 13: preact_resnet18_cifar, resnetblur18, resnest14d,
# skresnet18 and fashion_mnist_best); the grouped convolution trains on
# every backend in tests/resblocks. `make test-slow` compares every full
# recipe (34 took about 25 minutes on 2 cores), with the training step on
# each representative.
TRAIN_PARAMS = 12_000_000


def cases() -> list:
    """(case, whether to train a step): the shallow representatives, then every recipe (slow)."""
    slow = pytest.mark.slow
    shown = representatives()
    found = [
        pytest.param(
            name + exchange.SHALLOW,
            parameters(name) <= TRAIN_PARAMS,
            id=f"{name}-one_block_per_stage",
        )
        for name in shown
    ]
    for name in list_models():
        found.append(pytest.param(name, name in shown, marks=slow, id=name))
    return found


@pytest.mark.parametrize("name, train", cases())
def test_same_numbers_on_every_backend(name, train, workers, tmp_path):
    here = keras.config.backend()
    reference = exchange.make(name, tmp_path, train=train)
    if train:
        first, second = reference["losses"]
        assert abs(second - first) > 1e-3, "the step must move the loss, or it tests no gradient"

    ask(workers.values(), op="check", name=name, folder=tmp_path, saved_on=here, train=train)
    # Here too: the same numbers exactly, and the same layers.
    result, loaded = exchange.check(name, tmp_path, here, train=False)
    for kind in ("keras", "weights"):
        np.testing.assert_array_equal(result[f"{kind}_logits"], reference["logits"])
    assert [layer.name for layer in loaded.layers] == reference["layer_names"]
    for other in workers:
        compare(
            np.load(exchange.result_path(tmp_path, here, other)), reference, f"{here} -> {other}"
        )
    exchange.remove(tmp_path, here)

    for saver, worker in workers.items():
        ask([worker], op="save", folder=tmp_path)
        third = [w for b, w in workers.items() if b != saver]
        for w in third:
            w.send(op="check", name=name, folder=tmp_path, saved_on=saver, train=False)
        result, _ = exchange.check(name, tmp_path, saver, train=False)
        compare(result, reference, f"{saver} -> {here}")
        for w in third:
            w.receive()
            loaded = np.load(exchange.result_path(tmp_path, saver, w.backend))
            compare(loaded, reference, f"{saver} -> {w.backend}")
        exchange.remove(tmp_path, saver)
