"""Selective kernel convolution and the two ResNet blocks built on it.

Li et al. 2019, "Selective Kernel Networks", Fig. 1: a convolution made of
M paths with different receptive fields (3x3, and 5x5 as a 3x3 of
dilation 2), fused by attention. Split: each path convolves x. Fuse: the
paths are summed, pooled globally and squeezed by a 1x1 to a short vector
z. Select: one 1x1 per path turns z into logits, a softmax across the
paths gives each channel its mixture, and the output is the paths'
weighted sum, so each neuron picks its receptive field from its input.
As in timm's `SelectiveKernel`, the input may be split across the paths
(`split_input`: each sees 1/M of the channels), which keeps the
parameters near those of one 3x3.
"""

import keras

from resblocks.arguments import given
from resblocks.chain import build_chain, strided_output_shape
from resblocks.checks import check_positive_int
from resblocks.conv_bn import ConvBNLayer
from resblocks.residual import PostActivationBlock, bottleneck_width
from resblocks.squeeze_excite import make_divisible


@keras.saving.register_keras_serializable(package="resblocks")
class SelectiveKernel(ConvBNLayer):
    """Split, fuse, select: M conv-BN-ReLU paths mixed per channel by a softmax across them.

    Li et al. 2019, Fig. 1; timm's `SelectiveKernel` (`keep_3x3`: path i is
    a 3x3 of dilation i + 1, the paper's 3x3 and 5x5 for M = 2):

        U_i = ReLU(BN(conv3x3_{dilation i+1}(x or its i-th 1/M of channels)))
        z = ReLU(BN(fc_reduce(avgpool(U_1 + ... + U_M))))
        a = softmax over i of fc_select(z)_i        out = a_1 U_1 + ... + a_M U_M

    Args:
        filters: int. Output channels (of every path).
        strides: int. Stride of the paths.
        paths: int. M, the number of paths (2 in the paper and timm).
        groups: int. Groups of each path's convolution (SKNet-50: 32).
        attn_ratio: float. Width of z over `filters` (the paper's 1 / r).
        attn_divisor: int. z's width is rounded to a multiple of it.
        split_input: bool. Split the input channels across the paths.
        dilation: int. Multiplies every path's dilation.

    Keyword-only args, the settings of the paths' `ConvBN`s and of the
    attention's norm (`ConvBNLayer`'s): activation, use_bias, bn_epsilon,
    bn_momentum, kernel_initializer, normalization, norm_groups,
    weight_standardization.

    Attributes:
        branches: the M path `ConvBN`s.
        fc_reduce, bn, act, fc_select: the attention (timm's names).
        attention_width: int. Channels of z.

    Input shape: `(batch, height, width, channels)`; channels a multiple of
    M with `split_input`.
    Output shape: `(batch, height / strides, width / strides, filters)`.
    """

    def __init__(
        self,
        filters: int,
        strides: int = 1,
        paths: int = 2,
        groups: int = 1,
        attn_ratio: float = 1 / 16,
        attn_divisor: int = 8,
        split_input: bool = True,
        dilation: int = 1,
        **kwargs,
    ):
        super().__init__(**given(locals()))  # keeps them, and the keyword-only settings
        check_positive_int("paths", paths, "the number of paths M, 2 in the paper")
        # Keras refuses a strided dilated convolution: a dilated path convolves
        # at stride 1 and keeps every strides-th pixel (`call`), the same numbers.
        self.branches = [
            self.conv_bn(
                filters,
                3,
                strides if i == 0 and dilation == 1 else 1,
                groups=min(filters, groups),
                dilation_rate=dilation * (i + 1),
                name=f"path{i + 1}",
            )
            for i in range(paths)
        ]
        # timm's make_divisible(filters * rd_ratio, rd_divisor) (never more than
        # 10% below it); the paper's d = max(C / r, L) with L = 32.
        self.attention_width = make_divisible(filters * attn_ratio, attn_divisor)
        dtype = self.dtype_policy
        self.pool = keras.layers.GlobalAveragePooling2D(keepdims=True, name="squeeze", dtype=dtype)
        self.fc_reduce = keras.layers.Conv2D(
            self.attention_width, 1, use_bias=False, name="fc_reduce", dtype=dtype
        )
        self.bn = self.norm("bn")
        self.act = keras.layers.Activation(self.activation, name="act", dtype=dtype)
        self.fc_select = keras.layers.Conv2D(
            filters * paths, 1, use_bias=False, name="fc_select", dtype=dtype
        )

    def build(self, input_shape):
        channels = input_shape[-1]
        if self.split_input and channels % self.paths:
            raise ValueError(
                f"split_input=True splits the {channels} input channels across {self.paths} "
                "paths, so they must be a multiple of `paths`. Use split_input=False."
            )
        per_path = channels // self.paths if self.split_input else channels
        for branch in self.branches:
            branch.build((*input_shape[:-1], per_path))
        pooled = (input_shape[0], 1, 1, self.filters)
        build_chain([self.fc_reduce, self.bn, self.act, self.fc_select], pooled)

    def call(self, x, training=None):
        if self.split_input:  # each path sees its 1/M of the channels
            pieces = keras.ops.split(x, self.paths, axis=-1)
        else:
            pieces = [x] * self.paths
        outputs = []
        for branch, piece in zip(self.branches, pieces):
            y = branch(piece, training=training)
            if branch.strides != self.strides:  # a dilated path strides by subsampling
                y = y[:, :: self.strides, :: self.strides, :]
            outputs.append(y)
        u = keras.ops.stack(outputs, axis=3)  # (..., M, filters)
        z = self.pool(keras.ops.sum(u, axis=3))  # fuse: U = U_1 + ... + U_M, pooled
        z = self.act(self.bn(self.fc_reduce(z), training=training))
        logits = keras.ops.reshape(self.fc_select(z), (-1, 1, 1, self.paths, self.filters))
        a = keras.ops.softmax(logits, axis=3)  # select: across the paths, per channel
        return keras.ops.sum(u * a, axis=3)

    def compute_output_shape(self, input_shape):
        return strided_output_shape(input_shape, self.strides, self.filters)


