"""ConvBN: convolution, batch normalization, optional activation.

The unit every network here is made of: `conv2d_bn` in Inception-ResNet
(Szegedy et al. 2016) and conv-BN-ReLU in ResNet (He et al. 2015, sec. 3.4).
Its settings (activation, bias, BN epsilon and momentum, initializer, and
the normalization: batch norm, or group norm as in timm's `resnet50_gn`)
are declared once, by `ConvBNLayer`, the base of ConvBN and of the ResNet
blocks and stems that pass them on to their ConvBNs.
"""

from collections.abc import Sequence

import keras

from resblocks.arguments import argument_config, argument_names, given, keep_arguments
from resblocks.chain import build_chain, chain_output_shape
from resblocks.checks import ArgumentError, check_one_of
from resblocks.grouped_conv import GroupedConv2D
from resblocks.normalization import check_normalization, make_conv, make_norm, make_norm_act

PADDINGS = ("same", "valid")


class ConvBNLayer(keras.layers.Layer):
    """The base of the layers whose convolutions and batch norms share one set of settings.

    `ConvBN` takes these settings, and the ResNet blocks and stems pass
    them to each of their `ConvBN`s. They are declared once, here, as
    keyword-only arguments: a subclass declares its own arguments in its
    `__init__` signature and passes them all up by keyword
    (`super().__init__(**given(locals()))`); this base keeps one attribute
    per argument, its own and the subclass's, and `get_config` returns
    exactly those (see `resblocks.arguments`). Each subclass's docstring
    still lists them, with what they mean there.

    Args:
        activation: str or None. The nonlinearity after each BN (and, in
            the post-activation blocks, after the sum).
        use_bias: bool. Bias in the convolutions. Redundant before a BN, so
            the papers and torchvision have none; keras.applications' ResNets do.
        bn_epsilon: float. Batch norm epsilon.
        bn_momentum: float. Batch norm momentum.
        kernel_initializer: str. Initializer of the convolution kernels.
        normalization: str. "batch_norm", or "group_norm" (Wu & He 2018:
            statistics over groups of channels of one sample, no running
            statistics; `bn_epsilon` is its epsilon), or a norm that is its
            own activation: "frn" (FRN and TLU, Singh & Krishnan 2020) or
            "evonorm_s0" (Liu et al. 2020). With those, `activation` only
            says whether a norm is followed by one: the norm's own.
            `NORMALIZATIONS`.
        norm_groups: int. The groups of channels of "group_norm" and
            "evonorm_s0" (32).
        weight_standardization: float or None. None: plain convolutions; a
            float: each kernel standardized per output channel before use
            (`StdConv2D`, Qiao et al. 2019) with this epsilon (BiT: 1e-8).
    """

    def __init__(
        self,
        *,
        activation: str | None = "relu",
        use_bias: bool = False,
        bn_epsilon: float = 1e-5,
        bn_momentum: float = 0.9,
        kernel_initializer: str = "he_normal",
        normalization: str = "batch_norm",
        norm_groups: int = 32,
        weight_standardization: float | None = None,
        **kwargs,
    ):
        check_normalization(normalization)
        arguments = given(locals())
        names = argument_names(type(self))
        super().__init__(**{k: v for k, v in arguments.items() if k not in names})
        keep_arguments(self, arguments)

    def conv_settings(self) -> dict:
        """The settings as `ConvBN` takes them, less `activation` (a last conv has none)."""
        return {
            "use_bias": self.use_bias,
            "bn_epsilon": self.bn_epsilon,
            "bn_momentum": self.bn_momentum,
            "kernel_initializer": self.kernel_initializer,
            "normalization": self.normalization,
            "norm_groups": self.norm_groups,
            "weight_standardization": self.weight_standardization,
        }

    def conv_bn(self, filters: int, kernel_size, strides: int = 1, **options) -> "ConvBN":
        """A `ConvBN` with this layer's settings; `options` add to them or replace them."""
        settings = {
            "activation": self.activation,
            **self.conv_settings(),
            "dtype": self.dtype_policy,
            **options,
        }
        return ConvBN(filters, kernel_size, strides, **settings)

    def norm(self, name: str) -> keras.layers.Layer:
        """A norm with this layer's settings, for one outside a `ConvBN` (an attention's)."""
        return make_norm(
            self.normalization,
            epsilon=self.bn_epsilon,
            momentum=self.bn_momentum,
            norm_groups=self.norm_groups,
            name=name,
            dtype=self.dtype_policy,
        )

    def get_config(self):
        return {**super().get_config(), **argument_config(self)}


