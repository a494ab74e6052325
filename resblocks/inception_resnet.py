"""The Inception-ResNet blocks: A (35x35), B (17x17) and C (8x8).

Szegedy et al. 2016, "Inception-v4, Inception-ResNet and the Impact of
Residual Connections on Learning", Figures 16-19. The widths of each
branch are arguments, with keras.applications' Inception-ResNet-V2 as
defaults; Inception-ResNet-V1 (Figures 10, 11 and 13), whose branches are
all as wide as their first 1x1, is the same blocks with its widths
(`V1_WIDTHS`, set by recipes/inception_resnet_v1.yaml). Each block
concatenates a few
convolution branches, projects them back to the input width with a linear
1x1 convolution, and adds the result to x scaled down by `scale`: the
paper found that without scaling (0.1 to 0.3) very wide residual networks
"died" early in training (sec. 3.3).
"""

from collections.abc import Sequence

import keras

from resblocks.chain import build_chain, call_chain
from resblocks.conv_bn import check_widths, inception_conv


@keras.saving.register_keras_serializable(package="resblocks")
class ScaledResidual(keras.layers.Layer):
    """x + scale * residual: the scaled sum of Inception-ResNet.

    A layer of its own, not a Lambda, so saved models load with
    `safe_mode=True`.

    Args:
        scale: float. Factor applied to the residual before the sum.

    Call arguments:
        inputs: a list `[x, residual]` of two tensors of the same shape.
    """

    def __init__(self, scale: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale

    def call(self, inputs):
        x, residual = inputs
        return x + self.scale * residual

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


def inception_branch(
    widths: list[int],
    kernel_sizes: list,
    index: int,
    bn_scale: bool = False,
    dtype: keras.DTypePolicy | str | None = None,
) -> list:
    """Branch `index`: one `inception_conv` per width, named branch_{index}_conv1, 2, ...

    `dtype`: the dtype policy of the block the branch is part of.
    """
    return [
        inception_conv(
            width, size, name=f"branch_{index}_conv{j + 1}", bn_scale=bn_scale, dtype=dtype
        )
        for j, (width, size) in enumerate(zip(widths, kernel_sizes, strict=True))
    ]


class InceptionResBlock(keras.layers.Layer):
    """Shared wiring of the three blocks: branches -> concat -> 1x1 -> scaled sum.

    Subclasses set `self.branches`, a list of lists of layers, in __init__,
    and keep their widths as `branch_0`, `branch_1`, ... (lists of ints).

    Attributes:
        branches: list of lists of layers. Each branch's layers in order.
        mixed: the concatenation of the branches.
        up: the linear 1x1 convolution back to the input width (made in
            `build()`).
        residual: the `ScaledResidual` sum x + scale * up(mixed).
        act: the activation after the sum, or None.
        shortcut_kind: "scaled": x is added as it is, the branch scaled.
    """

    shortcut_kind = "scaled"

    def __init__(
        self, scale: float, activation: str | None = "relu", bn_scale: bool = False, **kwargs
    ):
        super().__init__(**kwargs)
        self.scale = scale
        self.activation = activation
        self.bn_scale = bn_scale
        self.branches = []
        self.mixed = keras.layers.Concatenate(name="mixed", dtype=self.dtype_policy)
        self.up = None
        self.residual = ScaledResidual(scale, name="residual", dtype=self.dtype_policy)
        self.act = (
            keras.layers.Activation(activation, name="out", dtype=self.dtype_policy)
            if activation
            else None
        )

    def build(self, input_shape):
        # Made here: the projection restores the input width, known only now.
        # Linear, with a bias and no BN, as in the paper.
        self.up = keras.layers.Conv2D(
            input_shape[-1], 1, use_bias=True, name="conv", dtype=self.dtype_policy
        )
        mixed_shape = [build_chain(branch, input_shape) for branch in self.branches]
        build_chain([self.mixed, self.up], mixed_shape)
        self.residual.build([input_shape, input_shape])
        build_chain([self.act], input_shape)

    def call(self, x, training=None):
        mixed = self.mixed([call_chain(branch, x, training) for branch in self.branches])
        residual = self.up(mixed)
        x = self.residual([x, residual])
        if self.act is not None:
            x = self.act(x)
        return x

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        widths = {
            f"branch_{i}": list(getattr(self, f"branch_{i}")) for i in range(len(self.branches))
        }
        return {
            **super().get_config(),
            "scale": self.scale,
            "activation": self.activation,
            "bn_scale": self.bn_scale,
            **widths,
        }


@keras.saving.register_keras_serializable(package="resblocks")
class InceptionResBlock35(InceptionResBlock):
    """Inception-ResNet-A, the 35x35 block (Figure 16): 1x1 | 1x1-3x3 | 1x1-3x3-3x3.

    Args:
        scale: float. Residual scale; 0.17 in Inception-ResNet-V2.
        activation: str or None. Applied after the sum.
        branch_0: list of 1 int. Filters of the 1x1 branch (32).
        branch_1: list of 2 ints. Filters of the 1x1 and the 3x3 (32, 32).
        branch_2: list of 3 ints. Filters of the 1x1 and the two 3x3s
            (V2: 32, 48, 64; V1, Figure 10: 32, 32, 32).
        bn_scale: bool. Whether the branches' batch norms learn gamma: off
            as in TF-slim (a ReLU follows), on for facenet-pytorch's weights.

    Input shape: `(batch, 35, 35, channels)` (any size works).
    Output shape: same as the input.
    """

    def __init__(
        self,
        scale: float = 0.17,
        activation: str | None = "relu",
        branch_0: Sequence[int] = (32,),
        branch_1: Sequence[int] = (32, 32),
        branch_2: Sequence[int] = (32, 48, 64),
        bn_scale: bool = False,
        **kwargs,
    ):
        super().__init__(scale, activation, bn_scale, **kwargs)
        self.branch_0 = check_widths("branch_0", branch_0, 1)
        self.branch_1 = check_widths("branch_1", branch_1, 2)
        self.branch_2 = check_widths("branch_2", branch_2, 3)
        self.branches = [
            inception_branch(self.branch_0, [1], 0, bn_scale, self.dtype_policy),
            inception_branch(self.branch_1, [1, 3], 1, bn_scale, self.dtype_policy),
            inception_branch(self.branch_2, [1, 3, 3], 2, bn_scale, self.dtype_policy),
        ]


class FactorizedInceptionResBlock(InceptionResBlock):
    """Inception-ResNet-B and -C: 1x1 | 1x1-1xn-nx1, the n x n convolution factorized.

    Figures 17 and 19 (and 11 and 13 for V1) draw the same block with other
    numbers: a 1x1 branch, and a branch that follows its 1x1 with a 1xn and
    an nx1 convolution, which see as far as one n x n at 2/n of its cost
    (Szegedy et al. 2015, "Rethinking the Inception Architecture", sec. 3.2).
    Not a block of its own: `InceptionResBlock17` (n = 7) and
    `InceptionResBlock8` (n = 3) fix `n` and give the defaults, so their
    configs hold only scale, activation and the widths.

    Args:
        n: int. Kernel length of the factorized convolutions (1xn, then nx1).
        scale: float. Residual scale.
        activation: str or None. Applied after the sum.
        branch_0: list of 1 int. Filters of the 1x1 branch.
        branch_1: list of 3 ints. Filters of the 1x1, the 1xn and the nx1.
        bn_scale: bool. Whether the branches' batch norms learn gamma.
    """

    def __init__(
        self,
        n: int,
        scale: float,
        activation: str | None,
        branch_0: Sequence[int],
        branch_1: Sequence[int],
        bn_scale: bool = False,
        **kwargs,
    ):
        super().__init__(scale, activation, bn_scale, **kwargs)
        self.branch_0 = check_widths("branch_0", branch_0, 1)
        self.branch_1 = check_widths("branch_1", branch_1, 3)
        self.branches = [
            inception_branch(self.branch_0, [1], 0, bn_scale, self.dtype_policy),
            inception_branch(self.branch_1, [1, (1, n), (n, 1)], 1, bn_scale, self.dtype_policy),
        ]


@keras.saving.register_keras_serializable(package="resblocks")
class InceptionResBlock17(FactorizedInceptionResBlock):
    """Inception-ResNet-B, the 17x17 block (Figure 17): 1x1 | 1x1-1x7-7x1.

    `FactorizedInceptionResBlock` with n = 7.

    Args:
        scale: float. Residual scale; 0.1 in Inception-ResNet-V2.
        activation: str or None. Applied after the sum.
        branch_0: list of 1 int. Filters of the 1x1 branch (V2: 192; V1,
            Figure 11: 128).
        branch_1: list of 3 ints. Filters of the 1x1, the 1x7 and the 7x1
            (V2: 128, 160, 192; V1: 128, 128, 128).
        bn_scale: bool. Whether the branches' batch norms learn gamma: off
            as in TF-slim (a ReLU follows), on for facenet-pytorch's weights.

    Input shape: `(batch, 17, 17, channels)` (any size works).
    Output shape: same as the input.
    """

    def __init__(
        self,
        scale: float = 0.1,
        activation: str | None = "relu",
        branch_0: Sequence[int] = (192,),
        branch_1: Sequence[int] = (128, 160, 192),
        bn_scale: bool = False,
        **kwargs,
    ):
        super().__init__(7, scale, activation, branch_0, branch_1, bn_scale, **kwargs)


@keras.saving.register_keras_serializable(package="resblocks")
class InceptionResBlock8(FactorizedInceptionResBlock):
    """Inception-ResNet-C, the 8x8 block (Figure 19): 1x1 | 1x1-1x3-3x1.

    `FactorizedInceptionResBlock` with n = 3.

    Args:
        scale: float. Residual scale; 0.2 in Inception-ResNet-V2, and 1.0
            without activation for the network's last block.
        activation: str or None. Applied after the sum.
        branch_0: list of 1 int. Filters of the 1x1 branch (192).
        branch_1: list of 3 ints. Filters of the 1x1, the 1x3 and the 3x1
            (V2: 192, 224, 256; V1, Figure 13: 192, 192, 192).
        bn_scale: bool. Whether the branches' batch norms learn gamma: off
            as in TF-slim (a ReLU follows), on for facenet-pytorch's weights.

    Input shape: `(batch, 8, 8, channels)` (any size works).
    Output shape: same as the input.
    """

    def __init__(
        self,
        scale: float = 0.2,
        activation: str | None = "relu",
        branch_0: Sequence[int] = (192,),
        branch_1: Sequence[int] = (192, 224, 256),
        bn_scale: bool = False,
        **kwargs,
    ):
        super().__init__(3, scale, activation, branch_0, branch_1, bn_scale, **kwargs)
