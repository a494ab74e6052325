"""SqueezeExcite: channel attention of Hu et al. 2018, "Squeeze-and-Excitation Networks".

Fig. 3 (SE-ResNet module): the residual branch's output x is squeezed to
one number per channel (global average pooling), passed through a
bottleneck of two fully connected layers (reduce by r, ReLU, expand,
sigmoid) and the result rescales x channel by channel, before the sum with
the shortcut. The fully connected layers are 1x1 convolutions with bias,
as in timm's `SEModule`, whose weights thereby keep their layout.
"""

import keras

from resblocks.arguments import argument_config
from resblocks.chain import build_chain, call_chain
from resblocks.checks import ArgumentError


def make_divisible(
    value: float, divisor: int, min_value: int | None = None, round_limit: float = 0.9
) -> int:
    """`value` to the nearest multiple of `divisor`, at least `min_value` (`divisor` if None).

    timm's `make_divisible`, the width rule of every attention bottleneck
    (SE, the selective kernel's z, ResNeSt's split attention): a width that
    rounding took below `round_limit * value` goes up by one more `divisor`.
    """
    width = max(min_value or divisor, int(value + divisor / 2) // divisor * divisor)
    return width + divisor if width < round_limit * value else width


def se_channels(channels: int, se_ratio: float, divisor: int = 8) -> int:
    """The width of the SE bottleneck: channels * se_ratio, rounded to a multiple of divisor.

    timm's `make_divisible(channels * rd_ratio, 8, round_limit=0.)`: to the
    nearest multiple, at least `divisor`. For ResNet's widths at ratio 1/16
    it is channels / 16, the paper's reduction r = 16.
    """
    return make_divisible(channels * se_ratio, divisor, round_limit=0.0)


@keras.saving.register_keras_serializable(package="resblocks")
class SqueezeExcite(keras.layers.Layer):
    """x * sigmoid(W2 relu(W1 avgpool(x))): reweights channels by global context.

    Args:
        se_ratio: float in (0, 1]. Bottleneck width over channels; 1/16 is
            the paper's reduction ratio r = 16 (sec. 6.1).
        divisor: int. The bottleneck width is rounded to a multiple of it.
        activation: str. The nonlinearity inside the bottleneck.

    Attributes:
        reduce, expand: the 1x1 convolutions (W1 and W2 of eq. 3), made in
            `build()`, when the number of channels is known.

    Input shape: `(batch, height, width, channels)`.
    Output shape: the same.
    """

    def __init__(
        self, se_ratio: float = 0.0625, divisor: int = 8, activation: str = "relu", **kwargs
    ):
        super().__init__(**kwargs)
        if not 0 < se_ratio <= 1:
            raise ArgumentError(
                "se_ratio",
                "it must be in (0, 1], e.g. 0.0625 for the paper's r = 16. "
                f"Received: se_ratio={se_ratio!r}",
            )
        self.se_ratio = se_ratio
        self.divisor = divisor
        self.activation = activation
        dtype = self.dtype_policy
        self.pool = keras.layers.GlobalAveragePooling2D(keepdims=True, name="squeeze", dtype=dtype)
        self.act = keras.layers.Activation(activation, name=activation, dtype=dtype)
        self.gate = keras.layers.Activation("sigmoid", name="gate", dtype=dtype)
        self.reduce = None
        self.expand = None

    @property
    def sublayers(self) -> list[keras.layers.Layer]:
        """The path from x to its channel gates: squeeze, reduce, act, expand, sigmoid."""
        return [self.pool, self.reduce, self.act, self.expand, self.gate]

    def build(self, input_shape):
        channels = input_shape[-1]
        self.reduce = keras.layers.Conv2D(
            se_channels(channels, self.se_ratio, self.divisor),
            1,
            name="reduce",
            dtype=self.dtype_policy,
        )
        self.expand = keras.layers.Conv2D(channels, 1, name="expand", dtype=self.dtype_policy)
        build_chain(self.sublayers, input_shape)

    def call(self, x):
        return x * call_chain(self.sublayers, x)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), **argument_config(self)}
