"""Stems: the layers between the image and the first residual stage.

ResNetStem is conv1 and the max-pool of He et al. 2015, Table 1 (224 -> 56);
DeepStem replaces its 7x7 convolution by three 3x3 ones (ResNet-C of He
et al. 2019, "Bag of Tricks", Fig. 2b; timm's `stem_type="deep"`, and
with `first_width` its "deep_tiered"; with `conv_pool` ResNet-RS's, whose
max-pool is a strided convolution); CifarStem
is the 3x3 stem of the CIFAR networks (sec. 4.2), which keeps 32x32 inputs
at full size. Both ResNet stems take timm's anti-aliased pool
(`anti_alias`, Zhang 2019);
InceptionResNetStem is the stem of
keras.applications' Inception-ResNet-V2 (299 -> 35) and, with a strided
convolution for its last pool, that of Inception-ResNet-V1 (Szegedy et al.
2016, Figure 14).
"""

from collections.abc import Sequence

import keras

from resblocks.anti_alias import ANTI_ALIASES, BlurPool2D
from resblocks.arguments import given
from resblocks.chain import ChainLayer
from resblocks.checks import ArgumentError, check_one_of
from resblocks.conv_bn import ConvBNLayer, check_widths, inception_conv

# How the stem's 3x3/2 max-pool pads its input: "zeros" (keras.applications,
# and BiT's `ConstantPad2d(1, 0.)`), "-inf" (PyTorch's `MaxPool2d(padding=1)`,
# where a padded pixel never wins), or "ceil": none before and one pixel of
# zeros after, Caffe's `ceil_mode` without padding (the original SENets,
# timm's `legacy_se*`).
POOL_PADDINGS = ("zeros", "-inf", "ceil")


