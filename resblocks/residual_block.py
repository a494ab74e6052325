"""The plumbing every residual block of ResNet shares, V1 and V2, basic and bottleneck.

He et al. 2015 (post-activation: `ResBlock`, `BottleNeck`) and He et al.
2016 (pre-activation: `PreActResBlock`, `PreActBottleNeck`) differ in where
the BN and ReLU go, not in the plumbing around the branch: storing the
arguments, the shortcut made once the input width is known, the sum, the
shape and the config. That plumbing is `ResidualBlock`; each block's branch
and its forward pass, which read like the paper's figure, stay in its own
class (a post-activation block writes only F(x), `residual`: its `call` is
`PostActivationBlock`'s).
As in timm's `resnet.py`, `expansion` is a class attribute, and as in
keras-hub's `resnet_backbone.py`, one flag (`pre_activation`) tells the
shortcut factory which of the two orderings it serves.
"""

import keras

from resblocks.chain import build_chain, chain_output_shape
from resblocks.checks import ArgumentError, check_one_of
from resblocks.conv_bn import ConvBNLayer
from resblocks.drop_path import DropPath
from resblocks.shortcut import (
    STRIDE_SHORTCUTS,
    ZeroPadShortcut,
    check_shortcut,
    make_shortcut,
    shortcut_kind,
)


def check_residual_only(shortcut: str, drop_path_rate: float, zero_init_last: bool) -> None:
    """Refuses stochastic depth and zero-init on a plain block (`shortcut="none"`).

    Both act on the residual branch as one term of a sum; a plain block has
    no other term, so it would output relu(0) for a dropped sample and at
    initialization.
    """
    for name, value, off in (
        ("drop_path_rate", drop_path_rate, 0.0),
        ("zero_init_last", zero_init_last, False),
    ):
        if shortcut == "none" and value != off:
            raise ArgumentError(
                name,
                "a plain block (shortcut='none') has no shortcut to pass x on, so it would "
                f"output zeros. Use {name}={off!r}, or a shortcut. Received: {name}={value!r}",
            )


def make_drop_path(rate: float, dtype: keras.DTypePolicy | str | None = None) -> DropPath | None:
    """The stochastic-depth layer of a residual branch; None at rate 0, as timm does."""
    return DropPath(rate, name="drop_path", dtype=dtype) if rate > 0 else None


