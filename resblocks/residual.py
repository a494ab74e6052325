"""The two residual blocks of ResNet: basic (ResBlock) and bottleneck.

He et al. 2015, "Deep Residual Learning for Image Recognition", Figure 5.
A block learns the residual F(x) and outputs relu(F(x) + x): if the best
mapping is close to the identity, pushing F towards zero is easier than
learning the identity through a stack of nonlinear layers (sec. 3.1).

The family's variants are arguments of the same two blocks: ResNeXt's
cardinality and width (`groups`, `base_width`, Xie et al. 2017), Wide
ResNets (`base_width`), a channel gate (`attention`: squeeze-and-excitation,
Hu et al. 2018, sized by `se_ratio`, ECA, Wang et al. 2020, or global
context, Cao et al. 2019), ResNet-D's shortcut (`avg_down`, He et al. 2019),
anti-aliased downsampling (`anti_alias`, Zhang 2019), dilation, stochastic
depth and zero-init.
"""

from collections.abc import Sequence

import keras

from resblocks.anti_alias import make_anti_alias
from resblocks.arguments import given
from resblocks.channel_attention import make_channel_attention
from resblocks.checks import ArgumentError, check_one_of
from resblocks.conv_bn import ConvBN, check_widths
from resblocks.residual_block import ResidualBlock, make_drop_path

# Which convolution of a bottleneck strides: the first 1x1 (He et al. 2015,
# keras.applications) or the 3x3 (torchvision's "ResNet v1.5").
STRIDE_AT = ("1x1", "3x3")
# Where a bottleneck's channel gate sits: after the last 1x1, on the block's
# output width (timm's resnet.py, the SE paper), or after the 3x3, on the
# bottleneck width (timm's byobnet.py `BottleneckBlock`: gcresnet50t).
ATTENTION_AT = ("last", "3x3")


def last_gamma(zero_init_last: bool) -> str:
    """The gamma initializer of a branch's last BN: zeros make F(x) = 0 at start."""
    return "zeros" if zero_init_last else "ones"


class PostActivationBlock(ResidualBlock):
    """What both 2015 blocks share: the family's variants, and the tail after the branch.

    Not a block of its own. The variants both blocks take are keyword-only
    arguments, declared once here (each block's docstring says what they do
    there). A subclass makes its branch after `super().__init__`, its last
    conv with `last_conv_bn` (no activation, zero-init), then `_make_tail()`,
    and writes `residual(x)`, F(x), as its figure draws it: `call` is the
    same for every 2015 block, act(gate(F(x)) + shortcut(x)).

    Keyword-only args:
        se_ratio: float or None. Squeeze-and-excitation on the branch
            output before the sum (Hu et al. 2018, Fig. 3); None for none.
        attention: str or None. The channel gate on the branch output:
            "se", "eca", "gc" (`ATTENTIONS`); None for SE if `se_ratio` is
            given, else none.
        se_divisor: int. The SE bottleneck's width is rounded to a multiple
            of it: 8 as timm's `resnet.py` does; 1 keeps channels * se_ratio,
            as the original SENets (timm's `legacy_se*`) do.
        eca_kernel_size: int or None. ECA's k, odd, with `attention="eca"`;
            None for the paper's adaptive k of the branch's output channels.
            A pruned network keeps the k of the width it was trained at
            (timm's `ecaresnet50d_pruned`: 5 where 19 channels would give 3).
        anti_alias: str. "none", "avg" or "blur" (`ANTI_ALIASES`): the
            strided 3x3 convolves at stride 1 and a low-pass filter
            subsamples after it (`make_anti_alias`), as timm's `aa_layer`.
        avg_down, down_kernel_size, drop_path_rate, zero_init_last: see
            `ResidualBlock`.
        dilation: int. Dilation rate of the branch's 3x3 convolutions.
    """

    def __init__(
        self,
        *,
        se_ratio: float | None = None,
        attention: str | None = None,
        se_divisor: int = 8,
        eca_kernel_size: int | None = None,
        anti_alias: str = "none",
        avg_down: bool = False,
        down_kernel_size: int = 1,
        dilation: int = 1,
        drop_path_rate: float = 0.0,
        zero_init_last: bool = False,
        **kwargs,
    ):
        super().__init__(**given(locals()))
        if avg_down and down_kernel_size != 1:
            raise ArgumentError(
                "down_kernel_size",
                "ResNet-D's shortcut (avg_down) pools, then convolves 1x1. Use "
                "down_kernel_size=1 with avg_down=True. "
                f"Received: down_kernel_size={down_kernel_size}",
            )

    def last_conv_bn(self, filters: int, kernel_size: int, name: str, **options) -> ConvBN:
        """The branch's last conv -> BN: linear (a ReLU follows the sum), zero gamma on request."""
        gamma = last_gamma(self.zero_init_last)
        settings = {"activation": None, "bn_gamma_initializer": gamma, **options}
        return self.conv_bn(filters, kernel_size, name=name, **settings)

    def channel_gate(self, name: str = "se") -> keras.layers.Layer | None:
        """The block's channel gate (`attention`, `se_ratio`, ...), or None for none."""
        return make_channel_attention(
            self.attention,
            self.se_ratio,
            self.se_divisor,
            self.eca_kernel_size,
            name=name,
            dtype=self.dtype_policy,
        )

    def _make_tail(self, gate: bool = True) -> None:
        """The channel gate (unless the branch holds it), the activation after the sum
        and stochastic depth, in that order."""
        self.se = self.channel_gate() if gate else None
        self.act = keras.layers.Activation(self.activation, name="out", dtype=self.dtype_policy)
        self.drop_path = make_drop_path(self.drop_path_rate, self.dtype_policy)

    def residual(self, x, training=None):
        """F(x): the residual branch, from the block's input to its last BN."""
        raise TypeError(f"{type(self).__name__} must define residual(x, training): F(x)")

    def call(self, x, training=None):
        shortcut = self.shortcut_of(x, training)  # x, or x brought to the new shape
        x = self.residual(x, training)
        return self.act(self.residual_sum(x, shortcut, training))


