"""Group norm, weight-standardized convolutions and the -inf pool padding of timm's ResNetV2.

The layers timm's `resnetv2.py` networks need beyond keras.applications'
ResNet-V2: `StdConv2D` (Qiao et al. 2019), group norm through the
`normalization` setting (Wu & He 2018), `NegInfPadding2D` (PyTorch's
max-pool padding), the pre-activation deep stem and ResNet-D shortcut.
"""

import keras
import numpy as np
import pytest
from helpers import assert_keras_round_trip

import resblocks
from resblocks import ConvBN, StdConv2D


def numpy(x) -> np.ndarray:
    return keras.ops.convert_to_numpy(x)


def test_std_conv_standardizes_each_output_channels_kernel():
    conv = StdConv2D(3, 3, padding="same", use_bias=False, epsilon=1e-8)
    x = np.random.default_rng(0).normal(size=(1, 6, 6, 2)).astype("float32")
    conv.build(x.shape)
    kernel = numpy(conv.kernel)
    mean = kernel.mean(axis=(0, 1, 2), keepdims=True)
    standardized = (kernel - mean) / np.sqrt(kernel.var(axis=(0, 1, 2), keepdims=True) + 1e-8)
    plain = keras.layers.Conv2D(3, 3, padding="same", use_bias=False)
    plain.build(x.shape)
    plain.kernel.assign(standardized)
    np.testing.assert_allclose(numpy(conv(x)), numpy(plain(x)), atol=1e-5)
    np.testing.assert_array_equal(numpy(conv.kernel), kernel)  # the raw kernel is kept
    assert StdConv2D.from_config(conv.get_config()).epsilon == 1e-8


def test_neg_inf_padding_never_wins_a_max_pool():
    x = -1 - np.abs(np.random.default_rng(0).normal(size=(1, 4, 4, 2))).astype("float32")
    pooled = numpy(keras.layers.MaxPooling2D(3, 2)(resblocks.NegInfPadding2D(1)(x)))
    assert pooled.shape == (1, 2, 2, 2)
    np.testing.assert_array_equal(pooled[0, 0, 0], x[0, :2, :2].max(axis=(0, 1)))


def test_group_norm_setting_makes_every_norm_a_group_norm():
    block = resblocks.PreActBottleNeck(
        8, strides=2, normalization="group_norm", norm_groups=4, weight_standardization=1e-8
    )
    block.build((None, 8, 8, 16))
    norms = [block.preact_bn, block.conv1.bn, block.conv2.bn]
    assert all(isinstance(n, keras.layers.GroupNormalization) and n.groups == 4 for n in norms)
    convs = [block.conv1.conv, block.conv2.conv, block.conv3, block.downsample]
    assert all(isinstance(c, StdConv2D) for c in convs)


def test_an_unknown_normalization_is_named():
    with pytest.raises(ValueError, match="normalization"):
        ConvBN(8, normalization="layer_norm")


def test_pre_activation_avg_down_projects_without_a_norm():
    block = resblocks.PreActResBlock(8, strides=2, avg_down=True)
    block.build((None, 8, 8, 4))
    shortcut = block.downsample
    assert isinstance(shortcut, resblocks.AvgDownShortcut) and not shortcut.batch_norm
    assert type(shortcut.conv) is keras.layers.Conv2D


def test_tiered_pre_activation_deep_stem():
    stem = resblocks.DeepStem(
        16, stem_width=8, first_width=6, pre_activation=True, pool_padding="-inf"
    )
    stem.build((None, 32, 32, 3))
    assert [c.filters if hasattr(c, "filters") else c.conv.filters for c in stem.convs] == [
        6,
        8,
        16,
    ]
    assert type(stem.convs[2]) is keras.layers.Conv2D  # bare: the first block normalizes it
    assert isinstance(stem.pool_pad, resblocks.NegInfPadding2D)


ROUND_TRIP = [
    (lambda: StdConv2D(4, 3, epsilon=1e-8), (8, 8, 3)),
    (lambda: resblocks.PreActStem(8, use_bias=False, pool_padding="-inf"), (32, 32, 3)),
    (lambda: resblocks.PreActStem(8, use_bias=False, weight_standardization=1e-8), (32, 32, 3)),
    (lambda: resblocks.DeepStem(8, stem_width=4, first_width=3, pre_activation=True), (32, 32, 3)),
    (lambda: resblocks.PreActResBlock(8, strides=2, avg_down=True), (8, 8, 4)),
    (
        lambda: resblocks.PreActBottleNeck(
            4, strides=2, normalization="group_norm", norm_groups=2, weight_standardization=1e-8
        ),
        (8, 8, 8),
    ),
    (lambda: resblocks.PostNorm(normalization="group_norm", norm_groups=4), (4, 4, 8)),
]


@pytest.mark.parametrize("make, shape", ROUND_TRIP, ids=lambda v: "" if callable(v) else str(v))
def test_each_new_layer_round_trips_through_a_keras_file(make, shape, tmp_path):
    assert_keras_round_trip(make(), shape, tmp_path)
