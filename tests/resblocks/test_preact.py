"""The pre-activation blocks (He et al. 2016): BN -> ReLU -> conv, nothing after the sum."""

import keras
import numpy as np
import pytest

from resblocks import PostNorm, PreActBottleNeck, PreActResBlock, PreActStem, ZeroPadShortcut


def run(layer, x, training=False):
    return keras.ops.convert_to_numpy(layer(x, training=training))


def images(shape, seed=0):
    return np.random.default_rng(seed).normal(size=(2, *shape)).astype("float32")


@pytest.mark.parametrize("block", [PreActResBlock(8), PreActBottleNeck(2)])
def test_the_identity_path_is_clean(block):
    # With the branch's last conv at zero, a pre-activation block is the
    # identity: x, negative values included, passes untouched (eq. 4). A
    # 2015 block would return relu(x).
    x = images((6, 6, 8))
    run(block, x)
    last = block.conv2 if isinstance(block, PreActResBlock) else block.conv3
    last.kernel.assign(np.zeros(last.kernel.shape, "float32"))
    np.testing.assert_array_equal(run(block, x), x)
    assert block.shortcut_kind == "identity"


def test_the_sum_is_not_activated():
    out = run(PreActResBlock(8), images((6, 6, 8)))
    assert (out < 0).any()  # no ReLU after the sum


def test_projection_reads_the_preactivated_input_and_has_no_bn():
    block = PreActBottleNeck(4, use_bias=True)
    run(block, images((6, 6, 8)))
    assert isinstance(block.downsample, keras.layers.Conv2D)
    assert [w.name for w in block.downsample.weights] == ["kernel", "bias"]
    assert block.shortcut_kind == "projection"


def test_subsample_shortcut_keeps_every_second_pixel():
    block = PreActBottleNeck(2, strides=2, stride_shortcut="subsample")
    x = images((7, 7, 8))
    out = run(block, x)
    assert out.shape == (2, 4, 4, 8)
    assert isinstance(block.downsample, ZeroPadShortcut) and not block.downsample.weights
    block.conv3.kernel.assign(np.zeros(block.conv3.kernel.shape, "float32"))
    np.testing.assert_array_equal(run(block, x), x[:, ::2, ::2, :])


def test_stride_shortcut_projection_projects_a_stride_only_change():
    block = PreActResBlock(8, strides=2)
    run(block, images((8, 8, 8)))
    assert block.shortcut_kind == "projection"


def test_dropout_sits_between_the_convolutions():
    block = PreActResBlock(8, dropout=0.5)
    x = images((6, 6, 8))
    assert [type(layer).__name__ for layer in block.branch_layers] == [
        "ConvBN",
        "Dropout",
        "Conv2D",
    ]
    np.testing.assert_array_equal(run(block, x), run(block, x))  # off at inference
    assert not np.array_equal(run(block, x, training=True), run(block, x, training=True))


def test_unknown_stride_shortcut_is_refused_in_keras_wording():
    with pytest.raises(ValueError, match="Invalid value received for argument `stride_shortcut`"):
        PreActResBlock(8, stride_shortcut="maxpool")


def test_stem_is_a_bare_convolution():
    stem = PreActStem()
    out = run(stem, images((64, 64, 3)))
    assert out.shape == (2, 16, 16, 64)
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in stem.sublayers)


def test_post_norm_normalizes_and_activates():
    out = run(PostNorm(), images((4, 4, 8)))
    assert out.shape == (2, 4, 4, 8) and out.min() >= 0