class SelectiveKernelResidual(PostActivationBlock):
    """What the two selective-kernel blocks share: the SK settings and making the SK unit.

    Not a block of its own.

    Keyword-only args:
        paths: int. M, the paths of the selective kernel (2).
        attn_ratio: float. Width of z over the unit's channels (1/16;
            timm's skresnet18/34: 1/8).
        attn_divisor: int. z's width is a multiple of it (8; skresnet18/34:
            16; skresnext50_32x4d: 32).
        split_input: bool. Split the input channels across the paths (timm's
            skresnets; False in skresnext50_32x4d, the paper's SKNet-50).
    """

    def __init__(
        self,
        *,
        paths: int = 2,
        attn_ratio: float = 1 / 16,
        attn_divisor: int = 8,
        split_input: bool = True,
        **kwargs,
    ):
        super().__init__(**given(locals()))

    def selective_kernel(self, filters: int, strides: int, groups: int = 1) -> SelectiveKernel:
        return SelectiveKernel(
            filters,
            strides,
            paths=self.paths,
            groups=groups,
            attn_ratio=self.attn_ratio,
            attn_divisor=self.attn_divisor,
            split_input=self.split_input,
            dilation=self.dilation,
            activation=self.activation,
            **self.conv_settings(),
            name="conv1" if self.expansion == 1 else "conv2",
            dtype=self.dtype_policy,
        )


