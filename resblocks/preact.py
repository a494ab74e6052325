"""Pre-activation residual blocks: BN -> ReLU -> conv, and nothing after the sum.

He et al. 2016, "Identity Mappings in Deep Residual Networks", Figure 1(b)
and Figure 4(e). In the 2015 blocks (`ResBlock`, `BottleNeck`) a ReLU
follows the addition, so the signal that reaches the next block is
relu(F(x) + x), never x itself. Moving each BN and ReLU in front of its
convolution ("pre-activation") leaves the shortcut a pure identity from
one block to the next, x_L = x_l + sum F(x_i) (eq. 4), so both the signal
and its gradient pass any number of blocks unchanged (eq. 5). The paper
trains a 1001-layer network this way, which the 2015 wiring could not.

Since no block ends with a BN, the network needs one after its last sum:
`PostNorm` (BN -> ReLU) before the head. And since each block starts with
one, the stem needs none: `PreActStem` is a bare convolution.
"""

import keras

from resblocks.arguments import given, keep_arguments
from resblocks.chain import ChainLayer
from resblocks.conv_bn import ConvBN
from resblocks.normalization import make_conv, make_norm_act
from resblocks.residual_block import ResidualBlock
from resblocks.shortcut import STRIDE_SHORTCUTS
from resblocks.stems import stem_max_pool

__all__ = ["STRIDE_SHORTCUTS", "PostNorm", "PreActBottleNeck", "PreActResBlock", "PreActStem"]


class PreActivationBlock(ResidualBlock):
    """What both pre-activation blocks share: the BN-ReLU that opens them, and their branch.

    Not a block of its own. A subclass makes its branch after
    `super().__init__` and lists it, after the pre-activation, in `branch()`;
    its `call` opens with `preactivate(x)`.

    Keyword-only args:
        stride_shortcut: str. The shortcut where the block strides but keeps
            its width: "projection" (a strided 1x1 conv) or "subsample"
            (every stride-th pixel, no parameters: keras.applications' V2).
        avg_down: bool. A projection average-pools 2x2 before its stride-1
            1x1 convolution (ResNet-D, He et al. 2019, Fig. 2c; timm's
            `resnetv2_50d`).

    Attributes:
        preact_bn, preact_relu: the BN and activation that open the block;
            preact_relu is None where the norm is its own activation
            (`normalization` "frn" or "evonorm_s0").
        branch_layers: list of layers. The residual branch after the
            pre-activation, in order: `branch()`.
    """

    pre_activation = True

    def __init__(self, *, stride_shortcut: str = "projection", avg_down: bool = False, **kwargs):
        super().__init__(**given(locals()))
        # preact_relu is None where the norm is its own activation (FRN, EvoNorm).
        self.preact_bn, self.preact_relu = make_norm_act(
            self.normalization,
            self.activation,
            epsilon=self.bn_epsilon,
            momentum=self.bn_momentum,
            norm_groups=self.norm_groups,
            name="preact_bn",
            act_name="preact_relu",
            dtype=self.dtype_policy,
        )

    @property
    def branch_layers(self) -> list:
        # A property, as in earlier releases: Keras saved the branch's weights
        # under this name, so the weights files of those releases hold it.
        return self.branch()

    def branch_conv_bn(self, filters: int, kernel_size: int, strides: int, name: str) -> ConvBN:
        """conv -> BN -> activation inside the branch: no bias, since a BN follows."""
        return self.conv_bn(filters, kernel_size, strides, use_bias=False, name=name)

    def last_conv(self, filters: int, kernel_size: int, name: str) -> keras.layers.Conv2D:
        """The branch's last convolution: a plain Conv2D, no BN after it (the next block's
        pre-activation normalizes the sum), so `use_bias` applies."""
        return make_conv(
            keras.layers.Conv2D,
            filters,
            kernel_size,
            padding="same",
            use_bias=self.use_bias,
            kernel_initializer=self.kernel_initializer,
            name=name,
            dtype=self.dtype_policy,
            weight_standardization=self.weight_standardization,
        )

    def preactivate(self, x, training=None) -> tuple:
        """(BN-ReLU of x, what the sum adds): x, or the projection of the normalized x."""
        preact = self.preact_bn(x, training=training)
        if self.preact_relu is not None:
            preact = self.preact_relu(preact)
        return preact, self.shortcut_of(x, training, preact=preact)


