"""The Inception modules of Inception-ResNet-V2 that have no residual.

Mixed5b widens the stem's 35x35x192 map to 320 channels; the two
reductions halve the grid while widening it (Szegedy et al. 2016,
Figures 7 and 18): every branch ends in a stride-2 "valid" convolution or
pool, and the branches are concatenated.
"""

import keras

from resblocks.chain import build_chain, call_chain, chain_output_shape
from resblocks.stems import inception_conv


class InceptionModule(keras.layers.Layer):
    """Runs each branch (a list of layers) on x and concatenates the outputs.

    Subclasses set `self.branches` in __init__.

    Attributes:
        branches: list of lists of layers. Each branch's layers in order.
        mixed: the concatenation of the branches.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.branches = []
        self.mixed = keras.layers.Concatenate(name="mixed")

    def build(self, input_shape):
        self.mixed.build([build_chain(branch, input_shape) for branch in self.branches])

    def compute_output_shape(self, input_shape):
        shapes = [chain_output_shape(branch, input_shape) for branch in self.branches]
        return self.mixed.compute_output_shape(shapes)

    def call(self, x, training=None):
        return self.mixed([call_chain(branch, x, training) for branch in self.branches])


@keras.saving.register_keras_serializable(package="resblocks")
class Mixed5b(InceptionModule):
    """Inception-A module (mixed_5b): 1x1 | 1x1-5x5 | 1x1-3x3-3x3 | avgpool-1x1.

    Input shape: `(batch, 35, 35, 192)`.
    Output shape: `(batch, 35, 35, 320)`.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.branches = [
            [inception_conv(96, 1, name="branch_0_conv1")],
            [
                inception_conv(48, 1, name="branch_1_conv1"),
                inception_conv(64, 5, name="branch_1_conv2"),
            ],
            [
                inception_conv(64, 1, name="branch_2_conv1"),
                inception_conv(96, 3, name="branch_2_conv2"),
                inception_conv(96, 3, name="branch_2_conv3"),
            ],
            [
                keras.layers.AveragePooling2D(3, strides=1, padding="same", name="branch_pool"),
                inception_conv(64, 1, name="branch_pool_conv1"),
            ],
        ]


@keras.saving.register_keras_serializable(package="resblocks")
class ReductionA(InceptionModule):
    """Reduction-A (mixed_6a, Figure 7): 35x35x320 -> 17x17x1088.

    Branches: 3x3/2 | 1x1-3x3-3x3/2 | max-pool 3x3/2.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.branches = [
            [inception_conv(384, 3, strides=2, padding="valid", name="branch_0_conv1")],
            [
                inception_conv(256, 1, name="branch_1_conv1"),
                inception_conv(256, 3, name="branch_1_conv2"),
                inception_conv(384, 3, strides=2, padding="valid", name="branch_1_conv3"),
            ],
            [keras.layers.MaxPooling2D(3, strides=2, padding="valid", name="branch_pool")],
        ]


@keras.saving.register_keras_serializable(package="resblocks")
class ReductionB(InceptionModule):
    """Reduction-B (mixed_7a, Figure 18): 17x17x1088 -> 8x8x2080.

    Branches: 1x1-3x3/2 | 1x1-3x3/2 | 1x1-3x3-3x3/2 | max-pool 3x3/2.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.branches = [
            [
                inception_conv(256, 1, name="branch_0_conv1"),
                inception_conv(384, 3, strides=2, padding="valid", name="branch_0_conv2"),
            ],
            [
                inception_conv(256, 1, name="branch_1_conv1"),
                inception_conv(288, 3, strides=2, padding="valid", name="branch_1_conv2"),
            ],
            [
                inception_conv(256, 1, name="branch_2_conv1"),
                inception_conv(288, 3, name="branch_2_conv2"),
                inception_conv(320, 3, strides=2, padding="valid", name="branch_2_conv3"),
            ],
            [keras.layers.MaxPooling2D(3, strides=2, padding="valid", name="branch_pool")],
        ]
