"""Reference solution of exercise own_block: a squeeze-and-excitation basic block.

Hu et al. 2018, "Squeeze-and-Excitation Networks", Figure 3 (SE-ResNet
module): after the two 3x3 convolutions, each channel is squeezed to one
number by global average pooling; two small dense layers turn those numbers
into a weight in (0, 1) per channel (the excitation); the residual is
re-weighted before the shortcut is added.
"""

import keras

from registry import register_block
from resblocks import ConvBN
from resblocks.chain import build_chain
from resblocks.shortcut import make_shortcut


@register_block("se_res_block")
class SEResBlock(keras.layers.Layer):
    """A basic residual block whose residual is re-weighted channel by channel.

    Args:
        filters: int. Output channels of both convolutions.
        strides: int. Stride of the first convolution.
        shortcut: str. "projection", "zero_pad", "identity" or "none", as res_block.
        ratio: int. The excitation's hidden layer has filters // ratio units.

    Input shape: `(batch, height, width, channels)`.
    Output shape: `(batch, height / strides, width / strides, filters)`.
    """

    def __init__(
        self, filters: int, strides: int = 1, shortcut: str = "projection", ratio: int = 8, **kwargs
    ):
        super().__init__(**kwargs)
        self.filters = filters
        self.strides = strides
        self.shortcut = shortcut
        self.ratio = ratio
        # Inner layers take the block's dtype policy, as Keras' own composite
        # layers do: a block saved under mixed precision then reloads as one.
        dtype = self.dtype_policy
        self.conv1 = ConvBN(filters, 3, strides, name="conv1", dtype=dtype)
        self.conv2 = ConvBN(filters, 3, activation=None, name="conv2", dtype=dtype)
        self.squeeze = keras.layers.GlobalAveragePooling2D(
            keepdims=True, name="squeeze", dtype=dtype
        )
        self.reduce = keras.layers.Dense(
            max(filters // ratio, 1), activation="relu", name="excite1", dtype=dtype
        )
        self.excite = keras.layers.Dense(filters, activation="sigmoid", name="excite2", dtype=dtype)
        self.act = keras.layers.Activation("relu", name="out", dtype=dtype)
        self.downsample = None

    def build(self, input_shape):
        # The shortcut depends on the input's channels, known only now.
        self.downsample = make_shortcut(
            self.shortcut, input_shape[-1], self.filters, self.strides, dtype=self.dtype_policy
        )
        residual_shape = build_chain([self.conv1, self.conv2], input_shape)
        build_chain([self.squeeze, self.reduce, self.excite], residual_shape)
        build_chain([self.downsample], input_shape)

    def call(self, x, training=None):
        identity = x
        y = self.conv1(x, training=training)
        y = self.conv2(y, training=training)
        y = y * self.excite(self.reduce(self.squeeze(y)))  # one weight in (0, 1) per channel
        if self.shortcut == "none":
            return self.act(y)
        if self.downsample is not None:
            identity = self.downsample(identity, training=training)
        return self.act(y + identity)

    def compute_output_shape(self, input_shape):
        return self.conv2.compute_output_shape(self.conv1.compute_output_shape(input_shape))

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "strides": self.strides,
            "shortcut": self.shortcut,
            "ratio": self.ratio,
        }


RECIPE = {
    "base": "resnet20_cifar",
    "name": "se_resnet20",
    "stages": {
        0: {"block": "se_res_block"},
        1: {"block": "se_res_block"},
        2: {"block": "se_res_block"},
    },
}