def bottleneck_width(filters: int, base_width: int, groups: int) -> int:
    """Channels of a bottleneck's 1x1 and 3x3: int(filters * base_width / 64) * groups.

    torchvision's rule (models/resnet.py, `Bottleneck`); ResNeXt-50 32x4d's
    conv2 stage: int(64 * 4 / 64) * 32 = 128 (Xie et al. 2017, Table 1).
    """
    width = int(filters * base_width / 64) * groups
    if width < 1:
        raise ArgumentError(
            "base_width",
            f"the paths would have int({filters} * {base_width} / 64) = 0 channels. Use "
            f"base_width >= {-(-64 // filters)}. Received: base_width={base_width}",
        )
    return width


@keras.saving.register_keras_serializable(package="resblocks")
class ResBlock(PostActivationBlock):
    """Basic residual block: two 3x3 convolutions plus a shortcut.

    Figure 5 (left) of He et al. 2015; the block of ResNet-18/34 and of the
    CIFAR networks (sec. 4.2). out = relu(bn(conv3x3(relu(bn(conv3x3(x))))) + x).

    Args:
        filters: int. Output channels of both convolutions.
        strides: int. Stride of the first convolution; 2 halves the map.
        shortcut: str. "projection" (1x1 conv + BN where the shape changes,
            identity elsewhere: option B), "zero_pad" (option A), "identity"
            (the shape must not change) or "none" (a plain block).
        last_activation: bool. The activation after conv2's BN too, before
            the SE gate and the sum: the original SE-ResNet-18/34 (timm's
            `legacy_seresnet18/34`, senet.py's SEResNetBlock) do so; the
            paper's block adds conv2's linear output.

    Keyword-only args, the family's variants (`PostActivationBlock`'s):
        se_ratio: float or None. Squeeze-and-excitation on the residual
            branch before the sum (Hu et al. 2018, Fig. 3), with a bottleneck
            of `filters * se_ratio` channels, se_ratio in (0, 1]; None for none.
        attention: str or None. The channel gate: "se" (at `se_ratio`, 1/16
            if None), "eca" (Wang et al. 2020: a 1-d convolution across the
            pooled channels, no bottleneck) or "gc" (global context, Cao et
            al. 2019, added, not multiplied); None: SE if `se_ratio` is given.
        anti_alias: str. "avg" or "blur": conv1 convolves at stride 1 and
            a 2x2 average pool or a `BlurPool2D` subsamples its activated
            output (Zhang 2019; timm's `aa_layer`); "none" strides conv1.
        dilation: int. Dilation rate of the 3x3 convolutions (DeepLab; torchvision's
            `replace_stride_with_dilation`): the receptive field grows as if
            the network had strided, but the map keeps its size.
        avg_down: bool. ResNet-D's projection: a 2x2 average pool, then a
            stride-1 1x1 convolution (see `ResidualBlock`).
        drop_path_rate: float. Stochastic depth: the rate at which training
            drops the branch (see `ResidualBlock`).
        zero_init_last: bool. Start conv2's BN gamma at zero, so the block
            starts as relu(shortcut(x)).

    Keyword-only args, the settings of both convolutions and the projection
    (declared once, by `ConvBNLayer`):
        activation: str. The nonlinearity after each BN and after the sum.
        use_bias: bool. Bias in the convolutions.
        bn_epsilon, bn_momentum: float. Epsilon and momentum of every batch norm.
        kernel_initializer: str. Initializer of the convolution kernels.

    Attributes:
        conv1, conv2: the `ConvBN` layers of the residual branch F(x).
        aa: the anti-aliasing pool after conv1, or None.
        se: the channel gate after conv2, or None.
        downsample: the layer that brings x to the output shape, or None
            (identity, or no shortcut at all). Made in `build()`.
        act: the activation after the sum (named `act` in every block;
            formerly `relu` here).
        drop_path: the `DropPath` on the residual branch, or None (rate 0).
        shortcut_kind: str or None. What the sum adds, once built:
            "identity", "projection", "zero_pad", or None for a plain block.
        expansion: int. 1, `ResidualBlock`'s: a basic block outputs `filters`
            channels (a class attribute, as in `PreActResBlock`).
        The plumbing (arguments, shortcut, sum, config) is `ResidualBlock`'s.

    Input shape: `(batch, height, width, channels)`.
    Output shape: `(batch, height / strides, width / strides, filters)`.
    """

    def __init__(
        self,
        filters: int,
        strides: int = 1,
        shortcut: str = "projection",
        last_activation: bool = False,
        **kwargs,
    ):
        super().__init__(**given(locals()))  # keeps them, the variants and the settings
        dilation = self.dilation
        # None: conv1 strides itself.
        self.aa = make_anti_alias(self.anti_alias, strides, dtype=self.dtype_policy)
        stride = strides if self.aa is None else 1
        self.conv1 = self.conv_bn(filters, 3, stride, dilation_rate=dilation, name="conv1")
        last = {"activation": self.activation} if last_activation else {}
        self.conv2 = self.last_conv_bn(filters, 3, "conv2", dilation_rate=dilation, **last)
        self._make_tail()  # se, act, drop_path

    def branch(self) -> list:
        return [self.conv1, self.aa, self.conv2]

    def residual(self, x, training=None):
        x = self.conv1(x, training=training)
        if self.aa is not None:  # the subsampling, low-pass filtered
            x = self.aa(x)
        return self.conv2(x, training=training)


