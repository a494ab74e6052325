"""Shortcut connections of residual blocks: options A, B and "none".

He et al. 2015, sec. 3.3: where a block changes the shape, the shortcut
either zero-pads the new channels (option A, no parameters) or projects x
with a 1x1 convolution (option B). Where the shape is kept it is the
identity. "none" drops the shortcut: the plain network of sec. 4.1.
"""

import keras

from resblocks.checks import check_one_of
from resblocks.conv_bn import ConvBN

SHORTCUTS = ("projection", "zero_pad", "identity", "none")


def check_shortcut(shortcut: str) -> None:
    """Raises a ValueError in Keras wording for an unknown shortcut kind."""
    check_one_of("shortcut", shortcut, SHORTCUTS)


@keras.saving.register_keras_serializable(package="resblocks")
class ZeroPadShortcut(keras.layers.Layer):
    """Option A shortcut: subsample by striding, then zero-pad new channels.

    Parameter-free, so a network with it has exactly the parameters of its
    plain counterpart (the CIFAR networks of sec. 4.2).

    Args:
        filters: int. Output channels; at least the input channels.
        strides: int. Keep every `strides`-th pixel in each direction.

    Input shape: `(batch, height, width, channels)`.
    Output shape: `(batch, ceil(height / strides), ceil(width / strides), filters)`.
    """

    def __init__(self, filters: int, strides: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
        self.strides = strides

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels > self.filters:
            raise ValueError(
                f"A zero-padding shortcut can only add channels, not remove "
                f"them: the input has {channels} channels and the block "
                f"outputs {self.filters}. Use shortcut='projection'."
            )

    def call(self, x):
        if self.strides > 1:
            x = x[:, :: self.strides, :: self.strides, :]
        extra = self.filters - x.shape[-1]
        if extra:
            x = keras.ops.pad(x, [[0, 0], [0, 0], [0, 0], [0, extra]])
        return x

    def compute_output_shape(self, input_shape):
        batch, height, width, _ = input_shape
        s = self.strides
        return (
            batch,
            None if height is None else -(-height // s),
            None if width is None else -(-width // s),
            self.filters,
        )

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "strides": self.strides}


def shortcut_kind(shortcut: str, downsample: keras.layers.Layer | None) -> str | None:
    """What a built block adds to its residual branch.

    "identity" (x itself), "projection" (option B, a 1x1 conv), "zero_pad"
    (option A), or None for a plain block (`shortcut="none"`), which adds
    nothing.
    """
    if shortcut == "none":
        return None
    if downsample is None:
        return "identity"
    return "zero_pad" if isinstance(downsample, ZeroPadShortcut) else "projection"


def make_shortcut(
    shortcut: str,
    in_channels: int,
    out_channels: int,
    strides: int,
    **conv_args,
) -> keras.layers.Layer | None:
    """The layer that brings x to the block's output shape, or None.

    None means x is added as it is (identity), or not at all for "none";
    the caller tells these apart by `shortcut`.
    """
    shape_changes = strides != 1 or in_channels != out_channels
    if shortcut == "none" or not shape_changes:
        return None
    if shortcut == "identity":
        raise ValueError(
            f"An identity shortcut needs the block to keep its input shape, "
            f"but this block maps {in_channels} channels to {out_channels} "
            f"with strides={strides}. Use shortcut='projection' (1x1 conv) "
            f"or shortcut='zero_pad' (paper's option A)."
        )
    if shortcut == "zero_pad":
        return ZeroPadShortcut(out_channels, strides, name="downsample")
    return ConvBN(out_channels, 1, strides=strides, activation=None, name="downsample", **conv_args)
