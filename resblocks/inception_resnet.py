"""The Inception-ResNet blocks: A (35x35), B (17x17) and C (8x8).

Szegedy et al. 2016, "Inception-v4, Inception-ResNet and the Impact of
Residual Connections on Learning", Figures 16-19, with the widths of
keras.applications' Inception-ResNet-V2, and the narrower blocks of
Inception-ResNet-V1 (Figures 10, 11 and 13), whose branches are all as wide
as their first 1x1. Each block concatenates a few
convolution branches, projects them back to the input width with a linear
1x1 convolution, and adds the result to x scaled down by `scale`: the
paper found that without scaling (0.1 to 0.3) very wide residual networks
"died" early in training (sec. 3.3).
"""

import keras

from resblocks.chain import build_chain, call_chain
from resblocks.stems import inception_conv


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


class InceptionResBlock(keras.layers.Layer):
    """Shared wiring of the three blocks: branches -> concat -> 1x1 -> scaled sum.

    Subclasses set `self.branches`, a list of lists of layers, in __init__.

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

    def __init__(self, scale: float, activation: str | None = "relu", **kwargs):
        super().__init__(**kwargs)
        self.scale = scale
        self.activation = activation
        self.branches = []
        self.mixed = keras.layers.Concatenate(name="mixed")
        self.up = None
        self.residual = ScaledResidual(scale, name="residual")
        self.act = keras.layers.Activation(activation, name="out") if activation else None

    def build(self, input_shape):
        # Made here: the projection restores the input width, known only now.
        # Linear, with a bias and no BN, as in the paper.
        self.up = keras.layers.Conv2D(input_shape[-1], 1, use_bias=True, name="conv")
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
        return {**super().get_config(), "scale": self.scale, "activation": self.activation}


@keras.saving.register_keras_serializable(package="resblocks")
class InceptionResBlock35(InceptionResBlock):
    """Inception-ResNet-A, the 35x35 block (Figure 16): 1x1 | 1x1-3x3 | 1x1-3x3-3x3.

    Args:
        scale: float. Residual scale; 0.17 in Inception-ResNet-V2.
        activation: str or None. Applied after the sum.

    Input shape: `(batch, 35, 35, channels)` (any size works).
    Output shape: same as the input.
    """

    def __init__(self, scale: float = 0.17, activation: str | None = "relu", **kwargs):
        super().__init__(scale, activation, **kwargs)
        self.branches = [
            [inception_conv(32, 1, name="branch_0_conv1")],
            [
                inception_conv(32, 1, name="branch_1_conv1"),
                inception_conv(32, 3, name="branch_1_conv2"),
            ],
            [
                inception_conv(32, 1, name="branch_2_conv1"),
                inception_conv(48, 3, name="branch_2_conv2"),
                inception_conv(64, 3, name="branch_2_conv3"),
            ],
        ]


@keras.saving.register_keras_serializable(package="resblocks")
class InceptionResBlock17(InceptionResBlock):
    """Inception-ResNet-B, the 17x17 block (Figure 17): 1x1 | 1x1-1x7-7x1.

    Args:
        scale: float. Residual scale; 0.1 in Inception-ResNet-V2.
        activation: str or None. Applied after the sum.

    Input shape: `(batch, 17, 17, channels)` (any size works).
    Output shape: same as the input.
    """

    def __init__(self, scale: float = 0.1, activation: str | None = "relu", **kwargs):
        super().__init__(scale, activation, **kwargs)
        self.branches = [
            [inception_conv(192, 1, name="branch_0_conv1")],
            [
                inception_conv(128, 1, name="branch_1_conv1"),
                inception_conv(160, (1, 7), name="branch_1_conv2"),
                inception_conv(192, (7, 1), name="branch_1_conv3"),
            ],
        ]


@keras.saving.register_keras_serializable(package="resblocks")
class InceptionResBlock8(InceptionResBlock):
    """Inception-ResNet-C, the 8x8 block (Figure 19): 1x1 | 1x1-1x3-3x1.

    Args:
        scale: float. Residual scale; 0.2 in Inception-ResNet-V2, and 1.0
            without activation for the network's last block.
        activation: str or None. Applied after the sum.

    Input shape: `(batch, 8, 8, channels)` (any size works).
    Output shape: same as the input.
    """

    def __init__(self, scale: float = 0.2, activation: str | None = "relu", **kwargs):
        super().__init__(scale, activation, **kwargs)
        self.branches = [
            [inception_conv(192, 1, name="branch_0_conv1")],
            [
                inception_conv(192, 1, name="branch_1_conv1"),
                inception_conv(224, (1, 3), name="branch_1_conv2"),
                inception_conv(256, (3, 1), name="branch_1_conv3"),
            ],
        ]


@keras.saving.register_keras_serializable(package="resblocks")
class InceptionResBlock35V1(InceptionResBlock):
    """Inception-ResNet-V1's A block (Figure 10): 1x1 32 | 1x1-3x3 32 | 1x1-3x3-3x3 32.

    `InceptionResBlock35` with V1's widths: the third branch stays at 32
    channels (V2 widens it to 48 and 64), and the 1x1 projects the 96
    concatenated channels back to the 256 of V1's 35x35 grid.

    Args:
        scale: float. Residual scale; 0.17 in FaceNet's Inception-ResNet-V1.
        activation: str or None. Applied after the sum.

    Input shape: `(batch, 35, 35, channels)` (any size works).
    Output shape: same as the input.
    """

    def __init__(self, scale: float = 0.17, activation: str | None = "relu", **kwargs):
        super().__init__(scale, activation, **kwargs)
        self.branches = [
            [inception_conv(32, 1, name="branch_0_conv1")],
            [
                inception_conv(32, 1, name="branch_1_conv1"),
                inception_conv(32, 3, name="branch_1_conv2"),
            ],
            [
                inception_conv(32, 1, name="branch_2_conv1"),
                inception_conv(32, 3, name="branch_2_conv2"),
                inception_conv(32, 3, name="branch_2_conv3"),
            ],
        ]


@keras.saving.register_keras_serializable(package="resblocks")
class InceptionResBlock17V1(InceptionResBlock):
    """Inception-ResNet-V1's B block (Figure 11): 1x1 128 | 1x1-1x7-7x1 128.

    `InceptionResBlock17` with V1's widths: 128 channels in every
    convolution (V2: 192, and 128-160-192), projected back to 896.

    Args:
        scale: float. Residual scale; 0.1 in FaceNet's Inception-ResNet-V1.
        activation: str or None. Applied after the sum.

    Input shape: `(batch, 17, 17, channels)` (any size works).
    Output shape: same as the input.
    """

    def __init__(self, scale: float = 0.1, activation: str | None = "relu", **kwargs):
        super().__init__(scale, activation, **kwargs)
        self.branches = [
            [inception_conv(128, 1, name="branch_0_conv1")],
            [
                inception_conv(128, 1, name="branch_1_conv1"),
                inception_conv(128, (1, 7), name="branch_1_conv2"),
                inception_conv(128, (7, 1), name="branch_1_conv3"),
            ],
        ]


@keras.saving.register_keras_serializable(package="resblocks")
class InceptionResBlock8V1(InceptionResBlock):
    """Inception-ResNet-V1's C block (Figure 13): 1x1 192 | 1x1-1x3-3x1 192.

    `InceptionResBlock8` with V1's widths: 192 channels in every
    convolution (V2: 192-224-256 in the second branch), projected back to
    1792.

    Args:
        scale: float. Residual scale; 0.2, and 1.0 without activation for
            the network's last block (as in FaceNet).
        activation: str or None. Applied after the sum.

    Input shape: `(batch, 8, 8, channels)` (any size works).
    Output shape: same as the input.
    """

    def __init__(self, scale: float = 0.2, activation: str | None = "relu", **kwargs):
        super().__init__(scale, activation, **kwargs)
        self.branches = [
            [inception_conv(192, 1, name="branch_0_conv1")],
            [
                inception_conv(192, 1, name="branch_1_conv1"),
                inception_conv(192, (1, 3), name="branch_1_conv2"),
                inception_conv(192, (3, 1), name="branch_1_conv3"),
            ],
        ]
