"""Normalizations that are their own activation: FRN with TLU, and EvoNorm-S0.

Batch norm and group norm normalize, and a ReLU follows. These two layers
replace the pair with one layer that needs no batch statistics:

- Singh & Krishnan 2020, "Filter Response Normalization Layer" (FRN):
  each channel of each sample divided by its root mean square over the
  map, nu^2 = mean(x^2) over H, W (no mean subtracted), then gamma * x +
  beta, then the Thresholded Linear Unit max(y, tau) with a learned
  threshold tau per channel (eq. 1-3). Without mean centering the output
  could sit all on one side of zero; TLU's learned tau is what fixes that.
- Liu et al. 2020, "Evolving Normalization-Activation Layers", EvoNorm-S0
  (found by search): x * sigmoid(v1 * x) / sqrt(s^2 + eps) * gamma + beta,
  s^2 the variance of x over each group of channels of one sample (as
  group norm's), the numerator a Swish-like gate with a learned v1 per
  channel; the mean is subtracted only inside s^2.

timm's `FilterResponseNormTlu2d` and `EvoNorm2dS0` (the norms of
`resnetv2_50d_frn` and `resnetv2_50d_evos`) compute the same; their
`weight`, `bias`, `tau` and `v` are `gamma`, `beta`, `tau` and `v1` here.
`resblocks.normalization.make_norm_act` makes them for the `normalization`
settings "frn" and "evonorm_s0".
"""

import keras

from resblocks.checks import ArgumentError


def _float32(x):
    """x in float32: the statistics of a float16 or bfloat16 map, computed without overflow."""
    return keras.ops.cast(x, "float32")


def _per_channel(layer: keras.layers.Layer, name: str, channels: int, initializer) -> object:
    return layer.add_weight(name=name, shape=(channels,), initializer=initializer, trainable=True)


@keras.saving.register_keras_serializable(package="resblocks")
class FilterResponseNormalization(keras.layers.Layer):
    """Filter Response Normalization, optionally with its Thresholded Linear Unit.

    Singh & Krishnan 2020, eq. 1-3: per sample and channel,
    nu^2 = mean(x^2) over height and width, y = gamma * x / sqrt(nu^2 +
    epsilon) + beta, and with `tlu` z = max(y, tau). No batch statistics,
    so training and inference compute the same at any batch size.

    Args:
        epsilon: float. Added to nu^2 (timm's `FilterResponseNormTlu2d`:
            1e-5; the paper's 1e-6, learned for 1x1 maps).
        tlu: bool. Whether the TLU follows (the layer is then the norm and
            the activation at once); without it the layer is FRN alone.
        gamma_initializer, beta_initializer, tau_initializer: str.
            Initializers of the scale (ones), the offset and the threshold (zeros).

    Input shape: `(batch, height, width, channels)`.
    Output shape: the same.
    """

    def __init__(
        self,
        epsilon: float = 1e-5,
        tlu: bool = True,
        gamma_initializer: str = "ones",
        beta_initializer: str = "zeros",
        tau_initializer: str = "zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.epsilon = epsilon
        self.tlu = tlu
        self.gamma_initializer = gamma_initializer
        self.beta_initializer = beta_initializer
        self.tau_initializer = tau_initializer

    def build(self, input_shape):
        channels = input_shape[-1]
        self.gamma = _per_channel(self, "gamma", channels, self.gamma_initializer)
        self.beta = _per_channel(self, "beta", channels, self.beta_initializer)
        self.tau = _per_channel(self, "tau", channels, self.tau_initializer) if self.tlu else None

    def call(self, x, training=None):
        # The statistic in float32 even under mixed precision, as timm computes it.
        nu2 = keras.ops.mean(keras.ops.square(_float32(x)), axis=(1, 2), keepdims=True)
        inverse_rms = keras.ops.cast(keras.ops.rsqrt(nu2 + self.epsilon), x.dtype)
        x = x * inverse_rms * self.gamma + self.beta
        return keras.ops.maximum(x, self.tau) if self.tlu else x

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "epsilon": self.epsilon,
            "tlu": self.tlu,
            "gamma_initializer": self.gamma_initializer,
            "beta_initializer": self.beta_initializer,
            "tau_initializer": self.tau_initializer,
        }


@keras.saving.register_keras_serializable(package="resblocks")
class EvoNormS0(keras.layers.Layer):
    """EvoNorm-S0: x * sigmoid(v1 * x) / group_std(x) * gamma + beta, norm and activation in one.

    Liu et al. 2020, Table 1 / Figure 5: the sample-based EvoNorm, with
    s^2 the (biased) variance of x over each of `groups` groups of
    channels and the whole map of one sample, as group norm's.

    Args:
        groups: int. Groups of channels for s^2 (timm: 32); it must divide
            the input's channels.
        epsilon: float. Added to s^2 (timm's `EvoNorm2dS0`: 1e-5).
        nonlinearity: bool. Whether the layer gates and normalizes. Without
            it the layer is the affine gamma * x + beta alone and has no
            v1, as timm's `EvoNorm2dS0(apply_act=False)` computes (its
            division is inside its activation branch), so that timm's
            checkpoints of such a norm compute timm's outputs.
        gamma_initializer, beta_initializer, v1_initializer: str.
            Initializers of the scale (ones), the offset (zeros) and the
            gate's slope (ones).

    Input shape: `(batch, height, width, channels)`.
    Output shape: the same.
    """

    def __init__(
        self,
        groups: int = 32,
        epsilon: float = 1e-5,
        nonlinearity: bool = True,
        gamma_initializer: str = "ones",
        beta_initializer: str = "zeros",
        v1_initializer: str = "ones",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.groups = groups
        self.epsilon = epsilon
        self.nonlinearity = nonlinearity
        self.gamma_initializer = gamma_initializer
        self.beta_initializer = beta_initializer
        self.v1_initializer = v1_initializer

    def build(self, input_shape):
        channels = input_shape[-1]
        if self.nonlinearity and channels % self.groups:
            raise ArgumentError(
                "groups",
                f"{self.groups} groups do not divide the {channels} input channels of "
                f"'{self.name}'. Use a `groups` (`norm_groups`) that divides them. "
                f"Received: groups={self.groups}",
            )
        self.gamma = _per_channel(self, "gamma", channels, self.gamma_initializer)
        self.beta = _per_channel(self, "beta", channels, self.beta_initializer)
        self.v1 = (
            _per_channel(self, "v1", channels, self.v1_initializer) if self.nonlinearity else None
        )

    def call(self, x, training=None):
        if self.nonlinearity:
            x = x * keras.ops.sigmoid(self.v1 * x) / self.group_std(x)
        return x * self.gamma + self.beta

    def group_std(self, x):
        """sqrt(s^2 + epsilon), s^2 the variance over each group's channels and map, per channel."""
        shape = keras.ops.shape(x)
        channels = x.shape[-1]
        grouped = keras.ops.reshape(
            _float32(x), (shape[0], shape[1], shape[2], self.groups, channels // self.groups)
        )
        variance = keras.ops.var(grouped, axis=(1, 2, 4), keepdims=True)  # float32, as timm's
        std = keras.ops.sqrt(variance + self.epsilon)
        std = keras.ops.repeat(std, channels // self.groups, axis=4)
        return keras.ops.cast(keras.ops.reshape(std, (shape[0], 1, 1, channels)), x.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "groups": self.groups,
            "epsilon": self.epsilon,
            "nonlinearity": self.nonlinearity,
            "gamma_initializer": self.gamma_initializer,
            "beta_initializer": self.beta_initializer,
            "v1_initializer": self.v1_initializer,
        }