@keras.saving.register_keras_serializable(package="resblocks")
class PreActResBlock(PreActivationBlock):
    """Pre-activation basic block: BN-ReLU-conv3x3, BN-ReLU-[dropout]-conv3x3, + x.

    He et al. 2016, Figure 1(b) / 4(e), with the two 3x3 convolutions of
    `ResBlock`. Unlike `ResBlock`, each BN and ReLU comes before its
    convolution, no BN follows the last one and no ReLU the sum: the block
    outputs F(x) + x. `dropout` between the convolutions is the wide
    residual block of Zagoruyko & Komodakis 2016 (Figure 1(d), sec. 2.3).

    Args:
        filters: int. Output channels of both convolutions.
        strides: int. Stride of the first convolution; 2 halves the map.
        shortcut: str. "projection", "zero_pad", "identity" or "none"; see
            `ResBlock`.
        dropout: float. Dropout rate between the convolutions; 0 for none
            (0.3 in the wide ResNets on CIFAR).

    Keyword-only args, the shortcut's (`PreActivationBlock`'s):
        stride_shortcut: str. Where the block strides but keeps its width:
            "projection" (a strided 1x1 conv) or "subsample" (every
            stride-th pixel, no parameters: keras.applications' V2).

    Keyword-only args, the settings of the convolutions and batch norms
    (declared once, by `ConvBNLayer`):
        activation: str. The nonlinearity after each BN.
        use_bias: bool. Bias in the convolutions no BN follows: the last
            one and the projection. (A conv that a BN follows has none: the
            BN's beta makes it redundant.)
        bn_epsilon, bn_momentum: float. Epsilon and momentum of every batch norm.
        kernel_initializer: str. Initializer of the convolution kernels.

    Attributes:
        preact_bn, preact_relu: the BN and activation that open the block.
        downsample: the layer that brings x to the output shape, or None
            (identity, or no shortcut). Made in `build()` by `make_shortcut`.
            A projection is a plain 1x1 conv of the pre-activated input,
            with no BN after it (the next block's pre-activation normalizes
            the sum); a subsample or zero-pad shortcut takes x itself.
        shortcut_kind: str or None. "identity", "projection", "zero_pad"
            (also for "subsample": option A without new channels), or None.
        conv1: `ConvBN`, the first conv with the BN and ReLU that follow it
            (the second pre-activation).
        drop: the dropout, or None.
        conv2: the last convolution (a plain Conv2D).
        branch_layers: list of layers. The residual branch after the
            pre-activation, in order.

    Input shape: `(batch, height, width, channels)`.
    Output shape: `(batch, height / strides, width / strides, filters)`.
    """

    def __init__(
        self,
        filters: int,
        strides: int = 1,
        shortcut: str = "projection",
        dropout: float = 0.0,
        **kwargs,
    ):
        super().__init__(**given(locals()))  # keeps them, the settings; preact_bn, preact_relu
        self.conv1 = self.branch_conv_bn(filters, 3, strides, "conv1")
        self.drop = (
            keras.layers.Dropout(dropout, name="dropout", dtype=self.dtype_policy)
            if dropout
            else None
        )
        self.conv2 = self.last_conv(filters, 3, "conv2")

    def branch(self) -> list:
        return [self.conv1, self.drop, self.conv2]

    def call(self, x, training=None):
        preact, shortcut = self.preactivate(x, training)  # BN -> ReLU; x or its projection
        x = self.conv1(preact, training=training)
        if self.drop is not None:
            x = self.drop(x, training=training)
        x = self.conv2(x)
        return self.residual_sum(x, shortcut, training)  # nothing after the sum