@keras.saving.register_keras_serializable(package="resblocks")
class ConvBN(ConvBNLayer):
    """Convolution -> batch normalization -> optional activation.

    A strided convolution with `padding="same"` pads symmetrically,
    `kernel_size // 2` pixels on every side, as the papers and torchvision
    do. Keras' own "same" puts the odd pixel on the bottom/right only, which
    shifts every strided feature map by half a pixel. Output shapes are the
    same either way. A 1x1 convolution is never padded.

    Args:
        filters: int. Number of output channels.
        kernel_size: int or [int, int]. Size of the convolution window.
        strides: int. Stride of the convolution.
        padding: str. `"same"` keeps the size (up to the stride), `"valid"`
            pads nothing.
        bn_scale: bool. Whether batch norm learns gamma. Inception-ResNet turns
            it off because a ReLU follows, which is scale-invariant.
        groups: int. Split the channels into this many groups, each convolved
            on its own (ResNeXt's cardinality, Xie et al. 2017); both the
            input channels and `filters` must be multiples. Computed by
            `GroupedConv2D`, fast on every backend; 1 is a plain Conv2D.
        dilation_rate: int. Spacing of the kernel taps (DeepLab's atrous
            convolution): a 3x3 kernel at rate 2 sees 5x5 with 9 weights.
            "same" pads `dilation_rate * (kernel_size - 1) / 2` on every side,
            as torchvision does, so the map keeps its size. Cannot go with
            `strides > 1` (Keras refuses the pair).
        bn_gamma_initializer: str. Initializer of batch norm's gamma; "zeros"
            makes the layer output zero at initialization (the zero-init of
            the last BN in a residual branch, Goyal et al. 2017).

    Keyword-only args (the settings of `ConvBNLayer`, which keeps them):
        activation: str or None. Applied after batch norm; None for a
            linear output (the last conv of a residual branch).
        use_bias: bool. Whether the convolution has a bias. keras.applications'
            ResNets have one; it is redundant before batch norm, so the
            papers and torchvision do not.
        bn_epsilon: float. Batch norm epsilon.
        bn_momentum: float. Batch norm moving-average momentum.
        kernel_initializer: str. Initializer of the convolution kernel.
        normalization, norm_groups: str, int. The norm after the
            convolution: "batch_norm", or "group_norm" over `norm_groups`
            groups (then `bn` is a GroupNormalization), or "frn" or
            "evonorm_s0", which are their own activation (then `act` is None).
        weight_standardization: float or None. A float standardizes the
            kernel with that epsilon before use (`StdConv2D`).

    Input shape: `(batch, height, width, channels)`.
    Output shape: `(batch, height / strides, width / strides, filters)`.
    """

    def __init__(
        self,
        filters: int,
        kernel_size: int | Sequence[int] = 3,
        strides: int = 1,
        padding: str = "same",
        bn_scale: bool = True,
        groups: int = 1,
        dilation_rate: int = 1,
        bn_gamma_initializer: str = "ones",
        **kwargs,
    ):
        check_one_of("padding", padding, PADDINGS)
        if filters % groups:
            raise ArgumentError(
                "groups",
                f"{groups} groups do not divide the {filters} output channels. Use a `groups` "
                f"that divides `filters`, or filters={filters // groups * groups or groups}. "
                f"Received: groups={groups}",
            )
        super().__init__(**given(locals()))  # keeps them, and the keyword-only settings

        size = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
        # A 1x1 kernel needs no padding: a Pad layer there would only copy
        # the whole map (keras.applications' strided 1x1 convs have none).
        symmetric = padding == "same" and strides > 1 and max(size) > 1
        self.pad = (
            # A dilated kernel spans dilation_rate * (k - 1) + 1 pixels: half
            # of that on each side (k // 2 taps, dilation_rate apart).
            keras.layers.ZeroPadding2D(
                tuple(dilation_rate * (k // 2) for k in size), name="pad", dtype=self.dtype_policy
            )
            if symmetric
            else None
        )
        conv = keras.layers.Conv2D if groups == 1 else GroupedConv2D
        self.conv = make_conv(
            conv,
            filters,
            size,
            strides=strides,
            padding="valid" if symmetric else padding,
            dilation_rate=dilation_rate,
            use_bias=self.use_bias,
            kernel_initializer=self.kernel_initializer,
            groups=groups,
            name="conv",
            dtype=self.dtype_policy,
            weight_standardization=self.weight_standardization,
        )
        # act is None without an activation, or where the norm is its own (FRN, EvoNorm).
        self.bn, self.act = make_norm_act(
            self.normalization,
            self.activation,
            epsilon=self.bn_epsilon,
            momentum=self.bn_momentum,
            norm_groups=self.norm_groups,
            name="bn",
            scale=bn_scale,
            gamma_initializer=bn_gamma_initializer,
            dtype=self.dtype_policy,
        )

    def build(self, input_shape):
        if input_shape[-1] is not None and input_shape[-1] % self.groups:
            raise ValueError(
                f"A convolution with groups={self.groups} needs input channels that are a "
                f"multiple of {self.groups}, but its input has {input_shape[-1]}. Use a `groups` "
                "that divides both the input and the output channels."
            )
        build_chain([self.pad, self.conv, self.bn, self.act], input_shape)

    def call(self, x, training=None):
        if self.pad is not None:
            x = self.pad(x)
        x = self.conv(x)
        x = self.bn(x, training=training)
        if self.act is not None:
            x = self.act(x)
        return x

    def compute_output_shape(self, input_shape):
        return chain_output_shape([self.pad, self.conv], input_shape)


def inception_conv(
    filters: int,
    kernel_size,
    strides: int = 1,
    padding: str = "same",
    name=None,
    bn_scale: bool = False,
    dtype: keras.DTypePolicy | str | None = None,
):
    """The `conv2d_bn` of Inception-ResNet: a `ConvBN` with no conv bias and BN without scale.

    The settings of keras.applications' (and TF-slim's) Inception-ResNet-V2:
    BN epsilon 1e-3, momentum 0.99, Glorot-uniform kernels. `bn_scale=True`
    gives BN its gamma, as facenet-pytorch's `BasicConv2d` has (its
    `BatchNorm2d` is affine): its checkpoints hold a gamma per channel.
    """
    return ConvBN(
        filters,
        kernel_size,
        strides,
        padding=padding,
        use_bias=False,
        bn_scale=bn_scale,
        bn_epsilon=1e-3,
        bn_momentum=0.99,
        kernel_initializer="glorot_uniform",
        name=name,
        dtype=dtype,
    )


def check_widths(argument: str, widths, convolutions: int, of: str = "the branch") -> list[int]:
    """`widths` as a list of `convolutions` positive ints, or an ArgumentError saying why.

    The Inception modules take each branch's widths as one argument, one
    number per convolution of the branch in order; a pruned bottleneck its
    three convolutions' (`of`: what the convolutions are those of).
    """
    widths = [widths] if isinstance(widths, int) else list(widths)
    if len(widths) != convolutions or not all(
        isinstance(w, int) and not isinstance(w, bool) and w > 0 for w in widths
    ):
        raise ArgumentError(
            argument,
            f"expected {convolutions} positive int(s), the filters of each convolution of "
            f"{of} in order. Received: {argument}={widths!r}",
        )
    return widths
