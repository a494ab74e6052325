"""Anti-aliased downsampling: a low-pass filter before each subsampling, as timm's `aa_layer`.

Zhang 2019, "Making Convolutional Networks Shift-Invariant Again" (ICML),
sec. 3: a strided convolution or pool subsamples without low-pass
filtering first, so a one-pixel shift of the image can change the output
a lot (aliasing). The fix keeps the layer's dense evaluation (stride 1)
and moves the subsampling into a blur: "BlurPool", a fixed binomial filter
applied per channel with the stride. timm's ResNets take it as `aa_layer`:
`BlurPool2d` (its `resnetblur*`), or a 2x2 average pool (`nn.AvgPool2d`,
its `resnetaa*`), the cheapest low-pass filter. Neither has weights.

`ANTI_ALIASES` are the kinds a block or stem takes as `anti_alias`:
"none", "avg" (the 2x2/2 average pool) and "blur" (`BlurPool2D`).
"""

import math

import keras

from resblocks.arguments import argument_config
from resblocks.checks import ArgumentError, check_one_of

ANTI_ALIASES = ("none", "avg", "blur")


def binomial_filter(size: int) -> list[float]:
    """Row `size - 1` of Pascal's triangle over its sum: [0.25, 0.5, 0.25] for 3.

    timm's `BlurPool2d` coefficients, C(n, k) / 2^n: the blur is their outer
    product, a separable approximation of a Gaussian.
    """
    n = size - 1
    return [math.comb(n, k) / 2**n for k in range(size)]


@keras.saving.register_keras_serializable(package="resblocks")
class BlurPool2D(keras.layers.Layer):
    """Blur each channel with a binomial filter, then subsample: Zhang 2019's BlurPool.

    The input is reflect-padded by `((strides - 1) + (filter_size - 1)) // 2`
    pixels on every side (timm's `get_padding`: 1 for a 3-tap filter at
    stride 2) and convolved depthwise with the fixed `filter_size` x
    `filter_size` binomial filter at the stride, as timm's `BlurPool2d`.
    It holds no weights; the filter is a constant.

    Args:
        filter_size: int. Taps of the binomial filter per side, at least 2
            (the paper compares 2 to 7; timm's default is 3).
        strides: int. The subsampling factor.

    Input shape: `(batch, height, width, channels)`.
    Output shape: `(batch, height / strides, width / strides, channels)`,
    rounded up for a 3-tap filter at stride 2.
    """

    def __init__(self, filter_size: int = 3, strides: int = 2, **kwargs):
        super().__init__(**kwargs)
        if filter_size < 2:
            raise ArgumentError(
                "filter_size",
                "a blur needs at least 2 taps (3 in timm's BlurPool2d). "
                f"Received: filter_size={filter_size!r}",
            )
        self.filter_size = filter_size
        self.strides = strides
        self.padding = ((strides - 1) + (filter_size - 1)) // 2

    def call(self, x):
        p = self.padding
        x = keras.ops.pad(x, [[0, 0], [p, p], [p, p], [0, 0]], mode="reflect")
        row = binomial_filter(self.filter_size)
        blur = [[[[a * b]] for b in row] for a in row]  # (size, size, 1, 1)
        kernel = keras.ops.convert_to_tensor(blur, dtype=x.dtype)
        kernel = keras.ops.tile(kernel, (1, 1, x.shape[-1], 1))  # one filter per channel
        return keras.ops.depthwise_conv(x, kernel, strides=self.strides, padding="valid")

    def compute_output_shape(self, input_shape):
        batch, *sides, channels = input_shape
        spans = [
            None
            if side is None
            else (side + 2 * self.padding - self.filter_size) // self.strides + 1
            for side in sides
        ]
        return (batch, *spans, channels)

    def get_config(self):
        return {**super().get_config(), **argument_config(self)}


def make_anti_alias(
    anti_alias: str,
    strides: int,
    name: str = "aa",
    dtype: keras.DTypePolicy | str | None = None,
) -> keras.layers.Layer | None:
    """The layer that subsamples after a stride-1 convolution, or None (no anti-aliasing, stride 1).

    "avg": timm's `nn.AvgPool2d(2)` (2x2, stride 2, no padding); "blur":
    `BlurPool2D` at the stride. `dtype`: the block's dtype policy.
    """
    check_one_of("anti_alias", anti_alias, ANTI_ALIASES)
    if anti_alias == "none" or strides == 1:
        return None
    if anti_alias == "avg":
        return keras.layers.AveragePooling2D(strides, strides=strides, name=name, dtype=dtype)
    return BlurPool2D(strides=strides, name=name, dtype=dtype)
