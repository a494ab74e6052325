"""Exercise own_block: write a residual block of your own, register it, use it.

Instructions: README.md next to this file. Copy this file, finish every
TODO, then run:  resblocks check own_block YOUR_FILE.py

This starter sketches a squeeze-and-excitation (SE) basic block (Hu et al.
2018). A pre-activation block (He et al. 2016) is fine too: keep the
registration and RECIPE parts and rewrite the class.
"""

import keras

from registry import register_block
from resblocks import ConvBN
from resblocks.chain import build_chain


@register_block("se_res_block")
class SEResBlock(keras.layers.Layer):
    """A basic residual block whose residual is re-weighted channel by channel.

    Args:
        filters: int. Output channels of both convolutions.
        strides: int. Stride of the first convolution.
        shortcut: str. "projection", "zero_pad", "identity" or "none", as res_block.
        ratio: int. The excitation's hidden layer has filters // ratio units.
    """

    def __init__(
        self, filters: int, strides: int = 1, shortcut: str = "projection", ratio: int = 8, **kwargs
    ):
        super().__init__(**kwargs)
        self.filters = filters
        self.strides = strides
        self.shortcut = shortcut
        self.ratio = ratio
        self.conv1 = ConvBN(filters, 3, strides, name="conv1")
        self.conv2 = ConvBN(filters, 3, activation=None, name="conv2")
        # TODO 1: the squeeze (a global average pool that keeps the 1x1 map)
        #         and the excitation (Dense filters // ratio, relu; Dense filters, sigmoid).
        self.act = keras.layers.Activation("relu", name="out")
        self.downsample = None

    def build(self, input_shape):
        # TODO 2: the shortcut depends on the input's channels, known only here:
        #         self.downsample = make_shortcut(
        #             self.shortcut, input_shape[-1], self.filters, self.strides
        #         )
        #         (from resblocks.shortcut), then build it and the excitation's layers too.
        build_chain([self.conv1, self.conv2], input_shape)

    def call(self, x, training=None):
        y = self.conv1(x, training=training)
        y = self.conv2(y, training=training)
        # TODO 3: multiply y by the excitation, then add the shortcut before the ReLU.
        return self.act(y)

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


# TODO 4: use your block in the stages of this recipe (patch stages by index).
RECIPE = {
    "base": "resnet20_cifar",
    "name": "se_resnet20",
}
