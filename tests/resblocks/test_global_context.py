"""Global context (GCNet) and where byobnet.py puts it: the layers compute what the paper says."""

import keras
import numpy as np
import pytest
from helpers import assert_keras_round_trip

from resblocks import BottleNeck, DeepStem, GlobalContext, ResBlock
from resblocks.global_context import gc_channels


def run(layer, x, training=False):
    return keras.ops.convert_to_numpy(layer(x, training=training))


def images(shape, seed=0):
    return np.random.default_rng(seed).normal(size=(2, *shape)).astype("float32")


def randomised(layer):
    """The layer with every weight drawn at random (its last 1x1 starts at zero)."""
    rng = np.random.default_rng(3)
    for weight in layer.weights:
        weight.assign(rng.normal(0, 0.5, weight.shape).astype("float32"))
    return layer


def test_gc_adds_the_transformed_softmax_pooled_context_at_every_position():
    gc = GlobalContext()
    x = images((3, 5, 16))
    run(gc, x)
    out = run(randomised(gc), x)
    w = {v.path.split("/", 1)[1]: keras.ops.convert_to_numpy(v) for v in gc.weights}
    logits = x @ w["context/kernel"][0, 0] + w["context/bias"]  # (2, 3, 5, 1)
    flat = logits.reshape(2, -1)
    weights = np.exp(flat - flat.max(1, keepdims=True))
    weights = (weights / weights.sum(1, keepdims=True)).reshape(logits.shape)
    context = (x * weights).sum(axis=(1, 2))  # (2, 16): softmax-weighted, not a mean
    y = context @ w["reduce/kernel"][0, 0] + w["reduce/bias"]
    y = (y - y.mean(-1, keepdims=True)) / np.sqrt(y.var(-1, keepdims=True) + 1e-6)
    y = np.maximum(y * w["norm/gamma"] + w["norm/beta"], 0)
    y = y @ w["expand/kernel"][0, 0] + w["expand/bias"]
    np.testing.assert_allclose(out, x + y[:, None, None, :], rtol=1e-5, atol=1e-5)


def test_gc_transform_is_an_eighth_of_the_channels_and_starts_as_the_identity():
    gc = GlobalContext()
    x = images((4, 4, 64))
    np.testing.assert_allclose(run(gc, x), x)  # W_v2 at zero, as the paper's code and timm
    assert tuple(gc.reduce.kernel.shape) == (1, 1, 64, 8) and gc_channels(64, 1 / 8) == 8
    assert gc_channels(20, 1 / 16) == 1 and gc_channels(24, 1 / 16) == 2  # rounded, at least 1
    with pytest.raises(ValueError, match=r"`ratio`.*\(0, 1\].*Received: ratio=0"):
        GlobalContext(ratio=0)


@pytest.mark.parametrize("block", [BottleNeck, ResBlock])
def test_attention_gc_is_the_gate_after_the_last_conv_by_default(block):
    assert isinstance(block(8, attention="gc").se, GlobalContext)
    with pytest.raises(ValueError, match=r"`se_ratio`.*global context.*Received: se_ratio=0.25"):
        block(8, attention="gc", se_ratio=0.25)


def test_attention_at_3x3_puts_the_gate_between_the_3x3_and_conv3():
    block = BottleNeck(4, 2, "3x3", attention="gc", attention_at="3x3")
    out = run(block, images((8, 8, 16)))
    assert out.shape == (2, 4, 4, 16) and block.se is None
    assert block.branch() == [block.conv1, block.conv2, None, block.attn, block.conv3]
    assert tuple(block.attn.context.kernel.shape) == (1, 1, 4, 1)  # the bottleneck width
    with pytest.raises(ValueError, match=r"`attention_at`.*Received: attention_at='first'"):
        BottleNeck(4, attention="gc", attention_at="first")


def test_deep_stem_stride_last_strides_the_third_conv_in_place_of_the_pool():
    stem = DeepStem(8, stem_width=8, first_width=6, max_pool=False, stride_last=True)
    assert run(stem, images((8, 8, 3))).shape == (2, 2, 2, 8)  # the round trip's shapes
    assert [conv.strides for conv in stem.convs] == [2, 1, 2] and stem.pool is None
    with pytest.raises(ValueError, match=r"`stride_last`.*max_pool=False"):
        DeepStem(8, stride_last=True)


@pytest.mark.parametrize(
    "layer, shape",
    [
        (lambda: randomised_after_build(GlobalContext(), (8, 8, 16)), 16),
        (lambda: BottleNeck(4, 2, "3x3", attention="gc", attention_at="3x3"), 16),
        (lambda: DeepStem(8, stem_width=8, first_width=6, max_pool=False, stride_last=True), 3),
    ],
)
def test_gc_layers_survive_a_safe_keras_round_trip(layer, shape, tmp_path):
    assert_keras_round_trip(layer(), (8, 8, shape), tmp_path, atol=1e-5, seed=0)


def randomised_after_build(layer, shape):
    layer.build((None, *shape))
    return randomised(layer)
