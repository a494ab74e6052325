"""ResNeXt, Wide ResNets, SE and ResNet-D: the blocks' arguments do what the papers say."""

import keras
import numpy as np
import pytest
from helpers import assert_keras_round_trip

from resblocks import (
    AvgDownShortcut,
    BottleNeck,
    ConvBN,
    DeepStem,
    GroupedConv2D,
    ResBlock,
    SqueezeExcite,
)
from resblocks.grouped_conv import IMPLEMENTATIONS, fastest_implementation
from resblocks.residual import bottleneck_width
from resblocks.squeeze_excite import se_channels


def run(layer, x, training=False):
    return keras.ops.convert_to_numpy(layer(x, training=training))


def images(shape, seed=0):
    return np.random.default_rng(seed).normal(size=(2, *shape)).astype("float32")


# === Grouped convolution ===


@pytest.mark.parametrize("implementation", [i for i in IMPLEMENTATIONS if i != "native"])
@pytest.mark.parametrize(
    "groups, channels, filters, strides, dilation, padding",
    [
        (32, 128, 128, 1, 1, "same"),  # ResNeXt-50's conv2: 4 in, 4 out per group
        (4, 32, 64, 2, 1, "valid"),  # more outputs than inputs per group, strided
        (8, 64, 64, 1, 2, "same"),  # dilated (output_stride)
    ],
)
def test_every_implementation_computes_the_grouped_convolution(
    implementation, groups, channels, filters, strides, dilation, padding
):
    x = images((9, 9, channels))
    native = GroupedConv2D(
        filters,
        3,
        groups=groups,
        strides=strides,
        dilation_rate=dilation,
        padding=padding,
        implementation="native",
    )
    expected = run(native, x)
    other = GroupedConv2D.from_config({**native.get_config(), "implementation": implementation})
    other.build(x.shape)
    other.set_weights(native.get_weights())
    np.testing.assert_allclose(run(other, x), expected, atol=2e-5)
    if implementation != "auto":
        assert other.chosen_implementation() == implementation


def test_grouped_conv_weights_are_keras_conv2d_weights():
    # Same kernel layout and values: a keras Conv2D(groups=g) gives the same output.
    x = images((8, 8, 16))
    grouped = GroupedConv2D(32, 3, groups=4, padding="same")
    y = run(grouped, x)
    plain = keras.layers.Conv2D(32, 3, groups=4, padding="same")
    plain.build(x.shape)
    assert [w.shape for w in plain.weights] == [w.shape for w in grouped.weights]
    plain.set_weights(grouped.get_weights())
    np.testing.assert_allclose(run(plain, x), y, atol=2e-5)


def test_grouped_conv_config_is_conv2ds_plus_the_implementation():
    layer = GroupedConv2D(8, 3, groups=4, implementation="split", strides=2)
    config = layer.get_config()
    plain = keras.layers.Conv2D(8, 3, groups=4, strides=2).get_config()
    assert set(config) - set(plain) == {"implementation"}
    assert GroupedConv2D.from_config(config).get_config() == config


def test_auto_picks_by_backend():
    assert fastest_implementation("torch") == "native"
    assert fastest_implementation("tensorflow") == "split"
    assert fastest_implementation("jax") == "split"
    assert fastest_implementation("jax", "channels_first") == "native"


def test_grouped_conv_trains():
    layer = GroupedConv2D(8, 3, groups=4, padding="same")
    model = keras.Sequential([keras.Input((6, 6, 8)), layer])
    model.compile(keras.optimizers.SGD(0.1), "mse")
    before = layer.kernel.numpy().copy()
    model.train_on_batch(images((6, 6, 8)), np.ones((2, 6, 6, 8), "float32"))
    assert not np.allclose(layer.kernel.numpy(), before)


def test_conv_bn_groups_must_divide_the_channels():
    with pytest.raises(ValueError, match=r"groups.*do not divide the 100 output channels"):
        ConvBN(100, 3, groups=32)
    with pytest.raises(ValueError, match=r"multiple of 4, but its input has 6"):
        ConvBN(8, 3, groups=4).build((None, 8, 8, 6))


# === ResNeXt and Wide ResNets: the inner width ===


@pytest.mark.parametrize(
    "filters, base_width, groups, width",
    [
        (64, 64, 1, 64),  # ResNet-50 conv2
        (64, 4, 32, 128),  # ResNeXt-50 32x4d conv2 (Xie et al., Table 1)
        (512, 4, 32, 1024),  # and conv5
        (256, 8, 32, 1024),  # ResNeXt-101 32x8d conv4
        (64, 128, 1, 128),  # Wide ResNet-50-2 conv2
        (64, 40, 2, 80),  # Table 2's 2x40d
    ],
)
def test_bottleneck_width_is_torchvisions_rule(filters, base_width, groups, width):
    assert bottleneck_width(filters, base_width, groups) == width
    block = BottleNeck(filters, groups=groups, base_width=base_width)
    assert block.conv1.filters == block.conv2.filters == width
    assert block.conv2.groups == groups and block.conv3.filters == filters * 4


def test_resnext_block_has_the_papers_parameters():
    # Xie et al. Fig. 1: a 256-d block of 32 paths of width 4 has
    # 256*128 + 3*3*4*128 + 128*256 = 70k weights, about ResNet's 69,632.
    block = BottleNeck(64, groups=32, base_width=4)
    run(block, images((8, 8, 256)))
    convs = [layer.conv.kernel for layer in (block.conv1, block.conv2, block.conv3)]
    assert sum(int(np.prod(k.shape)) for k in convs) == 256 * 128 + 9 * 4 * 128 + 128 * 256


