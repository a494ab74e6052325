"""ECA and anti-aliased downsampling: the layers compute what the papers (and timm) say."""

import keras
import numpy as np
import pytest
from helpers import assert_keras_round_trip

from resblocks import (
    BlurPool2D,
    BottleNeck,
    DeepStem,
    EfficientChannelAttention,
    ResBlock,
    ResNetStem,
    SqueezeExcite,
)
from resblocks.anti_alias import binomial_filter
from resblocks.efficient_channel_attention import eca_kernel_size


def run(layer, x, training=False):
    return keras.ops.convert_to_numpy(layer(x, training=training))


def images(shape, seed=0):
    return np.random.default_rng(seed).normal(size=(2, *shape)).astype("float32")


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


# === Efficient channel attention ===


@pytest.mark.parametrize(
    "channels, k", [(64, 3), (128, 5), (256, 5), (512, 5), (1024, 5), (2048, 7)]
)
def test_eca_kernel_grows_with_the_channels_as_timm_rounds_it(channels, k):
    assert eca_kernel_size(channels) == k


def test_eca_gates_each_channel_by_a_1d_convolution_of_the_pooled_channels():
    eca = EfficientChannelAttention()
    x = images((4, 4, 16))
    out = run(eca, x)
    assert eca.kernel == 3 and [tuple(w.shape) for w in eca.weights] == [(3, 1, 1)]
    w = keras.ops.convert_to_numpy(eca.conv.kernel)[:, 0, 0]
    pooled = np.pad(x.mean(axis=(1, 2)), [(0, 0), (1, 1)])  # zero padding at both ends
    gate = sigmoid(w[0] * pooled[:, :-2] + w[1] * pooled[:, 1:-1] + w[2] * pooled[:, 2:])
    np.testing.assert_allclose(out, x * gate[:, None, None, :], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kernel_size", [0, 4])
def test_eca_refuses_an_even_kernel(kernel_size):
    with pytest.raises(ValueError, match=r"`kernel_size`.*odd.*Received: kernel_size="):
        EfficientChannelAttention(kernel_size)


@pytest.mark.parametrize("block", [BottleNeck, ResBlock])
def test_attention_chooses_the_gate(block):
    assert isinstance(block(8, attention="eca").se, EfficientChannelAttention)
    assert block(8, attention="se").se.se_ratio == 1 / 16
    assert block(8, se_ratio=0.25).se.se_ratio == 0.25  # se_ratio alone: SE, as before
    assert isinstance(block(8, attention="se", se_ratio=0.5).se, SqueezeExcite)
    assert block(8).se is None


def test_eca_with_se_ratio_is_refused():
    with pytest.raises(ValueError, match=r"`se_ratio`.*ECA has no bottleneck"):
        BottleNeck(8, attention="eca", se_ratio=0.25)
    with pytest.raises(ValueError, match=r"`attention`.*Received: attention='cbam'"):
        ResBlock(8, attention="cbam")


# === Anti-aliased downsampling ===


def test_blur_pool_is_timms_binomial_blur_with_reflect_padding():
    assert binomial_filter(3) == [0.25, 0.5, 0.25]
    x = images((5, 7, 3))
    out = run(BlurPool2D(), x)
    assert out.shape == (2, 3, 4, 3)
    padded = np.pad(x, [(0, 0), (1, 1), (1, 1), (0, 0)], mode="reflect")
    blur = np.outer([1, 2, 1], [1, 2, 1]) / 16
    expected = np.zeros_like(out)
    for i in range(3):
        for j in range(4):
            window = padded[:, 2 * i : 2 * i + 3, 2 * j : 2 * j + 3, :]
            expected[:, i, j] = np.einsum("bhwc,hw->bc", window, blur)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)
    assert BlurPool2D().compute_output_shape((2, 5, 7, 3)) == (2, 3, 4, 3)


@pytest.mark.parametrize("anti_alias, pool", [("avg", "AveragePooling2D"), ("blur", "BlurPool2D")])
def test_anti_alias_moves_the_stride_into_a_pool_after_the_3x3(anti_alias, pool):
    x = images((8, 8, 16))
    bottleneck = BottleNeck(4, strides=2, stride_at="3x3", anti_alias=anti_alias)
    basic = ResBlock(16, strides=2, anti_alias=anti_alias)
    for block, strided in ((bottleneck, bottleneck.conv2), (basic, basic.conv1)):
        assert run(block, x).shape[1:3] == (4, 4)
        assert strided.strides == 1 and type(block.aa).__name__ == pool
        assert block.aa in block.branch()
    assert BottleNeck(4, anti_alias=anti_alias, stride_at="3x3").aa is None  # stride 1: no pool


def test_anti_alias_needs_the_stride_on_the_3x3():
    with pytest.raises(ValueError, match=r"`anti_alias`.*stride_at='3x3'"):
        BottleNeck(4, strides=2, stride_at="1x1", anti_alias="avg")


def test_stems_pool_as_timms_aa_layer():
    x = images((32, 32, 3))
    avg, blur = ResNetStem(8, anti_alias="avg"), DeepStem(8, stem_width=8, anti_alias="blur")
    assert run(avg, x).shape == run(blur, x).shape == (2, 8, 8, 8)
    assert type(avg.pool).__name__ == "AveragePooling2D" and avg.aa is None
    assert blur.pool.strides == (1, 1) and isinstance(blur.aa, BlurPool2D)
    with pytest.raises(ValueError, match=r"`anti_alias`.*max_pool=False"):
        ResNetStem(8, max_pool=False, anti_alias="blur")


def test_tiered_deep_stem_is_24_32_64():
    stem = DeepStem(first_width=24)
    run(stem, images((32, 32, 3)))
    kernels = [tuple(conv.conv.kernel.shape) for conv in stem.convs]
    assert kernels == [(3, 3, 3, 24), (3, 3, 24, 32), (3, 3, 32, 64)]


@pytest.mark.parametrize(
    "layer, shape",
    [
        (lambda: BottleNeck(4, 2, "3x3", attention="eca", anti_alias="blur", avg_down=True), 16),
        (lambda: ResBlock(8, strides=2, anti_alias="avg", attention="se"), 8),
        (lambda: DeepStem(8, stem_width=8, first_width=6, anti_alias="blur"), 3),
        (lambda: ResNetStem(8, anti_alias="avg"), 3),
    ],
)
def test_new_layers_survive_a_safe_keras_round_trip(layer, shape, tmp_path):
    assert_keras_round_trip(layer(), (8, 8, shape), tmp_path, atol=1e-6, seed=0)
