"""ConvBN pads only where a kernel needs it: a strided 1x1 convolution gets no Pad layer."""

import keras
import numpy as np
import pytest

from resblocks import ConvBN


def test_strided_1x1_has_no_pad_layer_and_matches_a_plain_strided_conv():
    layer = ConvBN(8, 1, strides=2, activation=None)
    x = np.random.default_rng(0).normal(size=(2, 7, 7, 4)).astype("float32")
    y = layer(x, training=False)
    assert layer.pad is None
    reference = keras.layers.Conv2D(8, 1, strides=2, use_bias=False)
    reference.build(x.shape)
    reference.set_weights(layer.conv.get_weights())
    expected = layer.bn(reference(x), training=False)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(y), keras.ops.convert_to_numpy(expected), rtol=1e-5, atol=1e-5
    )
    assert tuple(y.shape) == (2, 4, 4, 8)


@pytest.mark.parametrize("kernel_size, padding", [(3, (1, 1)), (7, (3, 3)), ((1, 7), (0, 3))])
def test_strided_larger_kernels_pad_symmetrically(kernel_size, padding):
    layer = ConvBN(8, kernel_size, strides=2)
    layer.build((None, 8, 8, 4))
    assert layer.pad is not None
    assert tuple(tuple(p) for p in layer.pad.padding) == tuple((p, p) for p in padding)