@keras.saving.register_keras_serializable(package="resblocks")
class BottleNeck(PostActivationBlock):
    """Bottleneck residual block: 1x1 reduce, 3x3, 1x1 expand, plus a shortcut.

    Figure 5 (right) of He et al. 2015; the block of ResNet-50/101/152. The
    1x1 convolutions shrink the channels to `filters` for the 3x3 and grow
    them back to `filters * expansion`, so a 256-channel block costs 69,632
    weights instead of 1,179,648 for two 3x3 convolutions at full width.

    ResNeXt (Xie et al. 2017, Fig. 3c) splits the 3x3 into `groups` paths
    of `base_width` channels each (per 64 of `filters`): the inner width is
    `int(filters * base_width / 64) * groups`, as torchvision computes it,
    so `groups=32, base_width=4` is ResNeXt's 32x4d and `base_width=128`
    with one group is the Wide ResNet-50-2.

    Args:
        filters: int. The block's planes (64 in conv2_x of Table 1); the
            block outputs `filters * expansion` channels. The 1x1 and 3x3
            convolutions have `filters` channels unless `groups` or
            `base_width` widen them.
        strides: int. The block's stride; 2 halves the map.
        stride_at: str. Which convolution strides: "1x1", the first (the
            original paper, Caffe and keras.applications), or "3x3" (the
            "ResNet v1.5" of torchvision, about 0.5% more accurate on
            ImageNet, since a strided 1x1 skips three quarters of its input).
        shortcut: str. "projection", "zero_pad", "identity" or "none"; see
            `ResBlock`.
        groups: int. Cardinality: the number of paths of the grouped 3x3
            convolution (ResNeXt, Table 1: 32).
        base_width: int. Channels of each path per 64 planes (ResNeXt's
            bottleneck width d: 4 in 32x4d); 64 with one group is ResNet.
        reduce_first: int. conv1 outputs `width // reduce_first` channels,
            the 3x3 widens them back: SENet-154's bottleneck (Hu et al. 2018)
            halves its first 1x1 (2; timm's `block_reduce_first`).
        conv_widths: list of 3 ints, or None. The output channels of conv1,
            conv2 and conv3, in order, in place of the widths `filters`,
            `groups`, `base_width` and `reduce_first` give; conv3's is the
            block's output (and the projection's). A pruned bottleneck
            (Aflalo et al. 2020; timm's `ecaresnet50d_pruned`, whose first
            block is [47, 18, 19] where ResNet-50's is [64, 64, 256]):
            `filters` then names the planes it was pruned from and sizes
            nothing. None: the rule above.

    Keyword-only args, the family's variants (`PostActivationBlock`'s):
        se_ratio: float or None. Squeeze-and-excitation on the branch output
            before the sum (Hu et al. 2018, Fig. 3), in (0, 1]; timm's
            seresnet50 uses 1/16. None for none.
        attention: str or None. The channel gate after conv3: "se" (at
            `se_ratio`, 1/16 if None), "eca" (Wang et al. 2020, timm's
            ecaresnet50d) or "gc", global context (Cao et al. 2019, timm's
            gcresnet50t); None: SE if `se_ratio` is given.
        anti_alias: str. "avg" or "blur": the 3x3 convolves at stride 1 and
            a 2x2 average pool or a `BlurPool2D` subsamples its activated
            output (Zhang 2019; timm's resnetaa50d and resnetblur50). Needs
            `stride_at="3x3"`. "none" strides the 3x3 itself.
        attention_at: str. Where the gate sits (`ATTENTION_AT`): "last",
            after conv3, before the sum (timm's resnet.py); "3x3", after
            the 3x3 (and its anti-aliasing), before conv3, as timm's
            byobnet.py `BottleneckBlock` places its `attn` (gcresnet50t).
        dilation: int. Dilation rate of the 3x3 convolution (DeepLab; torchvision's
            `replace_stride_with_dilation`): the receptive field grows as if
            the network had strided, but the map keeps its size.
        avg_down: bool. Average-pool 2x2 before a stride-1 projection (ResNet-D).
        drop_path_rate: float. Stochastic depth of the branch (`ResidualBlock`).
        zero_init_last: bool. Start conv3's BN gamma at zero (Goyal et al. 2017).

    Keyword-only args, the settings of the three convolutions and the
    projection (`ConvBNLayer`'s):
        activation: str. The nonlinearity after each BN and after the sum.
        use_bias: bool. Bias in the convolutions.
        bn_epsilon, bn_momentum: float. Epsilon and momentum of every batch norm.
        kernel_initializer: str. Initializer of the convolution kernels.

    Attributes:
        conv1, conv2, conv3: the `ConvBN` layers of the residual branch.
        width: int. Channels of conv2 (and of conv1, divided by
            `reduce_first`), or `conv_widths[1]`.
        aa: the anti-aliasing pool after conv2, or None.
        se: the channel gate after conv3 (`SqueezeExcite`,
            `EfficientChannelAttention` or `GlobalContext`), or None.
        attn: the gate after the 3x3 with `attention_at="3x3"`, or None.
        downsample, act, drop_path, shortcut_kind: as in `ResBlock`.
        expansion: int. Output channels per bottleneck channel: 4, as in
            the paper (a class attribute, as timm's; a saved config's
            `"expansion": 4` still loads, another value is refused).

    Input shape: `(batch, height, width, channels)`.
    Output shape: `(batch, height / strides, width / strides, filters * expansion)`,
    or `conv_widths[2]` channels.
    """

    expansion = 4

    def __init__(
        self,
        filters: int,
        strides: int = 1,
        stride_at: str = "1x1",
        shortcut: str = "projection",
        groups: int = 1,
        base_width: int = 64,
        reduce_first: int = 1,
        conv_widths: Sequence[int] | None = None,
        attention_at: str = "last",
        **kwargs,
    ):
        super().__init__(**given(locals()))  # keeps them, the variants and the settings
        check_one_of("stride_at", stride_at, STRIDE_AT)
        check_one_of("attention_at", attention_at, ATTENTION_AT)
        if stride_at == "1x1" and self.anti_alias in ("avg", "blur"):
            raise ArgumentError(
                "anti_alias",
                "the low-pass filter takes the place of the 3x3's stride (timm's aa_layer), "
                "and this bottleneck strides its 1x1. Use stride_at='3x3' with anti-aliasing. "
                f"Received: anti_alias={self.anti_alias!r}",
            )
        first, self.width = self._inner_widths()

        stride_1x1, stride_3x3 = (strides, 1) if stride_at == "1x1" else (1, strides)
        # None: conv2 strides itself.
        self.aa = make_anti_alias(self.anti_alias, stride_3x3, dtype=self.dtype_policy)
        stride_3x3 = stride_3x3 if self.aa is None else 1
        self.conv1 = self.conv_bn(first, 1, stride_1x1, name="conv1")
        self.conv2 = self.conv_bn(
            self.width, 3, stride_3x3, groups=groups, dilation_rate=self.dilation, name="conv2"
        )
        self.conv3 = self.last_conv_bn(self.out_channels, 1, "conv3")
        gate_in_branch = attention_at == "3x3"  # after the 3x3, named as in byobnet.py
        self._make_tail(gate=not gate_in_branch)  # se, act, drop_path
        self.attn = self.channel_gate(name="attn") if gate_in_branch else None

    def _inner_widths(self) -> tuple[int, int]:
        """conv1's and conv2's channels: `conv_widths`, or the rule of `filters`."""
        if self.conv_widths is None:
            width = bottleneck_width(self.filters, self.base_width, self.groups)
            if width % self.reduce_first:
                raise ArgumentError(
                    "reduce_first",
                    f"it must divide the bottleneck width {width}, which conv1 narrows by it. "
                    f"Received: reduce_first={self.reduce_first}",
                )
            return width // self.reduce_first, width
        widths = check_widths("conv_widths", self.conv_widths, 3, "the block (conv1, conv2, conv3)")
        for name, value, off in (
            ("base_width", self.base_width, 64),
            ("reduce_first", self.reduce_first, 1),
        ):
            if value != off:
                raise ArgumentError(
                    name,
                    "it sizes conv1 and conv2 from `filters`, and `conv_widths` gives their "
                    f"widths. Use one of them. Received: {name}={value!r}, "
                    f"conv_widths={list(self.conv_widths)!r}",
                )
        if widths[0] % self.groups or widths[1] % self.groups:
            raise ArgumentError(
                "conv_widths",
                "the grouped 3x3 needs its input and output widths divisible by "
                f"groups={self.groups}. Received: conv_widths={widths!r}",
            )
        return widths[0], widths[1]

    @property
    def out_channels(self) -> int:
        """conv3's width: `filters * expansion`, or `conv_widths[2]`."""
        if self.conv_widths is None:
            return self.filters * self.expansion
        return self.conv_widths[2]

    def branch(self) -> list:
        return [self.conv1, self.conv2, self.aa, self.attn, self.conv3]

    def residual(self, x, training=None):
        x = self.conv1(x, training=training)  # 1x1: reduce to the bottleneck width
        x = self.conv2(x, training=training)  # 3x3 at that width
        if self.aa is not None:  # the subsampling, low-pass filtered
            x = self.aa(x)
        if self.attn is not None:  # the gate at the bottleneck width (attention_at="3x3")
            x = self.attn(x)
        return self.conv3(x, training=training)  # 1x1: expand by 4