@keras.saving.register_keras_serializable(package="resblocks")
class SelectiveKernelBlock(SelectiveKernelResidual):
    """Basic residual block whose first 3x3 is a selective kernel: timm's skresnet18/34.

    Li et al. 2019's SK unit in ResNet's basic block (He et al. 2015,
    Fig. 5 left), as timm's `SelectiveKernelBasic`:

        x -> SelectiveKernel(filters, strides) -> 3x3 conv-BN (linear) -> + shortcut -> ReLU

    Args:
        filters: int. Output channels.
        strides: int. Stride of the selective kernel; 2 halves the map.
        shortcut: str. "projection", "zero_pad", "identity" or "none"; see
            `ResBlock`.

    Keyword-only args, the selective kernel's (`SelectiveKernelResidual`'s):
        paths, attn_ratio, attn_divisor, split_input.

    Keyword-only args, the family's variants (`PostActivationBlock`'s):
        se_ratio, dilation, avg_down, drop_path_rate, zero_init_last: as in `ResBlock`.

    Keyword-only args, the convolutions' settings (`ConvBNLayer`'s):
        activation, use_bias, bn_epsilon, bn_momentum, kernel_initializer.

    Attributes:
        conv1: the `SelectiveKernel`. conv2: the linear 3x3 `ConvBN`.
        downsample, se, act, drop_path, shortcut_kind: as in `ResBlock`.

    Input shape: `(batch, height, width, channels)`.
    Output shape: `(batch, height / strides, width / strides, filters)`.
    """

    def __init__(self, filters: int, strides: int = 1, shortcut: str = "projection", **kwargs):
        super().__init__(**given(locals()))  # keeps them, the SK settings, variants, settings
        self.conv1 = self.selective_kernel(filters, strides)
        self.conv2 = self.last_conv_bn(filters, 3, "conv2", dilation_rate=self.dilation)
        self._make_tail()  # se, act, drop_path

    def branch(self) -> list:
        return [self.conv1, self.conv2]

    def residual(self, x, training=None):
        x = self.conv1(x, training=training)  # selective kernel: 3x3 and "5x5", mixed
        return self.conv2(x, training=training)


@keras.saving.register_keras_serializable(package="resblocks")
class SelectiveKernelBottleneck(SelectiveKernelResidual):
    """Bottleneck whose 3x3 is a selective kernel: SKNet-50 (Li et al. 2019, Table 1).

    timm's `SelectiveKernelBottleneck` (skresnet50, skresnet50d and, with
    32 groups of 4 and no input split, skresnext50_32x4d, the paper's SKNet-50):

        x -> 1x1 (width) -> SelectiveKernel(width, strides, groups)
          -> 1x1 (4 * filters, linear) -> + shortcut -> ReLU

    Args:
        filters: int. The block's planes; it outputs `4 * filters` channels.
        strides: int. Stride of the selective kernel.
        shortcut: str. "projection", "zero_pad", "identity" or "none".
        cardinality: int. Groups of the paths' convolutions (G = 32 in SKNet-50).
        base_width: int. Channels per group per 64 planes: the inner width
            is `int(filters * base_width / 64) * cardinality`.

    Keyword-only args, the selective kernel's (`SelectiveKernelResidual`'s):
        paths, attn_ratio, attn_divisor, split_input.

    Keyword-only args, the family's variants (`PostActivationBlock`'s):
        se_ratio, dilation, avg_down, drop_path_rate, zero_init_last: as in `BottleNeck`.

    Keyword-only args, the convolutions' settings (`ConvBNLayer`'s):
        activation, use_bias, bn_epsilon, bn_momentum, kernel_initializer.

    Attributes:
        conv1, conv3: the 1x1 `ConvBN`s. conv2: the `SelectiveKernel`.
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
        cardinality: int = 1,
        base_width: int = 64,
        **kwargs,
    ):
        super().__init__(**given(locals()))  # keeps them, the SK settings, variants, settings
        self.width = bottleneck_width(filters, base_width, cardinality)
        self.conv1 = self.conv_bn(self.width, 1, name="conv1")
        self.conv2 = self.selective_kernel(self.width, strides, cardinality)
        self.conv3 = self.last_conv_bn(self.out_channels, 1, "conv3")
        self._make_tail()  # se, act, drop_path

    def branch(self) -> list:
        return [self.conv1, self.conv2, self.conv3]

    def residual(self, x, training=None):
        x = self.conv1(x, training=training)  # 1x1: reduce to the inner width
        x = self.conv2(x, training=training)  # selective kernel at that width
        return self.conv3(x, training=training)  # 1x1: expand by 4
