"""EfficientChannelAttention: the ECA module of Wang et al. 2020, "ECA-Net".

ECA-Net: Efficient Channel Attention for Deep Convolutional Neural Networks
(CVPR 2020), Fig. 2: like squeeze-and-excitation, x is pooled to one number
per channel and each channel rescaled by a sigmoid gate; but the gate comes
from a 1-d convolution of k taps across neighbouring channels instead of
SE's bottleneck of two fully connected layers. The paper's Table 1 shows
that SE's dimensionality reduction hurts and that local cross-channel
interaction is enough: k weights per block instead of 2C^2/r. k grows with
the channel count C (eq. 12): the odd number nearest |log2(C) / gamma +
b / gamma|, with gamma = 2 and b = 1; timm's `EcaModule` computes it as
`eca_kernel_size` does, and keeps the weight as a `Conv1d(1, 1, k)` without
bias, whose layout the Keras `Conv1D` here keeps (transposed).
"""

import math

import keras

from resblocks.arguments import argument_config
from resblocks.checks import ArgumentError


def eca_kernel_size(channels: int, gamma: float = 2, b: float = 1) -> int:
    """The paper's adaptive kernel size k = psi(C), eq. 12, as timm rounds it, at least 3.

    t = int(|log2(C) + b| / gamma); k = t if t is odd else t + 1. For
    ResNet-50's widths 256, 512, 1024 and 2048 it is 5, 5, 5 and 7.
    """
    t = int(abs(math.log(channels, 2) + b) / gamma)
    return max(t if t % 2 else t + 1, 3)


@keras.saving.register_keras_serializable(package="resblocks")
class EfficientChannelAttention(keras.layers.Layer):
    """x * sigmoid(conv1d_k(avgpool(x))): channel gates from each channel's k neighbours.

    Args:
        kernel_size: int or None. Taps of the 1-d convolution across
            channels, odd; None for the paper's adaptive k (`eca_kernel_size`
            of the input's channels, with `gamma` and `b`).
        gamma: float. The slope of the paper's mapping from C to k (2).
        b: float. Its offset (1).

    Attributes:
        conv: the `Conv1D` (one filter, k taps, no bias) across the pooled
            channels, made in `build()`, when the number of channels is known.
        kernel: int. The k it uses, once built.

    Input shape: `(batch, height, width, channels)`.
    Output shape: the same.
    """

    def __init__(self, kernel_size: int | None = None, gamma: float = 2, b: float = 1, **kwargs):
        super().__init__(**kwargs)
        if kernel_size is not None and (kernel_size < 1 or kernel_size % 2 == 0):
            raise ArgumentError(
                "kernel_size",
                "it must be an odd positive int (the convolution is centred on each channel), "
                f"or None for the paper's adaptive size. Received: kernel_size={kernel_size!r}",
            )
        if gamma <= 0:
            raise ArgumentError(
                "gamma", f"it must be above 0 (2 in the paper). Received: gamma={gamma!r}"
            )
        self.kernel_size = kernel_size
        self.gamma = gamma
        self.b = b
        self.kernel = None
        self.conv = None

    def build(self, input_shape):
        channels = input_shape[-1]
        self.kernel = self.kernel_size or eca_kernel_size(channels, self.gamma, self.b)
        # "same" pads (k - 1) / 2 zeros at each end, as timm's Conv1d(padding=(k - 1) // 2).
        self.conv = keras.layers.Conv1D(
            1, self.kernel, padding="same", use_bias=False, name="conv", dtype=self.dtype_policy
        )
        self.conv.build((None, channels, 1))

    def call(self, x):
        y = keras.ops.mean(x, axis=(1, 2))  # (batch, channels): the squeeze
        y = self.conv(keras.ops.expand_dims(y, -1))  # (batch, channels, 1): across channels
        gate = keras.ops.sigmoid(y[:, :, 0])
        return x * gate[:, None, None, :]

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), **argument_config(self)}