class ResidualBlock(ConvBNLayer):
    """The base of the ResNet blocks: arguments, shortcut, sum, shape and config.

    Not a block of its own: a subclass declares its arguments in its
    `__init__` signature, passes them all by keyword
    (`super().__init__(**given(locals()))`: the base keeps one attribute per
    argument and a config of exactly those), makes its branch, lists it in
    `branch()`, and writes its forward pass as its figure draws it, with
    `shortcut_of(x)` for what the sum adds and `residual_sum` for the sum
    (`PostActivationBlock.call` does both for the 2015 blocks).

    Every block also takes `ConvBNLayer`'s keyword-only settings
    (activation, use_bias, bn_epsilon, bn_momentum, kernel_initializer).
    The arguments below are those of the blocks that take them
    (`PostActivationBlock`'s); the others have them at their "off" value.

    Args:
        down_kernel_size: int. Kernel of the projection shortcut's
            convolution: 1 (the paper's option B), or 3, padded by 1, as
            SENet-154 has it (Hu et al. 2018; timm's `down_kernel_size`).
        avg_down: bool. A projection shortcut average-pools 2x2 before a
            stride-1 1x1 convolution (ResNet-D, He et al. 2019, Fig. 2c).
        drop_path_rate: float in [0, 1). Stochastic depth (Huang et al. 2016):
            in training, the probability that a sample's residual branch is
            dropped, so the block passes only its shortcut. 0 adds no layer.
        zero_init_last: bool. Initialize the gamma of the branch's last BN to
            zero (Goyal et al. 2017, sec. 5.1; torchvision's
            `zero_init_residual`): the block starts as relu(shortcut(x)).

    Class attributes:
        expansion: int. Output channels per `filters`: 1 for basic blocks,
            4 for bottlenecks (He et al. 2015, Table 1).
        pre_activation: bool. BN and ReLU before each convolution (He et
            al. 2016): a projection shortcut is then a plain 1x1 conv of
            the pre-activated input, made by the same `make_shortcut`.

    Attributes:
        downsample: the layer that brings x to the output shape, or None
            (identity, or no shortcut at all). Made in `build()`, when the
            input width is known.
        se, drop_path: the channel gate (squeeze-excite or ECA) and the
            stochastic depth of the branch, or None.
        aa: the anti-aliasing pool that subsamples the branch, or None.
        act: the activation after the sum, or None (pre-activation blocks
            have none).
        shortcut_kind: str or None. What the sum adds, once built:
            "identity", "projection", "zero_pad", or None for a plain block.
    """

    expansion = 1
    pre_activation = False
    # Arguments not every block takes, at the value that turns them off.
    stride_shortcut = "projection"
    se_ratio = None
    attention = None
    anti_alias = "none"
    avg_down = False
    down_kernel_size = 1
    dilation = 1
    drop_path_rate = 0.0
    zero_init_last = False

    def __init__(self, **arguments):
        # `expansion` was a constructor argument of the bottlenecks; .keras
        # files saved then carry it, so the one value it can have is accepted.
        expansion = arguments.pop("expansion", self.expansion)
        if expansion != self.expansion:
            raise ArgumentError(
                "expansion",
                f"{type(self).__name__} always expands by {self.expansion} (a class attribute: "
                f"subclass it to change it). Received: expansion={expansion!r}",
            )
        super().__init__(**arguments)  # keeps the arguments, the subclass's and the settings
        # Sublayers not every block has; None is skipped when building. On the
        # instance, not the class: torch's Module keeps sublayers in _modules,
        # where a class attribute of the same name would hide them.
        self.preact_bn = self.preact_relu = self.se = self.drop_path = self.act = self.aa = None
        check_shortcut(self.shortcut)
        check_one_of("stride_shortcut", self.stride_shortcut, STRIDE_SHORTCUTS)
        check_residual_only(self.shortcut, self.drop_path_rate, self.zero_init_last)
        self.downsample = None

    @property
    def out_channels(self) -> int:
        return self.filters * self.expansion

    def branch(self) -> list:
        """The residual branch's layers in call order (after the pre-activation).

        A method, not a property: Keras saves a layer's weights under the
        first attribute, in name order, that holds it, so a property listing
        conv1 would move conv1's weights under its own name in every file.
        """
        raise TypeError(f"{type(self).__name__} must define branch(): its residual branch's layers")

    def build(self, input_shape):
        # Made here, not in __init__: whether x needs projecting depends on
        # the number of input channels, known only now.
        self.downsample = make_shortcut(
            self.shortcut,
            input_shape[-1],
            self.out_channels,
            self.strides,
            self.avg_down,
            kernel_size=self.down_kernel_size,
            pre_activation=self.pre_activation,
            stride_shortcut=self.stride_shortcut,
            dtype=self.dtype_policy,
            **self.conv_settings(),
        )
        layers = [self.preact_bn, self.preact_relu, *self.branch()]
        build_chain([*layers, self.se, self.drop_path, self.act], input_shape)
        build_chain([self.downsample], input_shape)

    def shortcut_of(self, x, training=None, preact=None):
        """What the sum adds: x, x brought to the output shape, or None (a plain block).

        A pre-activation block's projection reads `preact`, the normalized
        input its first conv reads; a subsample or zero-pad takes x itself.
        """
        if self.shortcut == "none":
            return None
        if self.downsample is None:
            return x  # the clean path: x itself
        if preact is not None and not isinstance(self.downsample, ZeroPadShortcut):
            return self.downsample(preact)
        return self.downsample(x, training=training)

    def residual_sum(self, x, shortcut, training=None):
        """F(x) gated by SE and dropped by stochastic depth, plus the shortcut (if any)."""
        if self.se is not None:  # channels reweighted by global context
            x = self.se(x)
        if shortcut is None:  # a plain block: nothing is added
            return x
        if self.drop_path is not None:  # stochastic depth: F(x) dropped per sample
            x = self.drop_path(x, training=training)
        return x + shortcut

    @property
    def shortcut_kind(self) -> str | None:
        return shortcut_kind(self.shortcut, self.downsample)

    def compute_output_shape(self, input_shape):
        return chain_output_shape(self.branch(), input_shape)
