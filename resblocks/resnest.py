"""ResNeSt's split attention and its bottleneck.

Zhang et al. 2020, "ResNeSt: Split-Attention Networks", Fig. 2 (right)
and Fig. 4. The bottleneck's 3x3 becomes `radix * cardinality` grouped
convolutions: K cardinal groups, each split into R "splits". Within a
cardinal group the R splits are summed, pooled globally, passed through two
1x1 convolutions (the second grouped by cardinal group) and turned into R
weights per channel by a softmax across the splits (a sigmoid for R = 1):
the output is the splits' weighted sum. It is the selective kernel's
attention over paths (Li et al. 2019), with the paths made by the groups.
As in timm's `ResNestBottleneck`, a strided block moves its stride to a
3x3 average pool ("avd"), before or after the split attention.
"""

import keras

from resblocks.arguments import given
from resblocks.chain import build_chain
from resblocks.checks import ArgumentError, check_positive_int
from resblocks.conv_bn import ConvBNLayer
from resblocks.grouped_conv import GroupedConv2D
from resblocks.res2net import padded_average_pool
from resblocks.residual import PostActivationBlock, bottleneck_width
from resblocks.squeeze_excite import make_divisible

CARDINALITY = "K, the cardinal groups, 1 in ResNeSt-50"


def grouped_1x1(
    filters: int, groups: int, name: str, dtype: keras.DTypePolicy | str | None = None
) -> keras.layers.Conv2D:
    """A 1x1 convolution with bias, grouped where `groups > 1` (timm's `fc1`, `fc2`)."""
    if groups == 1:
        return keras.layers.Conv2D(filters, 1, name=name, dtype=dtype)
    return GroupedConv2D(filters, 1, groups=groups, name=name, dtype=dtype)