@keras.saving.register_keras_serializable(package="resblocks")
class PreActBottleNeck(PreActivationBlock):
    """Pre-activation bottleneck: BN-ReLU-1x1, BN-ReLU-3x3, BN-ReLU-1x1, + x.

    He et al. 2016, Figure 4(e), with the 1x1-3x3-1x1 convolutions of
    `BottleNeck`; the block of keras.applications' ResNet50V2/101V2/152V2.
    Unlike `BottleNeck`, each BN and ReLU comes before its convolution, the
    last 1x1 has no BN after it, the sum no ReLU, and the stride is on the
    3x3 (where keras' V2 and the paper's code put it).

    Args:
        filters: int. Width of the bottleneck; the block outputs
            `filters * expansion` channels.
        strides: int. Stride of the 3x3 convolution; 2 halves the map.
        shortcut: str. "projection", "zero_pad", "identity" or "none"; see
            `ResBlock`.

    Keyword-only args, the shortcut's (`PreActivationBlock`'s) and the
    settings (`ConvBNLayer`'s):
        stride_shortcut: str. Where the block strides but keeps its width:
            "projection" or "subsample"; see `PreActResBlock`.
        activation: str. The nonlinearity after each BN.
        use_bias: bool. Bias in the convolutions no BN follows: the last
            1x1 and the projection (keras.applications' V2 has them).
        bn_epsilon, bn_momentum: float. Epsilon and momentum of the batch norms.
        kernel_initializer: str. Initializer of the convolution kernels.

    Attributes:
        preact_bn, preact_relu, downsample, shortcut_kind: see `PreActResBlock`.
        expansion: int. 4, a class attribute; see `BottleNeck`.
        conv1, conv2: `ConvBN`s, each conv with the BN and ReLU after it.
        conv3: the last 1x1 convolution (a plain Conv2D).
        branch_layers: list of layers. The residual branch after the
            pre-activation, in order.

    Input shape: `(batch, height, width, channels)`.
    Output shape: `(batch, height / strides, width / strides, filters * expansion)`.
    """

    expansion = 4

    def __init__(
        self,
        filters: int,
        strides: int = 1,
        shortcut: str = "projection",
        **kwargs,
    ):
        super().__init__(**given(locals()))  # keeps them, the settings; preact_bn, preact_relu
        self.conv1 = self.branch_conv_bn(filters, 1, 1, "conv1")
        self.conv2 = self.branch_conv_bn(filters, 3, strides, "conv2")
        self.conv3 = self.last_conv(self.out_channels, 1, "conv3")

    def branch(self) -> list:
        return [self.conv1, self.conv2, self.conv3]

    def call(self, x, training=None):
        preact, shortcut = self.preactivate(x, training)  # BN -> ReLU; x or its projection
        x = self.conv1(preact, training=training)  # 1x1: reduce
        x = self.conv2(x, training=training)  # 3x3, strided
        x = self.conv3(x)  # 1x1: expand by 4, no BN after it
        return self.residual_sum(x, shortcut, training)  # nothing after the sum


