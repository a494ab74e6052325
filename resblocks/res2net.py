"""Res2Net's bottleneck: the 3x3 split into a hierarchy of smaller 3x3s.

Gao et al. 2019, "Res2Net: A New Multi-scale Backbone Architecture",
Fig. 2(b). The bottleneck's 1x1 output is cut into `scale` groups of
`width` channels, x_1 .. x_s. Each group but the last goes through its own
3x3, and each 3x3 also sees the previous one's output:

    y_1 = K_1(x_1),  y_i = K_i(x_i + y_{i-1}) for 1 < i < s,  y_s = x_s

so the i-th output has seen the input through i 3x3s: receptive fields of
several sizes within one block, at the parameters of a narrower 3x3. The
concatenated outputs go to the 1x1 that expands by 4, as in ResNet. As in
the authors' code (and timm's `Bottle2neck`), the first block of a stage
does not chain the groups (each y_i = K_i(x_i), all strided), and its last
group, which has no 3x3, is average-pooled 3x3 (zero padding counted) at
the block's stride so that it keeps pace with the others.
"""

import keras

from resblocks.arguments import given
from resblocks.chain import build_chain
from resblocks.checks import check_positive_int
from resblocks.residual import PostActivationBlock, bottleneck_width


def padded_average_pool(strides: int, dtype: keras.DTypePolicy | str | None = None) -> tuple:
    """torch's `AvgPool2d(3, strides, padding=1)`: (zero padding, pool), the zeros averaged in.

    Keras' "same" average pool leaves padding out of the count (torch's
    `count_include_pad=False`); timm's Res2Net and ResNeSt pools count it.
    `dtype`: the block's dtype policy.
    """
    return (
        keras.layers.ZeroPadding2D(1, name="pool_pad", dtype=dtype),
        keras.layers.AveragePooling2D(3, strides, name="pool", dtype=dtype),
    )


@keras.saving.register_keras_serializable(package="resblocks")
class Res2NetBottleneck(PostActivationBlock):
    """Res2Net module: 1x1, a hierarchy of `scale - 1` 3x3s over `scale` groups, 1x1, plus x.

    Gao et al. 2019, Fig. 2(b); the block of Res2Net-50/101 and, with
    `cardinality > 1` (grouped 3x3s), of Res2NeXt-50 (sec. 3.3).

        x -> 1x1 (scale * width) -> split x_1 .. x_s
          y_1 = 3x3(x_1); y_i = 3x3(x_i + y_{i-1}); y_s = x_s
          -> concat(y_1 .. y_s) -> 1x1 (4 * filters, linear) -> + shortcut -> ReLU

    In a stage's first block (where the shape changes) the groups are not
    chained, every 3x3 has the block's stride, and y_s is x_s average-pooled
    3x3 at that stride (the authors' code, timm's `Bottle2neck`).

    Args:
        filters: int. The block's planes; it outputs `4 * filters` channels.
        strides: int. Stride of the 3x3s (and of the last group's pool).
        shortcut: str. "projection", "zero_pad", "identity" or "none"; see
            `ResBlock`.
        scale: int. The scale dimension s: the number of groups the 1x1's
            output is split into (4 in Res2Net-50 26w4s); s - 1 of them get
            a 3x3. 1 is a ResNet bottleneck of width `width`.
        base_width: int. The width w of a group per 64 planes (26 in 26w4s).
        cardinality: int. Groups of each 3x3 (Res2NeXt: 8); 1 for Res2Net.

    Keyword-only args, the family's variants (`PostActivationBlock`'s):
        se_ratio: float or None. Squeeze-and-excitation before the sum.
        dilation: int. Dilation rate of the 3x3s.
        avg_down: bool. ResNet-D's projection shortcut (res2net50d).
        drop_path_rate: float. Stochastic depth of the branch.
        zero_init_last: bool. Start conv3's BN gamma at zero.

    Keyword-only args, the convolutions' settings (`ConvBNLayer`'s):
        activation, use_bias, bn_epsilon, bn_momentum, kernel_initializer.

    Attributes:
        conv1: the 1x1 `ConvBN` to `scale * width` channels.
        convs: the `scale - 1` (at least 1) 3x3 `ConvBN`s, K_1 .. K_{s-1}.
        conv3: the 1x1 expanding `ConvBN` (linear).
        width: int. Channels of each group.
        pool_pad, pool: the last group's 3x3 average pool (zeros counted) in
            a stage's first block, None elsewhere (made in `build()`).
        chained: bool. Whether each 3x3 adds the previous one's output: not
            in a stage's first block (set in `build()`, from the input width).
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
        scale: int = 4,
        base_width: int = 26,
        cardinality: int = 1,
        **kwargs,
    ):
        super().__init__(**given(locals()))  # keeps them, the variants and the settings
        check_positive_int("scale", scale, "the groups the 1x1's output is split into, 4 in 26w4s")
        # timm's rule, torchvision's: Res2Net-50 26w4s's conv2 stage has
        # int(64 * 26 / 64) = 26 channels per group, so its 1x1 reduces to 104.
        self.width = bottleneck_width(filters, base_width, cardinality)
        self.conv1 = self.conv_bn(self.width * scale, 1, name="conv1")
        self.convs = [
            self.conv_bn(
                self.width,
                3,
                strides,
                groups=cardinality,
                dilation_rate=self.dilation,
                name=f"conv2_{i + 1}",
            )
            for i in range(max(1, scale - 1))
        ]
        self.conv3 = self.last_conv_bn(self.out_channels, 1, "conv3")
        self.pool_pad = self.pool = None
        self.chained = None  # set in build()
        self._make_tail()  # se, act, drop_path

    def branch(self) -> list:
        return [self.conv1, *self.convs, self.conv3]

    def build(self, input_shape):
        # Where the shape changes (a stage's first block) the groups are not
        # chained and the last one is pooled: known once the input width is.
        self.chained = self.strides == 1 and input_shape[-1] == self.out_channels
        group = (*input_shape[:-1], self.width)
        if not self.chained and self.scale > 1:
            self.pool_pad, self.pool = padded_average_pool(self.strides, self.dtype_policy)
            build_chain([self.pool_pad, self.pool], group)
        # The 3x3s each read one group and conv3 reads their concatenation,
        # so they are built here, not as the chain the base builds.
        self.conv1.build(input_shape)
        for conv in self.convs:
            conv.build(group)
        outputs = self.convs[0].compute_output_shape(group)
        self.conv3.build((*outputs[:-1], self.width * self.scale))
        super().build(input_shape)  # the shortcut, SE, act

    def residual(self, x, training=None):
        x = self.conv1(x, training=training)  # 1x1: reduce to scale * width
        groups = keras.ops.split(x, self.scale, axis=-1) if self.scale > 1 else [x]
        outputs, y = [], None
        for i, conv in enumerate(self.convs):  # y_i = K_i(x_i + y_{i-1})
            y = groups[i] if i == 0 or not self.chained else y + groups[i]
            y = conv(y, training=training)
            outputs.append(y)
        if self.scale > 1:  # y_s = x_s: the last group passes (pooled where the stage strides)
            last = groups[-1]
            outputs.append(last if self.pool is None else self.pool(self.pool_pad(last)))
        x = keras.ops.concatenate(outputs, axis=-1) if len(outputs) > 1 else outputs[0]
        return self.conv3(x, training=training)  # 1x1: expand by 4

    def compute_output_shape(self, input_shape):
        batch, *_ = input_shape
        shape = self.convs[0].compute_output_shape((*input_shape[:-1], self.width))
        return (batch, shape[1], shape[2], self.out_channels)