def test_base_width_too_small_for_the_planes_is_refused():
    with pytest.raises(ValueError, match="base_width >= 8"):
        BottleNeck(8, base_width=4)


# === Squeeze-and-excitation ===


@pytest.mark.parametrize("channels, width", [(256, 16), (2048, 128), (64, 8), (100, 8)])
def test_se_width_is_timms_rounding(channels, width):
    assert se_channels(channels, 1 / 16) == width


def test_se_rescales_each_channel_by_a_gate_in_0_1():
    se = SqueezeExcite(0.25)
    x = np.abs(images((5, 5, 16))) + 0.1
    out = run(se, x)
    gate = out / x
    # One factor per sample and channel, the same at every pixel, in (0, 1).
    np.testing.assert_allclose(gate, gate[:, :1, :1, :].repeat(5, 1).repeat(5, 2), rtol=1e-5)
    assert ((gate > 0) & (gate < 1)).all()
    assert [w.shape for w in se.weights] == [(1, 1, 16, 8), (8,), (1, 1, 8, 16), (16,)]


@pytest.mark.parametrize("ratio", [0.0, -0.5, 1.5])
def test_se_ratio_outside_0_1_is_refused(ratio):
    with pytest.raises(ValueError, match=r"se_ratio.*\(0, 1\]"):
        SqueezeExcite(ratio)


@pytest.mark.parametrize("block", [ResBlock(8, se_ratio=0.25), BottleNeck(2, se_ratio=0.25)])
def test_se_sits_on_the_branch_before_the_sum(block):
    x = images((6, 6, 8))
    run(block, x)
    assert block.se is not None and block.se.built
    # With the gate's bias driven to -inf, the branch is cut: relu(x) is left.
    block.se.expand.bias.assign(np.full(block.se.expand.bias.shape, -1e4, "float32"))
    np.testing.assert_allclose(run(block, x), np.maximum(x, 0), atol=1e-6)


# === ResNet-D: deep stem and average-pool shortcut ===


def test_avg_down_shortcut_averages_before_projecting():
    block = BottleNeck(4, strides=2, stride_at="3x3", avg_down=True)
    x = images((7, 7, 8))
    assert run(block, x).shape == (2, 4, 4, 16)
    shortcut = block.downsample
    assert isinstance(shortcut, AvgDownShortcut) and block.shortcut_kind == "projection"
    assert shortcut.conv.strides == 1 and shortcut.conv.conv.kernel.shape == (1, 1, 8, 16)
    # The odd last row and column average the real pixels only, as timm's
    # AvgPool2d(ceil_mode=True, count_include_pad=False).
    pooled = keras.ops.convert_to_numpy(shortcut.pool(x))
    np.testing.assert_allclose(pooled[:, 0, 0], x[:, :2, :2].mean(axis=(1, 2)), rtol=1e-5)
    np.testing.assert_allclose(pooled[:, 3, 3], x[:, 6, 6], rtol=1e-5)


def test_avg_down_at_stride_one_is_a_plain_projection():
    block = ResBlock(16, avg_down=True)
    run(block, images((6, 6, 8)))
    assert block.downsample.pool is None


def test_deep_stem_is_three_3x3_convolutions():
    stem = DeepStem()
    assert run(stem, images((32, 32, 3))).shape == (2, 8, 8, 64)
    kernels = [conv.conv.kernel.shape for conv in stem.convs]
    assert kernels == [(3, 3, 3, 32), (3, 3, 32, 32), (3, 3, 32, 64)]


def test_tiered_deep_stem_climbs_24_32_64():
    """timm's stem_type="deep_tiered": the first convolution 3 * (32 // 4) wide."""
    stem = DeepStem(first_width=24)
    assert run(stem, images((32, 32, 3))).shape == (2, 8, 8, 64)
    kernels = [conv.conv.kernel.shape for conv in stem.convs]
    assert kernels == [(3, 3, 3, 24), (3, 3, 24, 32), (3, 3, 32, 64)]


def test_conv_pool_downsamples_with_a_strided_convolution():
    """ResNet-RS (timm's replace_stem_pool): a 3x3/2 conv-BN-ReLU where the max-pool was."""
    stem = DeepStem(max_pool=False, conv_pool=True)
    assert run(stem, images((32, 32, 3))).shape == (2, 8, 8, 64)
    assert stem.pool is None
    assert stem.pool_conv.conv.kernel.shape == (3, 3, 64, 64)
    assert stem.pool_conv.conv.strides == (2, 2)


def test_conv_pool_needs_the_max_pool_off():
    with pytest.raises(ValueError, match="argument `conv_pool`.*needs max_pool=False"):
        DeepStem(conv_pool=True)


@pytest.mark.parametrize(
    "layer",
    [
        BottleNeck(4, strides=2, groups=2, base_width=32, se_ratio=0.25, avg_down=True),
        ResBlock(8, strides=2, se_ratio=0.5, avg_down=True),
        DeepStem(16, stem_width=8),
        GroupedConv2D(8, 3, groups=4, implementation="split"),
    ],
)
def test_new_layers_survive_a_safe_keras_round_trip(layer, tmp_path):
    assert_keras_round_trip(layer, (8, 8, 8), tmp_path, atol=1e-6, seed=0)