@keras.saving.register_keras_serializable(package="resblocks")
class PreActStem(ChainLayer):
    """A bare convolution, optionally followed by a 3x3/2 max-pool: the pre-activation stem.

    The first block's pre-activation normalizes the stem's output, so the
    stem has no BN or ReLU of its own: keras.applications' ResNet-V2 stem
    (7x7/2 conv with bias, 3x3/2 max-pool, 224 -> 56) and the 3x3 stem of the
    CIFAR pre-activation networks (kuangliu's PreActResNet, the wide ResNets).
    The pool zero-pads its input as keras.applications does; here the input
    is not a ReLU output, so a padded zero can win at the border: kept, so
    that keras' weights compute keras' outputs. timm's ResNetV2 (`resnetv2_50`:
    7x7/2 conv without bias, a max-pool that pads with -inf) is
    `use_bias=False, pool_padding="-inf"`.

    Args:
        filters: int. Output channels of the convolution.
        kernel_size: int. Size of the convolution window.
        strides: int. Stride of the convolution (padded symmetrically).
        max_pool: bool. Whether a 3x3/2 max-pool follows.
        use_bias: bool. Bias in the convolution (keras' V2 has one).
        kernel_initializer: str. Initializer of the convolution kernel.
        pool_padding: str. How the max-pool pads its input: "zeros"
            (keras.applications) or "-inf" (PyTorch's `MaxPool2d(padding=1)`,
            timm's ResNetV2: no padded value wins). `POOL_PADDINGS`.
        weight_standardization: float or None. A float standardizes the
            kernel with that epsilon before use (`StdConv2D`; BiT: 1e-8).

    Attributes:
        sublayers: list of layers. The layers in the order `call` applies them.
        conv: the convolution.

    Input shape: `(batch, height, width, channels)`.
    Output shape: `(batch, height / strides, width / strides, filters)`, halved
    again by the max-pool.
    """

    def __init__(
        self,
        filters: int = 64,
        kernel_size: int = 7,
        strides: int = 2,
        max_pool: bool = True,
        use_bias: bool = True,
        kernel_initializer: str = "glorot_uniform",
        pool_padding: str = "zeros",
        weight_standardization: float | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        keep_arguments(self, locals())

        # Strided: padded symmetrically, kernel_size // 2 on every side, as
        # keras' conv1_pad (and `ConvBN`) do, not keras' bottom/right "same".
        symmetric = strides > 1 and kernel_size > 1
        self.pad = (
            keras.layers.ZeroPadding2D(kernel_size // 2, name="pad", dtype=self.dtype_policy)
            if symmetric
            else None
        )
        self.conv = make_conv(
            keras.layers.Conv2D,
            filters,
            kernel_size,
            strides=strides,
            padding="valid" if symmetric else "same",
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            name="conv",
            dtype=self.dtype_policy,
            weight_standardization=weight_standardization,
        )
        self.pool_pad, self.pool = stem_max_pool(self.max_pool, pool_padding, self.dtype_policy)

    @property
    def sublayers(self) -> list:
        return [layer for layer in (self.pad, self.conv, self.pool_pad, self.pool) if layer]


@keras.saving.register_keras_serializable(package="resblocks")
class PostNorm(ChainLayer):
    """BN -> ReLU after the last block: the pre-activation of the head.

    A pre-activation block ends with a sum, not a BN, so without this the
    head would pool an unnormalized sum of every block's output. He et al.
    2016 (appendix) add it after the last block; keras.applications' V2
    calls it `post_bn` and `post_relu`. A layer of its own, not a head
    argument, so `features=[...]` can tap the normalized map, as keras'
    `include_top=False` model returns it.

    Args:
        activation: str. The nonlinearity after BN.
        bn_epsilon: float. Batch norm epsilon.
        bn_momentum: float. Batch norm momentum.
        normalization: str. "batch_norm" or "group_norm" (BiT's final
            `GroupNormAct`), or "frn" or "evonorm_s0", norms that are their
            own activation. `NORMALIZATIONS`.
        norm_groups: int. The groups of channels of "group_norm" and "evonorm_s0".

    Attributes:
        bn, act: the norm (a batch norm by default) and the activation
            (None where the norm is its own: "frn", "evonorm_s0").

    Input shape: `(batch, height, width, channels)`.
    Output shape: the same.
    """

    def __init__(
        self,
        activation: str = "relu",
        bn_epsilon: float = 1e-5,
        bn_momentum: float = 0.9,
        normalization: str = "batch_norm",
        norm_groups: int = 32,
        **kwargs,
    ):
        super().__init__(**kwargs)
        keep_arguments(self, locals())
        self.bn, self.act = make_norm_act(
            normalization,
            activation,
            epsilon=bn_epsilon,
            momentum=bn_momentum,
            norm_groups=norm_groups,
            name="bn",
            dtype=self.dtype_policy,
        )

    @property
    def sublayers(self) -> list[keras.layers.Layer]:
        return [layer for layer in (self.bn, self.act) if layer is not None]