@keras.saving.register_keras_serializable(package="resblocks")
class NegInfPadding2D(keras.layers.Layer):
    """Pads height and width with -inf: the padding of PyTorch's `MaxPool2d(padding=...)`.

    Before a max-pool, a -inf pixel never wins, so the border windows take
    the maximum of their real pixels only. Zero padding is the same after a
    ReLU; before one (a pre-activation stem, whose conv output is signed) a
    padded zero beats every negative value at the border.

    Args:
        padding: int. Pixels added on each side of height and width.

    Input shape: `(batch, height, width, channels)`.
    Output shape: `(batch, height + 2 * padding, width + 2 * padding, channels)`.
    """

    def __init__(self, padding: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.padding = padding

    def call(self, x):
        p = self.padding
        return keras.ops.pad(x, [[0, 0], [p, p], [p, p], [0, 0]], constant_values=float("-inf"))

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = input_shape
        grow = 2 * self.padding
        return (
            batch,
            None if height is None else height + grow,
            None if width is None else width + grow,
            channels,
        )

    def get_config(self):
        return {**super().get_config(), "padding": self.padding}


def stem_max_pool(
    enabled: bool, padding: str = "zeros", dtype: keras.DTypePolicy | str | None = None
) -> tuple:
    """ResNet's 3x3/2 max-pool after the stem conv, padded by 1: (pad, pool) or (None, None).

    `padding="zeros"` pads zeros, as keras.applications does. After a ReLU
    it is as good as -inf padding, since no padded zero can beat a real
    value; before one (the pre-activation stem) a zero can win at the
    border, kept so that keras' weights compute keras' outputs.
    `padding="-inf"` is PyTorch's (timm's ResNetV2, whose stem has no ReLU).
    `padding="ceil"` pads the bottom and right only: the pool's windows then
    start at 0, 2, 4, ... as PyTorch's `ceil_mode=True` ones, the last cut
    by the border, at odd and even sizes alike. `dtype`: the stem's dtype policy.
    """
    check_one_of("pool_padding", padding, POOL_PADDINGS)
    if not enabled:
        return None, None
    if padding == "-inf":
        pad = NegInfPadding2D(1, name="pool_pad", dtype=dtype)
    else:
        pad = keras.layers.ZeroPadding2D(
            1 if padding == "zeros" else ((0, 1), (0, 1)), name="pool_pad", dtype=dtype
        )
    return pad, keras.layers.MaxPooling2D(3, strides=2, name="pool", dtype=dtype)


def stem_pool(
    max_pool: bool,
    anti_alias: str,
    pool_padding: str = "zeros",
    dtype: keras.DTypePolicy | str | None = None,
) -> tuple:
    """The stem's pooling as timm makes it for its `aa_layer`: (pad, pool, aa), None where absent.

    "none": ResNet's 3x3/2 max-pool (`stem_max_pool`). "avg": a 2x2/2
    average pool in its place (timm's `nn.AvgPool2d(2)`). "blur": the
    max-pool at stride 1, then a `BlurPool2D` subsamples (Zhang 2019's
    MaxBlurPool). `pool_padding` is the max-pool's (`stem_max_pool`).
    `dtype`: the stem's dtype policy.
    """
    check_one_of("anti_alias", anti_alias, ANTI_ALIASES)
    if anti_alias != "none" and not max_pool:
        raise ArgumentError(
            "anti_alias",
            "it replaces the stem's max-pool, and this stem has none (max_pool=False). Use "
            f"max_pool=True, or anti_alias='none'. Received: anti_alias={anti_alias!r}",
        )
    if anti_alias == "avg":
        return None, keras.layers.AveragePooling2D(2, strides=2, name="pool", dtype=dtype), None
    if anti_alias == "blur":
        return (
            keras.layers.ZeroPadding2D(1, name="pool_pad", dtype=dtype),
            keras.layers.MaxPooling2D(3, strides=1, name="pool", dtype=dtype),
            BlurPool2D(strides=2, name="aa", dtype=dtype),
        )
    return (*stem_max_pool(max_pool, pool_padding, dtype), None)


@keras.saving.register_keras_serializable(package="resblocks")
class ResNetStem(ChainLayer, ConvBNLayer):
    """conv (7x7/2) -> BN -> ReLU -> max-pool (3x3/2): ResNet's "conv1" and pool.

    A chain of layers (`ChainLayer`: build, call, shape) whose convolution
    takes the settings every ResNet layer shares (`ConvBNLayer`).

    Args:
        filters: int. Output channels of the convolution (64 in the paper).
        kernel_size: int. Size of the convolution window.
        strides: int. Stride of the convolution.
        max_pool: bool. Whether a 3x3/2 max-pool follows.
        anti_alias: str. "none", or the anti-aliased pool in its place
            (`stem_pool`): "avg" (2x2/2 average) or "blur" (3x3/1 max, then
            `BlurPool2D`), as timm's `aa_layer`.
        pool_padding: str. How the max-pool pads: "zeros", "-inf" or
            "ceil" (`POOL_PADDINGS`, `stem_max_pool`).

    Keyword-only args, the settings of the `ConvBN`:
        activation: str. The nonlinearity after BN.
        use_bias: bool. Bias in the convolution.
        bn_epsilon, bn_momentum: float. Epsilon and momentum of the batch norm.
        kernel_initializer: str. Initializer of the convolution kernel.

    Input shape: `(batch, height, width, channels)`.
    Output shape: `(batch, height / 4, width / 4, filters)` with the defaults.
    """

    def __init__(
        self,
        filters: int = 64,
        kernel_size: int = 7,
        strides: int = 2,
        max_pool: bool = True,
        anti_alias: str = "none",
        pool_padding: str = "zeros",
        **kwargs,
    ):
        super().__init__(**given(locals()))  # keeps them, and the keyword-only settings
        self.conv = self.conv_bn(filters, kernel_size, strides, name="conv1")
        self.pool_pad, self.pool, self.aa = stem_pool(
            max_pool, anti_alias, pool_padding, self.dtype_policy
        )

    @property
    def sublayers(self) -> list[keras.layers.Layer]:
        return [self.conv, self.pool_pad, self.pool, self.aa]


@keras.saving.register_keras_serializable(package="resblocks")
class CifarStem(ResNetStem):
    """conv (3x3/1) -> BN -> ReLU, no pooling: the stem for 32x32 images.

    He et al. 2015, sec. 4.2 (16 filters); the CIFAR-10 ResNet-18 of the
    seed article uses 64. Same arguments as `ResNetStem` (the keyword-only
    settings activation, use_bias, bn_epsilon, bn_momentum and
    kernel_initializer too), other defaults.
    """

    def __init__(
        self,
        filters: int = 16,
        kernel_size: int = 3,
        strides: int = 1,
        max_pool: bool = False,
        anti_alias: str = "none",
        pool_padding: str = "zeros",
        **kwargs,
    ):
        super().__init__(**given(locals()))


@keras.saving.register_keras_serializable(package="resblocks")
class DeepStem(ChainLayer, ConvBNLayer):
    """Three 3x3 conv-BN-ReLUs (the first strided) and a 3x3/2 max-pool: 224 -> 56.

    He et al. 2019, Fig. 2(b): a 7x7 convolution costs 5.4 times a 3x3, and
    three 3x3s see as far (7x7) with more nonlinearity. Widths
    `stem_width, stem_width, filters`: 32, 32, 64 in the paper and in timm's
    resnet50d. timm's "tiered" stem (`stem_type="deep_tiered"`, its `t`
    networks) narrows the first convolution to `first_width` = 24, so the
    widths climb 24, 32, 64. ResNet-RS (Bello et al. 2021) downsamples with
    a 3x3/2 conv-BN-ReLU of `filters` channels in place of the max-pool
    (`conv_pool`, timm's `replace_stem_pool`); timm's anti-aliased networks
    put an anti-aliased pool there (`anti_alias`, as in `ResNetStem`).
    timm's byobnet.py stem without a pool (`stem_pool=""`: gcresnet50t)
    strides its third convolution instead (`stride_last`), so the stem
    still reduces by 4.

    With `pre_activation`, the third convolution is bare (no BN, no ReLU), as
    in timm's ResNetV2 `resnetv2_50d`: the first block's pre-activation
    normalizes the stem's output. Its max-pool then pads with -inf
    (`pool_padding`), since a padded zero would beat the negative values.

    Args:
        filters: int. Output channels (of the third convolution).
        stem_width: int. Channels of the second convolution, and of the
            first unless `first_width`.
        max_pool: bool. Whether a 3x3/2 max-pool follows.
        first_width: int. Channels of the first convolution (24 in timm's
            tiered stem); None: `stem_width`.
        conv_pool: bool. Whether a 3x3/2 conv-BN-ReLU follows, in place of
            the max-pool (so `max_pool` must be False).
        anti_alias: str. "none", "avg" or "blur": the anti-aliased pool in
            place of the max-pool, as in `ResNetStem`.
        pre_activation: bool. The third convolution has no BN or ReLU.
        pool_padding: str. How the max-pool pads: "zeros", "-inf" or
            "ceil" (`POOL_PADDINGS`, `stem_max_pool`).
        stride_last: bool. The third convolution strides by 2 as well, in
            place of any pool (so `max_pool` and `conv_pool` must be False):
            timm's byobnet `Stem` with `stem_pool=""`.

    Keyword-only args, the settings of the `ConvBN`s (`ConvBNLayer`'s):
        activation: str. The nonlinearity after each BN.
        use_bias: bool. Bias in the convolutions.
        bn_epsilon, bn_momentum: float. Epsilon and momentum of the batch norms.
        kernel_initializer: str. Initializer of the convolution kernels.

    Attributes:
        convs: the three convolutions: `ConvBN` layers, the third a plain
            Conv2D with `pre_activation`.
        pool_conv: the strided `ConvBN` of `conv_pool`, or None.

    Input shape: `(batch, height, width, channels)`.
    Output shape: `(batch, height / 4, width / 4, filters)` with the defaults.
    """

    def __init__(
        self,
        filters: int = 64,
        stem_width: int = 32,
        max_pool: bool = True,
        first_width: int | None = None,
        conv_pool: bool = False,
        anti_alias: str = "none",
        pre_activation: bool = False,
        pool_padding: str = "zeros",
        stride_last: bool = False,
        **kwargs,
    ):
        super().__init__(**given(locals()))  # keeps them, and the keyword-only settings
        if conv_pool and max_pool:
            raise ArgumentError(
                "conv_pool",
                "the strided convolution replaces the max-pool, so it needs max_pool=False. "
                f"Received: conv_pool={conv_pool!r} with max_pool={max_pool!r}",
            )
        if stride_last and (max_pool or conv_pool or pre_activation):
            raise ArgumentError(
                "stride_last",
                "the strided third convolution replaces the pool, so it needs max_pool=False "
                "and conv_pool=False (and a third conv-BN-ReLU: pre_activation=False). "
                f"Received: stride_last=True with max_pool={max_pool!r}, "
                f"conv_pool={conv_pool!r}, pre_activation={pre_activation!r}",
            )
        if pre_activation:
            third = keras.layers.Conv2D(
                filters,
                3,
                padding="same",
                use_bias=self.use_bias,
                kernel_initializer=self.kernel_initializer,
                name="conv3",
                dtype=self.dtype_policy,
            )
        else:
            third = self.conv_bn(filters, 3, 2 if stride_last else 1, name="conv3")
        self.convs = [
            self.conv_bn(stem_width if first_width is None else first_width, 3, 2, name="conv1"),
            self.conv_bn(stem_width, 3, name="conv2"),
            third,
        ]
        self.pool_pad, self.pool, self.aa = stem_pool(
            max_pool, anti_alias, pool_padding, self.dtype_policy
        )
        self.pool_conv = self.conv_bn(filters, 3, 2, name="pool_conv") if conv_pool else None

    @property
    def sublayers(self) -> list[keras.layers.Layer]:
        """The layers in the order `call` applies them."""
        return [*self.convs, self.pool_pad, self.pool, self.aa, self.pool_conv]


@keras.saving.register_keras_serializable(package="resblocks")
class InceptionResNetStem(ChainLayer):
    """Five conv-BN-ReLUs and two max-pools: 299x299x3 -> 35x35x192.

    The stem of keras.applications' Inception-ResNet-V2 (from TF-slim), a
    lighter variant of Figure 3 of Szegedy et al. 2016. Inception-ResNet-V1's
    (Figure 14, FaceNet's `inception_resnet_v1.py`) is the same up to the
    71x71x192 map; there a 3x3/2 "valid" convolution to 256 channels takes
    the place of the second max-pool: `final_conv=256`.

    Args:
        widths: list of 5 ints. Filters of the five convolutions, in order
            (32, 32, 64, 80, 192 in both networks).
        final_conv: int or None. None: the second 3x3/2 max-pool (V2);
            an int: a 3x3/2 "valid" convolution with that many filters in
            its place (V1: 256).
        bn_scale: bool. Whether the batch norms learn gamma: off as in
            TF-slim (a ReLU follows), on for facenet-pytorch's weights.

    Attributes:
        sublayers: list of layers. The convolutions and pools in order.

    Input shape: `(batch, height, width, channels)`, at least 75x75.
    Output shape: `(batch, 35, 35, 192)` for 299x299 inputs (256 channels
    with `final_conv=256`).
    """

    def __init__(
        self,
        widths: Sequence[int] = (32, 32, 64, 80, 192),
        final_conv: int | None = None,
        bn_scale: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.widths = check_widths("widths", widths, 5)
        self.final_conv = final_conv
        self.bn_scale = bn_scale
        w, b = self.widths, {"bn_scale": bn_scale, "dtype": self.dtype_policy}
        self.convs_1 = [
            inception_conv(w[0], 3, strides=2, padding="valid", name="conv1", **b),
            inception_conv(w[1], 3, padding="valid", name="conv2", **b),
            inception_conv(w[2], 3, name="conv3", **b),
        ]
        self.pool_1 = keras.layers.MaxPooling2D(3, strides=2, name="pool1", dtype=self.dtype_policy)
        self.convs_2 = [
            inception_conv(w[3], 1, padding="valid", name="conv4", **b),
            inception_conv(w[4], 3, padding="valid", name="conv5", **b),
        ]
        if final_conv is None:
            self.pool_2 = keras.layers.MaxPooling2D(
                3, strides=2, name="pool2", dtype=self.dtype_policy
            )
        else:  # V1 convolves where V2 pools
            self.conv_6 = inception_conv(
                final_conv, 3, strides=2, padding="valid", name="conv6", **b
            )

    @property
    def sublayers(self) -> list[keras.layers.Layer]:
        """The layers in the order `call` applies them."""
        last = self.pool_2 if self.final_conv is None else self.conv_6
        return [*self.convs_1, self.pool_1, *self.convs_2, last]
