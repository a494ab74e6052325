"""Res2Net, ResNeSt and selective-kernel blocks: shapes, their rules, and .keras round trips.

Each block alone, at tiny inputs (grouped convolutions are slow on a CPU);
whole networks against timm's layout are tests/registry/pretrained/
test_torch_weights_split.py.
"""

import keras
import numpy as np
import pytest
from helpers import assert_keras_round_trip

from resblocks import (
    Res2NetBottleneck,
    ResNestBottleneck,
    SelectiveKernel,
    SelectiveKernelBlock,
    SelectiveKernelBottleneck,
    SplitAttention,
)
from resblocks.checks import ArgumentError


def run(layer, shape):
    x = np.random.default_rng(0).normal(size=(2, *shape)).astype("float32")
    return keras.ops.convert_to_numpy(layer(x, training=False))


def kernel_shapes(layer) -> list[tuple]:
    return sorted(tuple(w.shape) for w in layer.weights if w.name == "kernel")


def test_res2net_splits_into_scale_groups_and_chains_them_after_the_first_block():
    first, later = Res2NetBottleneck(8, strides=2, scale=4), Res2NetBottleneck(8, scale=4)
    assert run(first, (8, 8, 16)).shape == (2, 4, 4, 32)
    assert run(later, (8, 8, 32)).shape == (2, 8, 8, 32)
    # width = 8 * 26 / 64 = 3 per group: a 1x1 to 12, three 3x3s of 3 -> 3, a 1x1 to 32.
    assert first.width == 3 and len(first.convs) == 3
    assert kernel_shapes(later) == sorted([(1, 1, 32, 12), *[(3, 3, 3, 3)] * 3, (1, 1, 12, 32)])
    assert (first.chained, first.pool is not None) == (False, True)
    assert (later.chained, later.pool) == (True, None)


def recorded(layer, log: list) -> None:
    """Makes `layer` append (its input, its output) to `log` on each call."""
    original = layer.call

    def call(x, training=None):
        y = original(x, training=training)
        log.append((keras.ops.convert_to_numpy(x), keras.ops.convert_to_numpy(y)))
        return y

    layer.call = call


@pytest.mark.parametrize("strides, channels, chained", [(1, 32, True), (2, 16, False)])
def test_res2net_3x3s_read_their_group_plus_the_previous_output(strides, channels, chained):
    """y_i = K_i(x_i + y_{i-1}) in a chained block; y_i = K_i(x_i) in a stage's first block."""
    block = Res2NetBottleneck(8, strides=strides, scale=4)
    block.build((None, 6, 6, channels))
    reduced, threes = [], []
    recorded(block.conv1, reduced)
    for conv in block.convs:
        recorded(conv, threes)
    block(np.random.default_rng(0).normal(size=(1, 6, 6, channels)).astype("float32"))
    groups = np.split(reduced[0][1], 4, axis=-1)
    for i, (seen, _) in enumerate(threes):
        expected = groups[i] + threes[i - 1][1] if chained and i > 0 else groups[i]
        np.testing.assert_allclose(seen, expected, atol=1e-6)


@pytest.mark.parametrize("scale", [0, 2.5, True])
def test_res2net_refuses_a_scale_that_is_not_a_count(scale):
    with pytest.raises(ArgumentError, match=r"Received: scale="):
        Res2NetBottleneck(8, scale=scale)


def test_split_attention_weighs_radix_splits_per_cardinal_group():
    layer = SplitAttention(8, radix=2, cardinality=2)
    assert run(layer, (4, 4, 8)).shape == (2, 4, 4, 8)
    # conv: 16 outputs in 4 groups of 2 inputs; fc1: 32 (the minimum) in 2 groups; fc2: back to 16.
    assert kernel_shapes(layer) == sorted([(3, 3, 2, 16), (1, 1, 4, 32), (1, 1, 16, 16)])


@pytest.mark.parametrize("avd_first", [False, True])
def test_resnest_strides_by_average_pool_where_avd(avd_first):
    block = ResNestBottleneck(4, strides=2, radix=2, avd=True, avd_first=avd_first)
    assert run(block, (8, 8, 8)).shape == (2, 4, 4, 16)
    assert block.conv2.strides == 1 and block.avd_pool is not None
    order = [layer.name for layer in block.branch() if layer is not None]
    assert order.index("pool") < order.index("conv2") if avd_first else True
    plain = ResNestBottleneck(4, strides=2, avd=False)
    assert plain.conv2.strides == 2 and plain.avd_pool is None


def test_selective_kernel_strides_its_dilated_path_by_subsampling():
    layer = SelectiveKernel(8, strides=2, split_input=True)
    assert run(layer, (7, 7, 8)).shape == (2, 4, 4, 8)
    first, dilated = layer.branches
    assert (first.strides, first.dilation_rate) == (2, 1)
    assert (dilated.strides, dilated.dilation_rate) == (1, 2)
    # Each path reads half the 8 input channels.
    assert first.conv.kernel.shape == (3, 3, 4, 8)


def test_selective_kernel_refuses_channels_it_cannot_split():
    with pytest.raises(ValueError, match="must be a multiple of `paths`"):
        SelectiveKernel(8, paths=2)(np.zeros((1, 4, 4, 3), "float32"))


# Each block small: (layer, input shape without the batch axis).
ROUND_TRIP = [
    (lambda: Res2NetBottleneck(8, strides=2, scale=3, avg_down=True), (8, 8, 16)),
    (lambda: Res2NetBottleneck(8, scale=4, base_width=8, cardinality=2), (4, 4, 32)),
    (lambda: ResNestBottleneck(4, strides=2, radix=2, cardinality=1), (8, 8, 8)),
    (lambda: ResNestBottleneck(4, strides=2, radix=1, cardinality=2, avd_first=True), (8, 8, 8)),
    (lambda: SelectiveKernelBlock(8, strides=2, attn_ratio=0.125), (8, 8, 4)),
    (lambda: SelectiveKernelBottleneck(4, cardinality=2, split_input=False), (4, 4, 8)),
]


@pytest.mark.parametrize("make, shape", ROUND_TRIP, ids=lambda v: "" if callable(v) else str(v))
def test_each_block_round_trips_through_a_keras_file(make, shape, tmp_path):
    assert_keras_round_trip(make(), shape, tmp_path)
