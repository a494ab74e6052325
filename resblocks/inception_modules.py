"""The Inception modules of Inception-ResNet-V1 and V2 that have no residual.

Mixed5b widens the stem's 35x35x192 map to 320 channels; the two
reductions halve the grid while widening it (Szegedy et al. 2016,
Figures 7 and 18): every branch ends in a stride-2 "valid" convolution or
pool, and the branches are concatenated.
"""

from collections.abc import Sequence

import keras

from resblocks.chain import build_chain, call_chain, chain_output_shape
from resblocks.conv_bn import check_widths, inception_conv


class InceptionModule(keras.layers.Layer):
    """Runs each branch (a list of layers) on x and concatenates the outputs.

    Subclasses set `self.branches` in __init__.

    Args:
        bn_scale: bool. Whether the convolutions' batch norms learn gamma:
            off as in TF-slim, on for facenet-pytorch's weights.

    Attributes:
        branches: list of lists of layers. Each branch's layers in order.
        mixed: the concatenation of the branches.
    """

    def __init__(self, bn_scale: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.bn_scale = bn_scale
        self.branches = []
        self.mixed = keras.layers.Concatenate(name="mixed", dtype=self.dtype_policy)

    def build(self, input_shape):
        self.mixed.build([build_chain(branch, input_shape) for branch in self.branches])

    def compute_output_shape(self, input_shape):
        shapes = [chain_output_shape(branch, input_shape) for branch in self.branches]
        return self.mixed.compute_output_shape(shapes)

    def call(self, x, training=None):
        return self.mixed([call_chain(branch, x, training) for branch in self.branches])

    def get_config(self):
        return {**super().get_config(), "bn_scale": self.bn_scale}


@keras.saving.register_keras_serializable(package="resblocks")
class Mixed5b(InceptionModule):
    """Inception-A module (mixed_5b): 1x1 | 1x1-5x5 | 1x1-3x3-3x3 | avgpool-1x1.

    Args:
        bn_scale: bool. Whether the convolutions' batch norms learn gamma:
            off as in TF-slim, on for facenet-pytorch's weights.

    Input shape: `(batch, 35, 35, 192)`.
    Output shape: `(batch, 35, 35, 320)`.
    """

    def __init__(self, bn_scale: bool = False, **kwargs):
        super().__init__(bn_scale, **kwargs)
        b = {"bn_scale": bn_scale, "dtype": self.dtype_policy}
        self.branches = [
            [inception_conv(96, 1, name="branch_0_conv1", **b)],
            [
                inception_conv(48, 1, name="branch_1_conv1", **b),
                inception_conv(64, 5, name="branch_1_conv2", **b),
            ],
            [
                inception_conv(64, 1, name="branch_2_conv1", **b),
                inception_conv(96, 3, name="branch_2_conv2", **b),
                inception_conv(96, 3, name="branch_2_conv3", **b),
            ],
            [
                keras.layers.AveragePooling2D(
                    3, strides=1, padding="same", name="branch_pool", dtype=self.dtype_policy
                ),
                inception_conv(64, 1, name="branch_pool_conv1", **b),
            ],
        ]


@keras.saving.register_keras_serializable(package="resblocks")
class ReductionA(InceptionModule):
    """Reduction-A (mixed_6a, Figure 7): 35x35 -> 17x17, n + m + input channels.

    Branches: 3x3/2 (n) | 1x1 (k) - 3x3 (l) - 3x3/2 (m) | max-pool 3x3/2.
    The paper gives the four widths per network in its Table 1; the
    defaults are Inception-ResNet-V2's (320 -> 1088 channels), V1's are
    k, l, m, n = 192, 192, 256, 384 (256 -> 896).

    Args:
        k: int. Filters of the 1x1 convolution of the second branch.
        l: int. Filters of its 3x3 convolution.
        m: int. Filters of its strided 3x3 convolution.
        n: int. Filters of the strided 3x3 convolution of the first branch.
        bn_scale: bool. Whether the convolutions' batch norms learn gamma:
            off as in TF-slim, on for facenet-pytorch's weights.
    """

    # k, l, m, n: the paper's names, though ruff finds `l` ambiguous.
    def __init__(
        self,
        k: int = 256,
        l: int = 256,  # noqa: E741
        m: int = 384,
        n: int = 384,
        bn_scale: bool = False,
        **kwargs,
    ):
        super().__init__(bn_scale, **kwargs)
        b = {"bn_scale": bn_scale, "dtype": self.dtype_policy}
        self.k, self.l, self.m, self.n = k, l, m, n
        self.branches = [
            [inception_conv(n, 3, strides=2, padding="valid", name="branch_0_conv1", **b)],
            [
                inception_conv(k, 1, name="branch_1_conv1", **b),
                inception_conv(l, 3, name="branch_1_conv2", **b),
                inception_conv(m, 3, strides=2, padding="valid", name="branch_1_conv3", **b),
            ],
            [
                keras.layers.MaxPooling2D(
                    3, strides=2, padding="valid", name="branch_pool", dtype=self.dtype_policy
                )
            ],
        ]

    def get_config(self):
        return {**super().get_config(), "k": self.k, "l": self.l, "m": self.m, "n": self.n}


@keras.saving.register_keras_serializable(package="resblocks")
class ReductionB(InceptionModule):
    """Reduction-B (mixed_7a, Figure 18): 17x17 -> 8x8, widened by the three conv branches.

    Branches: 1x1-3x3/2 | 1x1-3x3/2 | 1x1-3x3-3x3/2 | max-pool 3x3/2. The
    defaults are Inception-ResNet-V2's (17x17x1088 -> 8x8x2080);
    Inception-ResNet-V1's Reduction-B (Figure 12, 896 -> 1792) has
    branch_1 = 256, 256 and branch_2 = 256, 256, 256.

    Args:
        branch_0: list of 2 ints. Filters of the 1x1 and the 3x3/2 (256, 384).
        branch_1: list of 2 ints. Filters of the 1x1 and the 3x3/2 (256, 288).
        branch_2: list of 3 ints. Filters of the 1x1, the 3x3 and the 3x3/2
            (256, 288, 320).
        bn_scale: bool. Whether the convolutions' batch norms learn gamma:
            off as in TF-slim, on for facenet-pytorch's weights.
    """

    def __init__(
        self,
        branch_0: Sequence[int] = (256, 384),
        branch_1: Sequence[int] = (256, 288),
        branch_2: Sequence[int] = (256, 288, 320),
        bn_scale: bool = False,
        **kwargs,
    ):
        super().__init__(bn_scale, **kwargs)
        b = {"bn_scale": bn_scale, "dtype": self.dtype_policy}
        self.branch_0 = check_widths("branch_0", branch_0, 2)
        self.branch_1 = check_widths("branch_1", branch_1, 2)
        self.branch_2 = check_widths("branch_2", branch_2, 3)
        # The last conv of each branch halves the grid.
        reduce = {"strides": 2, "padding": "valid", **b}
        self.branches = [
            [
                inception_conv(self.branch_0[0], 1, name="branch_0_conv1", **b),
                inception_conv(self.branch_0[1], 3, name="branch_0_conv2", **reduce),
            ],
            [
                inception_conv(self.branch_1[0], 1, name="branch_1_conv1", **b),
                inception_conv(self.branch_1[1], 3, name="branch_1_conv2", **reduce),
            ],
            [
                inception_conv(self.branch_2[0], 1, name="branch_2_conv1", **b),
                inception_conv(self.branch_2[1], 3, name="branch_2_conv2", **b),
                inception_conv(self.branch_2[2], 3, name="branch_2_conv3", **reduce),
            ],
            [
                keras.layers.MaxPooling2D(
                    3, strides=2, padding="valid", name="branch_pool", dtype=self.dtype_policy
                )
            ],
        ]

    def get_config(self):
        return {
            **super().get_config(),
            "branch_0": list(self.branch_0),
            "branch_1": list(self.branch_1),
            "branch_2": list(self.branch_2),
        }