@keras.saving.register_keras_serializable(package="resblocks")
class SplitAttention(ConvBNLayer):
    """Split attention: R splits of K cardinal groups, weighted by a softmax across splits.

    Zhang et al. 2020, Fig. 4 (the cardinal-major implementation); timm's
    `SplitAttn`:

        x -> conv (filters * R channels, K * R groups) -> BN -> ReLU -> splits U_1 .. U_R
        s = avgpool(U_1 + ... + U_R) -> 1x1 (K groups) -> BN -> ReLU -> 1x1 (K groups)
        a = softmax over the R splits of each channel (sigmoid for R = 1)
        out = a_1 * U_1 + ... + a_R * U_R

    Args:
        filters: int. Output channels (those of each split).
        kernel_size: int. Size of the convolution window.
        strides: int. Stride of the convolution.
        radix: int. R, the splits per cardinal group (2 in ResNeSt-50).
        cardinality: int. K, the cardinal groups (1 in ResNeSt-50).
        dilation_rate: int. Dilation of the convolution.

    Keyword-only args, the settings of the convolution's `ConvBN` and of the
    attention's norm (`ConvBNLayer`'s): activation, use_bias, bn_epsilon,
    bn_momentum, kernel_initializer, normalization, norm_groups,
    weight_standardization.

    Attributes:
        conv: the grouped `ConvBN` that makes the R splits.
        fc1, bn1, act1, fc2: the attention's layers (timm's names).
        attention_width: int. Channels of fc1 (`attention_width`).

    Input shape: `(batch, height, width, channels)`.
    Output shape: `(batch, height / strides, width / strides, filters)`.
    """

    def __init__(
        self,
        filters: int,
        kernel_size: int = 3,
        strides: int = 1,
        radix: int = 2,
        cardinality: int = 1,
        dilation_rate: int = 1,
        **kwargs,
    ):
        super().__init__(**given(locals()))  # keeps them, and the keyword-only settings
        check_positive_int("radix", radix, "R, the splits per cardinal group, 2 in ResNeSt-50")
        check_positive_int("cardinality", cardinality, CARDINALITY)
        if filters % cardinality:
            raise ArgumentError(
                "cardinality",
                f"{cardinality} cardinal groups do not divide the {filters} channels. "
                f"Received: cardinality={cardinality}",
            )
        self.conv = self.conv_bn(
            filters * radix,
            kernel_size,
            strides,
            groups=cardinality * radix,
            dilation_rate=dilation_rate,
            name="conv",
        )
        # timm's make_divisible(in_channels * radix * 0.25, 8, min_value=32);
        # ResNeSt-50's conv2 stage: 64 * 2 / 4 = 32.
        self.attention_width = make_divisible(filters * radix * 0.25, 8, min_value=32)
        self.pool = keras.layers.GlobalAveragePooling2D(
            keepdims=True, name="squeeze", dtype=self.dtype_policy
        )
        self.fc1 = grouped_1x1(self.attention_width, cardinality, "fc1", self.dtype_policy)
        self.bn1 = self.norm("bn1")
        self.act1 = keras.layers.Activation(self.activation, name="act1", dtype=self.dtype_policy)
        self.fc2 = grouped_1x1(filters * radix, cardinality, "fc2", self.dtype_policy)

    def build(self, input_shape):
        build_chain([self.conv], input_shape)
        pooled = (input_shape[0], 1, 1, self.filters)
        build_chain([self.fc1, self.bn1, self.act1, self.fc2], pooled)

    def call(self, x, training=None):
        x = self.conv(x, training=training)  # the R splits side by side: (..., R * filters)
        radix, channels = self.radix, self.filters
        if radix > 1:
            shape = keras.ops.shape(x)
            x = keras.ops.reshape(x, (-1, shape[1], shape[2], radix, channels))
            s = keras.ops.sum(x, axis=3)  # U = U_1 + ... + U_R
        else:
            s = x
        s = self.pool(s)
        s = self.act1(self.bn1(self.fc1(s), training=training))
        a = self.fc2(s)  # (..., K * R * filters / K): cardinal group by group
        if radix == 1:
            return x * keras.ops.sigmoid(a)
        k = self.cardinality
        a = keras.ops.reshape(a, (-1, k, radix, channels // k))
        a = keras.ops.softmax(a, axis=2)  # across the splits of each channel
        a = keras.ops.transpose(a, (0, 2, 1, 3))  # split-major, as the splits lie in x
        a = keras.ops.reshape(a, (-1, 1, 1, radix, channels))
        return keras.ops.sum(x * a, axis=3)

    def compute_output_shape(self, input_shape):
        return (*self.conv.compute_output_shape(input_shape)[:-1], self.filters)


@keras.saving.register_keras_serializable(package="resblocks")
class ResNestBottleneck(PostActivationBlock):
    """ResNeSt block: 1x1, split attention (3x3), 1x1, plus a shortcut.

    Zhang et al. 2020, Fig. 2 (right); the block of ResNeSt-50/101/200/269
    and of timm's `resnest14d` .. `resnest269e`:

        x -> 1x1 (width) -> [avd pool] -> SplitAttention(width, R, K) -> [avd pool]
          -> 1x1 (4 * filters, linear) -> + shortcut -> ReLU

    With `avd` (average downsampling, sec. 4.1 "Average Downsampling"), a
    strided block convolves at stride 1 and strides with a 3x3 average pool
    (zeros counted, as timm's `AvgPool2d(3, s, padding=1)`), after the
    split attention or, with `avd_first`, before it.

    Args:
        filters: int. The block's planes; it outputs `4 * filters` channels.
        strides: int. The block's stride; 2 halves the map.
        shortcut: str. "projection", "zero_pad", "identity" or "none"; see
            `ResBlock`.
        radix: int. R, the splits of each cardinal group (2 in ResNeSt).
        cardinality: int. K, the cardinal groups.
        base_width: int. Channels of each cardinal group per 64 planes: the
            inner width is `int(filters * base_width / 64) * cardinality`
            (64 and K = 1 in ResNeSt-50; 40 and K = 2 in its 4s2x40d).
        avd: bool. Stride with a 3x3 average pool instead of the convolution.
        avd_first: bool. The pool before the split attention, not after it.

    Keyword-only args, the family's variants (`PostActivationBlock`'s):
        se_ratio, dilation, avg_down, drop_path_rate, zero_init_last: as in
            `BottleNeck`; timm's ResNeSts use `avg_down` (ResNet-D).

    Keyword-only args, the convolutions' settings (`ConvBNLayer`'s):
        activation, use_bias, bn_epsilon, bn_momentum, kernel_initializer.

    Attributes:
        conv1: the 1x1 `ConvBN` to the inner width.
        conv2: the `SplitAttention`.
        conv3: the 1x1 expanding `ConvBN` (linear).
        avd_pad, avd_pool: the average-downsampling pool, or None.
        width: int. The inner width.
        downsample, se, act, drop_path, shortcut_kind: as in `BottleNeck`.

    Input shape: `(batch, height, width, channels)`.
    Output shape: `(batch, height / strides, width / strides, 4 * filters)`.
    """

    expansion = 4

    def __init__(
        self,
        filters: int,
        strides: int = 1,
        shortcut: str = "projection",
        radix: int = 2,
        cardinality: int = 1,
        base_width: int = 64,
        avd: bool = True,
        avd_first: bool = False,
        **kwargs,
    ):
        super().__init__(**given(locals()))  # keeps them, the variants and the settings
        check_positive_int("cardinality", cardinality, CARDINALITY)
        self.width = bottleneck_width(filters, base_width, cardinality)
        pooled = avd and strides > 1  # timm: the stride moves to the pool
        self.avd_pad, self.avd_pool = (
            padded_average_pool(strides, self.dtype_policy) if pooled else (None, None)
        )
        self.conv1 = self.conv_bn(self.width, 1, name="conv1")
        self.conv2 = SplitAttention(
            self.width,
            3,
            1 if pooled else strides,
            radix=radix,
            cardinality=cardinality,
            dilation_rate=self.dilation,
            activation=self.activation,
            **self.conv_settings(),
            name="conv2",
            dtype=self.dtype_policy,
        )
        self.conv3 = self.last_conv_bn(self.out_channels, 1, "conv3")
        self._make_tail()  # se, act, drop_path

    def branch(self) -> list:
        pool = [self.avd_pad, self.avd_pool]
        first, last = (pool, []) if self.avd_first else ([], pool)
        return [self.conv1, *first, self.conv2, *last, self.conv3]

    def residual(self, x, training=None):
        x = self.conv1(x, training=training)  # 1x1: reduce to the inner width
        if self.avd_pool is not None and self.avd_first:
            x = self.avd_pool(self.avd_pad(x))  # the stride, as an average pool
        x = self.conv2(x, training=training)  # split attention over R * K groups
        if self.avd_pool is not None and not self.avd_first:
            x = self.avd_pool(self.avd_pad(x))
        return self.conv3(x, training=training)  # 1x1: expand by 4
