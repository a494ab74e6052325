"""The normalizations a residual network can use in place of batch norm, and standardized kernels.

Batch norm (Ioffe & Szegedy 2015) normalizes each channel over the batch,
so its statistics are noisy for small batches and differ between training
and inference. Group norm (Wu & He 2018) normalizes over groups of
channels within one sample: no batch dependence, no running statistics.
Weight standardization (Qiao et al. 2019) normalizes each convolution's
kernel to zero mean and unit variance per output channel before use; with
group norm it is the recipe of BiT (Kolesnikov et al. 2020, "Big
Transfer"), whose checkpoints timm's `resnetv2_50x1_bit` etc. hold.

Filter Response Normalization (Singh & Krishnan 2020) and EvoNorm-S0
(Liu et al. 2020) need no batch statistics either, and each is its own
activation (`resblocks.norm_activation`): where one of them is the norm,
no activation layer follows it.

`make_norm_act`, `make_norm` and `make_conv` are what `ConvBNLayer`'s
settings (`normalization`, `norm_groups`, `weight_standardization`) build.
"""

import keras

from resblocks.checks import check_one_of
from resblocks.norm_activation import EvoNormS0, FilterResponseNormalization

# "batch_norm": BatchNormalization; "group_norm": GroupNormalization over
# `norm_groups` groups of channels (Wu & He 2018); "frn": FRN with its TLU
# (Singh & Krishnan 2020); "evonorm_s0": EvoNorm-S0 over `norm_groups`
# groups (Liu et al. 2020).
NORMALIZATIONS = ("batch_norm", "group_norm", "frn", "evonorm_s0")
# The normalizations that are their own activation: no activation layer follows them.
NORM_ACTIVATIONS = ("frn", "evonorm_s0")


@keras.saving.register_keras_serializable(package="resblocks")
class StdConv2D(keras.layers.Conv2D):
    """A Conv2D whose kernel is standardized per output channel before each use.

    Qiao et al. 2019, "Micro-Batch Training with Batch-Channel Normalization
    and Weight Standardization", eq. 5: W^ = (W - mean(W)) / sqrt(var(W) + eps),
    the mean and (biased) variance over each output channel's
    `kh * kw * in` weights. The layer keeps the raw W, so a checkpoint of
    raw weights (timm's `StdConv2d`, BiT's `StandardizedConv2D`) loads as is.

    Args:
        epsilon: float. Added to the variance (timm's BiT networks: 1e-8;
            timm's `StdConv2d` default: 1e-6).
        Every other argument is `keras.layers.Conv2D`'s.
    """

    def __init__(self, *args, epsilon: float = 1e-6, **kwargs):
        super().__init__(*args, **kwargs)
        self.epsilon = epsilon

    def standardized_kernel(self, kernel):
        """The kernel at zero mean and unit variance over each output channel."""
        mean = keras.ops.mean(kernel, axis=(0, 1, 2), keepdims=True)
        variance = keras.ops.var(kernel, axis=(0, 1, 2), keepdims=True)
        return (kernel - mean) / keras.ops.sqrt(variance + self.epsilon)

    def convolution_op(self, inputs, kernel):
        return super().convolution_op(inputs, self.standardized_kernel(kernel))

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


def check_normalization(normalization: str) -> None:
    """Raises an ArgumentError in Keras wording for an unknown normalization."""
    check_one_of("normalization", normalization, NORMALIZATIONS)


def make_norm_act(
    normalization: str,
    activation: str | None,
    *,
    epsilon: float,
    momentum: float,
    norm_groups: int = 32,
    name: str,
    act_name: str | None = None,
    dtype: keras.DTypePolicy | str | None = None,
    **options,
) -> tuple[keras.layers.Layer, keras.layers.Layer | None]:
    """The norm a setting names and the activation after it: the one place the pair is made.

    For batch norm and group norm: the norm, and an `Activation(activation)`
    named `act_name` (the activation's own name by default), or None
    without an activation. "frn" and "evonorm_s0" are their own activation
    (`NORM_ACTIVATIONS`): the layer with its nonlinearity (TLU; EvoNorm's
    gate) where `activation` is given, whichever it names, and None after
    it; the layer without its nonlinearity where `activation` is None (the
    linear norm before a sum). Both take `dtype`: the dtype policy of the
    layer they are part of (None: Keras' global one). `options` go to the
    norm (see `make_norm`).
    """
    check_normalization(normalization)
    settings = {
        "epsilon": epsilon,
        "momentum": momentum,
        "norm_groups": norm_groups,
        "dtype": dtype,
        **options,
    }
    if normalization in NORM_ACTIVATIONS:
        return _norm_layer(normalization, name, activate=activation is not None, **settings), None
    norm = _norm_layer(normalization, name, activate=False, **settings)
    act = (
        keras.layers.Activation(activation, name=act_name or activation, dtype=dtype)
        if activation
        else None
    )
    return norm, act


def make_norm(
    normalization: str,
    *,
    epsilon: float,
    momentum: float,
    norm_groups: int = 32,
    name: str,
    dtype: keras.DTypePolicy | str | None = None,
    **options,
) -> keras.layers.Layer:
    """The normalization layer a setting names, with no activation (FRN without its TLU).

    `options` go to batch norm (scale, initializers); group norm and the
    norm-activations take `gamma_initializer`, and refuse `scale=False`
    where they cannot drop their scale (FRN, EvoNorm).
    """
    norm, _ = make_norm_act(
        normalization,
        None,
        epsilon=epsilon,
        momentum=momentum,
        norm_groups=norm_groups,
        name=name,
        dtype=dtype,
        **options,
    )
    return norm


def _norm_layer(
    normalization: str,
    name: str,
    *,
    activate: bool,
    epsilon: float,
    momentum: float,
    norm_groups: int,
    dtype: keras.DTypePolicy | str | None,
    **options,
) -> keras.layers.Layer:
    """The norm alone; `activate`: FRN with its TLU, EvoNorm-S0 with its gate."""
    gamma_initializer = options.get("gamma_initializer", "ones")
    if normalization == "group_norm":
        return keras.layers.GroupNormalization(
            groups=norm_groups,
            epsilon=epsilon,
            scale=options.get("scale", True),
            gamma_initializer=gamma_initializer,
            name=name,
            dtype=dtype,
        )
    if normalization in NORM_ACTIVATIONS:
        if not options.get("scale", True):
            raise ValueError(
                f"normalization={normalization!r} always learns its scale gamma; a norm "
                "without one (`bn_scale=False`) is batch norm's or group norm's only. "
                "Received: scale=False"
            )
        if normalization == "frn":
            return FilterResponseNormalization(
                epsilon, tlu=activate, gamma_initializer=gamma_initializer, name=name, dtype=dtype
            )
        return EvoNormS0(
            norm_groups,
            epsilon,
            nonlinearity=activate,
            gamma_initializer=gamma_initializer,
            name=name,
            dtype=dtype,
        )
    return keras.layers.BatchNormalization(
        epsilon=epsilon, momentum=momentum, name=name, dtype=dtype, **options
    )


def make_conv(conv_class, *args, weight_standardization: float | None = None, **kwargs):
    """`conv_class(*args, **kwargs)`, or a `StdConv2D` with that epsilon if it is a float."""
    if weight_standardization is None:
        return conv_class(*args, **kwargs)
    if conv_class is not keras.layers.Conv2D:
        raise ValueError(
            "Weight standardization is implemented for plain convolutions (groups=1) only. "
            f"Received: a {conv_class.__name__}"
        )
    return StdConv2D(*args, epsilon=weight_standardization, **kwargs)
