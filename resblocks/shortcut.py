"""Shortcut connections of residual blocks: options A, B and "none".

He et al. 2015, sec. 3.3: where a block changes the shape, the shortcut
either zero-pads the new channels (option A, no parameters) or projects x
with a 1x1 convolution (option B). Where the shape is kept it is the
identity. "none" drops the shortcut: the plain network of sec. 4.1.
ResNet-D (He et al. 2019, "Bag of Tricks", Fig. 2c) averages 2x2 before
a stride-1 projection, so the shortcut no longer skips three quarters of x.
"""

import keras

from resblocks.arguments import argument_config, keep_arguments
from resblocks.chain import build_chain, chain_output_shape, strided_output_shape
from resblocks.checks import check_one_of
from resblocks.conv_bn import ConvBN
from resblocks.normalization import make_conv

SHORTCUTS = ("projection", "zero_pad", "identity", "none")

# What the shortcut of a block that strides but keeps its width does:
# "projection", a strided 1x1 conv (the paper's Torch code projects wherever
# the shape changes), or "subsample", keep every stride-th pixel and add no
# parameters (keras.applications' ResNet-V2, after TF-slim: a 1x1 max-pool).
STRIDE_SHORTCUTS = ("projection", "subsample")


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
        return strided_output_shape(input_shape, self.strides, self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "strides": self.strides}


@keras.saving.register_keras_serializable(package="resblocks")
class AvgDownShortcut(keras.layers.Layer):
    """ResNet-D's projection: 2x2 average pool (stride `strides`), then 1x1 conv + BN.

    He et al. 2019, Fig. 2(c); timm's `avg_down=True`. A strided 1x1
    convolution reads one pixel in four; averaging first lets every pixel
    reach the shortcut, at no cost in parameters. The pool uses "same"
    padding and averages only real pixels, as timm's
    `AvgPool2d(2, ceil_mode=True, count_include_pad=False)` does on odd maps.

    Args:
        filters: int. Output channels.
        strides: int. Stride of the pool; 1 leaves only the projection.
        use_bias, bn_epsilon, bn_momentum, kernel_initializer: those of the
            projection's `ConvBN`.
        batch_norm: bool. A norm after the 1x1 convolution. A pre-activation
            block's projection (timm's ResNetV2 `DownsampleAvg(preact=True)`)
            has none: it reads the pre-activated input, and the next block
            normalizes the sum.
        normalization, norm_groups, weight_standardization: the
            projection's norm and kernels (`ConvBNLayer`'s settings).

    Attributes:
        pool: the `AveragePooling2D`, or None at stride 1.
        conv: the 1x1 projection: a `ConvBN`, or a plain Conv2D without
            `batch_norm`.

    Input shape: `(batch, height, width, channels)`.
    Output shape: `(batch, ceil(height / strides), ceil(width / strides), filters)`.
    """

    def __init__(
        self,
        filters: int,
        strides: int = 1,
        use_bias: bool = False,
        bn_epsilon: float = 1e-5,
        bn_momentum: float = 0.9,
        kernel_initializer: str = "he_normal",
        batch_norm: bool = True,
        normalization: str = "batch_norm",
        norm_groups: int = 32,
        weight_standardization: float | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        keep_arguments(self, locals())
        self.pool = (
            keras.layers.AveragePooling2D(
                2, strides=strides, padding="same", name="pool", dtype=self.dtype_policy
            )
            if strides > 1
            else None
        )
        if not batch_norm:
            self.conv = make_conv(
                keras.layers.Conv2D,
                filters,
                1,
                use_bias=use_bias,
                kernel_initializer=kernel_initializer,
                name="conv",
                dtype=self.dtype_policy,
                weight_standardization=weight_standardization,
            )
            return
        self.conv = ConvBN(
            filters,
            1,
            activation=None,
            use_bias=use_bias,
            bn_epsilon=bn_epsilon,
            bn_momentum=bn_momentum,
            kernel_initializer=kernel_initializer,
            normalization=normalization,
            norm_groups=norm_groups,
            weight_standardization=weight_standardization,
            name="conv",
            dtype=self.dtype_policy,
        )

    def build(self, input_shape):
        build_chain([self.pool, self.conv], input_shape)

    def call(self, x, training=None):
        if self.pool is not None:
            x = self.pool(x)
        if not self.batch_norm:
            return self.conv(x)
        return self.conv(x, training=training)

    def compute_output_shape(self, input_shape):
        return chain_output_shape([self.pool, self.conv], input_shape)

    def get_config(self):
        return {**super().get_config(), **argument_config(self)}


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
    avg_down: bool = False,
    *,
    pre_activation: bool = False,
    stride_shortcut: str = "projection",
    kernel_size: int = 1,
    dtype: keras.DTypePolicy | str | None = None,
    **conv_args,
) -> keras.layers.Layer | None:
    """The layer that brings x to the block's output shape, or None.

    The one shortcut factory of both ResNet families. None means x is added
    as it is (identity), or not at all for "none"; the caller tells these
    apart by `shortcut`. `avg_down` makes a projection ResNet-D's
    (`AvgDownShortcut`). `stride_shortcut="subsample"` takes every
    stride-th pixel where only the size changes (keras' ResNet-V2). With
    `pre_activation` (He et al. 2016) a projection is a plain 1x1 conv
    with no BN after it: it reads the pre-activated input, and the next
    block's pre-activation normalizes the sum. `kernel_size` is that of a
    post-activation projection (SENet-154's is 3x3, padded by 1). `dtype`
    is the block's dtype policy.
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
    subsample = in_channels == out_channels and stride_shortcut == "subsample"
    if shortcut == "zero_pad" or subsample:
        return ZeroPadShortcut(out_channels, strides, name="downsample", dtype=dtype)
    if pre_activation and avg_down:
        return AvgDownShortcut(
            out_channels,
            strides,
            use_bias=conv_args.get("use_bias", False),
            kernel_initializer=conv_args.get("kernel_initializer", "he_normal"),
            batch_norm=False,
            weight_standardization=conv_args.get("weight_standardization"),
            name="downsample",
            dtype=dtype,
        )
    if pre_activation:
        return make_conv(
            keras.layers.Conv2D,
            out_channels,
            1,
            strides=strides,
            use_bias=conv_args.get("use_bias", False),
            kernel_initializer=conv_args.get("kernel_initializer", "he_normal"),
            name="downsample",
            dtype=dtype,
            weight_standardization=conv_args.get("weight_standardization"),
        )
    if avg_down:
        return AvgDownShortcut(out_channels, strides, name="downsample", dtype=dtype, **conv_args)
    return ConvBN(
        out_channels,
        kernel_size,
        strides,
        activation=None,
        name="downsample",
        dtype=dtype,
        **conv_args,
    )
