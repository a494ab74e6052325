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

from resblocks.chain import build_chain, chain_output_shape
from resblocks.checks import check_one_of
from resblocks.conv_bn import ConvBN
from resblocks.shortcut import ZeroPadShortcut, check_shortcut, shortcut_kind

# What the shortcut of a block that strides but keeps its width does:
# "projection", a strided 1x1 conv (the paper's Torch code projects wherever
# the shape changes), or "subsample", keep every stride-th pixel and add no
# parameters (keras.applications' ResNet-V2, after TF-slim: a 1x1 max-pool).
STRIDE_SHORTCUTS = ("projection", "subsample")


class PreActBlock(keras.layers.Layer):
    """What the two pre-activation blocks share: the pre-activation and the shortcut.

    `call` reads as the paper draws it: pre-activate, take the shortcut, run
    the branch, add. Subclasses make the branch in __init__, list it in
    `branch_layers` and run it in `_branch`.

    Attributes:
        preact_bn, preact_relu: the BN and activation that open the block.
        downsample: the layer that brings x to the output shape, or None
            (identity, or no shortcut). Made in `build()`. A projection is
            a plain 1x1 conv of the pre-activated input, with no BN after
            it (the next block's pre-activation normalizes the sum); a
            subsample or zero-pad shortcut takes x itself.
        shortcut_kind: str or None. "identity", "projection", "zero_pad"
            (also for "subsample": option A without new channels), or None.
    """

    def __init__(
        self,
        filters,
        strides,
        out_channels,
        shortcut,
        stride_shortcut,
        activation,
        use_bias,
        bn_epsilon,
        bn_momentum,
        kernel_initializer,
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_shortcut(shortcut)
        check_one_of("stride_shortcut", stride_shortcut, STRIDE_SHORTCUTS)
        self.filters = filters
        self.strides = strides
        self.shortcut = shortcut
        self.stride_shortcut = stride_shortcut
        self.activation = activation
        self.use_bias = use_bias
        self.bn_epsilon = bn_epsilon
        self.bn_momentum = bn_momentum
        self.kernel_initializer = kernel_initializer
        self._out_channels = out_channels

        self.preact_bn = keras.layers.BatchNormalization(
            epsilon=bn_epsilon, momentum=bn_momentum, name="preact_bn"
        )
        self.preact_relu = keras.layers.Activation(activation, name="preact_relu")
        self.downsample = None

    def _conv_bn(self, filters, kernel_size, strides, name):
        """conv -> BN -> activation inside the branch: no bias, a BN follows."""
        return ConvBN(
            filters,
            kernel_size,
            strides,
            activation=self.activation,
            use_bias=False,
            bn_epsilon=self.bn_epsilon,
            bn_momentum=self.bn_momentum,
            kernel_initializer=self.kernel_initializer,
            name=name,
        )

    def _make_downsample(self, in_channels):
        out, strides = self._out_channels, self.strides
        if self.shortcut == "none" or (strides == 1 and in_channels == out):
            return None
        if self.shortcut == "identity":
            raise ValueError(
                f"An identity shortcut needs the block to keep its input shape, but this block "
                f"maps {in_channels} channels to {out} with strides={strides}. Use "
                "shortcut='projection' (1x1 conv) or shortcut='zero_pad' (paper's option A)."
            )
        widens = in_channels != out
        if self.shortcut == "zero_pad" or (not widens and self.stride_shortcut == "subsample"):
            return ZeroPadShortcut(out, strides, name="downsample")
        return keras.layers.Conv2D(
            out,
            1,
            strides=strides,
            use_bias=self.use_bias,
            kernel_initializer=self.kernel_initializer,
            name="downsample",
        )

    def build(self, input_shape):
        # Made here: whether x needs projecting depends on its channels, known only now.
        self.downsample = self._make_downsample(input_shape[-1])
        build_chain([self.preact_bn, self.preact_relu, *self.branch_layers], input_shape)
        build_chain([self.downsample], input_shape)

    def call(self, x, training=None):
        preact = self.preact_relu(self.preact_bn(x, training=training))
        if self.downsample is None:
            identity = x  # the clean path: x itself, not its normalized copy
        elif isinstance(self.downsample, ZeroPadShortcut):
            identity = self.downsample(x)
        else:  # a projection sees the normalized input, as the first conv does
            identity = self.downsample(preact)
        x = self._branch(preact, training)
        if self.shortcut == "none":
            return x
        return x + identity  # nothing after the sum

    @property
    def shortcut_kind(self) -> str | None:
        return shortcut_kind(self.shortcut, self.downsample)

    def compute_output_shape(self, input_shape):
        return chain_output_shape(self.branch_layers, input_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "strides": self.strides,
            "shortcut": self.shortcut,
            "stride_shortcut": self.stride_shortcut,
            "activation": self.activation,
            "use_bias": self.use_bias,
            "bn_epsilon": self.bn_epsilon,
            "bn_momentum": self.bn_momentum,
            "kernel_initializer": self.kernel_initializer,
        }


@keras.saving.register_keras_serializable(package="resblocks")
class PreActResBlock(PreActBlock):
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
        stride_shortcut: str. Where the block strides but keeps its width:
            "projection" (a strided 1x1 conv) or "subsample" (every
            stride-th pixel, no parameters: keras.applications' V2).
        dropout: float. Dropout rate between the convolutions; 0 for none
            (0.3 in the wide ResNets on CIFAR).
        activation: str. The nonlinearity after each BN.
        use_bias: bool. Bias in the convolutions no BN follows: the last
            one and the projection. (A conv that a BN follows has none: the
            BN's beta makes it redundant.)
        bn_epsilon: float. Batch norm epsilon.
        bn_momentum: float. Batch norm momentum.
        kernel_initializer: str. Initializer of the convolution kernels.

    Attributes:
        preact_bn, preact_relu, downsample, shortcut_kind: see the two
            blocks' shared base `PreActBlock`.
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
        stride_shortcut: str = "projection",
        dropout: float = 0.0,
        activation: str = "relu",
        use_bias: bool = False,
        bn_epsilon: float = 1e-5,
        bn_momentum: float = 0.9,
        kernel_initializer: str = "he_normal",
        **kwargs,
    ):
        super().__init__(
            filters,
            strides,
            filters,
            shortcut,
            stride_shortcut,
            activation,
            use_bias,
            bn_epsilon,
            bn_momentum,
            kernel_initializer,
            **kwargs,
        )
        self.dropout = dropout
        self.conv1 = self._conv_bn(filters, 3, strides, "conv1")
        self.drop = keras.layers.Dropout(dropout, name="dropout") if dropout else None
        self.conv2 = keras.layers.Conv2D(
            filters,
            3,
            padding="same",
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            name="conv2",
        )

    @property
    def branch_layers(self) -> list:
        return [self.conv1, self.drop, self.conv2]

    def _branch(self, x, training):
        x = self.conv1(x, training=training)
        if self.drop is not None:
            x = self.drop(x, training=training)
        return self.conv2(x)

    def get_config(self):
        return {**super().get_config(), "dropout": self.dropout}


@keras.saving.register_keras_serializable(package="resblocks")
class PreActBottleNeck(PreActBlock):
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
        expansion: int. Output channels per bottleneck channel; 4 in the paper.
        shortcut: str. "projection", "zero_pad", "identity" or "none"; see
            `ResBlock`.
        stride_shortcut: str. Where the block strides but keeps its width:
            "projection" or "subsample"; see `PreActResBlock`.
        activation: str. The nonlinearity after each BN.
        use_bias: bool. Bias in the convolutions no BN follows: the last
            1x1 and the projection (keras.applications' V2 has them).
        bn_epsilon: float. Batch norm epsilon.
        bn_momentum: float. Batch norm momentum.
        kernel_initializer: str. Initializer of the convolution kernels.

    Attributes:
        preact_bn, preact_relu, downsample, shortcut_kind: see `PreActBlock`.
        conv1, conv2: `ConvBN`s, each conv with the BN and ReLU after it.
        conv3: the last 1x1 convolution (a plain Conv2D).
        branch_layers: list of layers. The residual branch after the
            pre-activation, in order.

    Input shape: `(batch, height, width, channels)`.
    Output shape: `(batch, height / strides, width / strides, filters * expansion)`.
    """

    def __init__(
        self,
        filters: int,
        strides: int = 1,
        expansion: int = 4,
        shortcut: str = "projection",
        stride_shortcut: str = "projection",
        activation: str = "relu",
        use_bias: bool = False,
        bn_epsilon: float = 1e-5,
        bn_momentum: float = 0.9,
        kernel_initializer: str = "he_normal",
        **kwargs,
    ):
        super().__init__(
            filters,
            strides,
            filters * expansion,
            shortcut,
            stride_shortcut,
            activation,
            use_bias,
            bn_epsilon,
            bn_momentum,
            kernel_initializer,
            **kwargs,
        )
        self.expansion = expansion
        self.conv1 = self._conv_bn(filters, 1, 1, "conv1")
        self.conv2 = self._conv_bn(filters, 3, strides, "conv2")
        self.conv3 = keras.layers.Conv2D(
            filters * expansion,
            1,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            name="conv3",
        )

    @property
    def branch_layers(self) -> list:
        return [self.conv1, self.conv2, self.conv3]

    def _branch(self, x, training):
        x = self.conv1(x, training=training)
        x = self.conv2(x, training=training)
        return self.conv3(x)

    def get_config(self):
        return {**super().get_config(), "expansion": self.expansion}


@keras.saving.register_keras_serializable(package="resblocks")
class PreActStem(keras.layers.Layer):
    """A bare convolution, optionally followed by a 3x3/2 max-pool: the pre-activation stem.

    The first block's pre-activation normalizes the stem's output, so the
    stem has no BN or ReLU of its own: keras.applications' ResNet-V2 stem
    (7x7/2 conv with bias, 3x3/2 max-pool, 224 -> 56) and the 3x3 stem of the
    CIFAR pre-activation networks (kuangliu's PreActResNet, the wide ResNets).
    The pool zero-pads its input as keras.applications does; here the input
    is not a ReLU output, so a padded zero can win at the border: kept, so
    that keras' weights compute keras' outputs.

    Args:
        filters: int. Output channels of the convolution.
        kernel_size: int. Size of the convolution window.
        strides: int. Stride of the convolution (padded symmetrically).
        max_pool: bool. Whether a 3x3/2 max-pool follows.
        use_bias: bool. Bias in the convolution (keras' V2 has one).
        kernel_initializer: str. Initializer of the convolution kernel.

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
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.filters = filters
        self.kernel_size = kernel_size
        self.strides = strides
        self.max_pool = max_pool
        self.use_bias = use_bias
        self.kernel_initializer = kernel_initializer

        # Strided: padded symmetrically, kernel_size // 2 on every side, as
        # keras' conv1_pad (and `ConvBN`) do, not keras' bottom/right "same".
        symmetric = strides > 1 and kernel_size > 1
        self.pad = keras.layers.ZeroPadding2D(kernel_size // 2, name="pad") if symmetric else None
        self.conv = keras.layers.Conv2D(
            filters,
            kernel_size,
            strides=strides,
            padding="valid" if symmetric else "same",
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            name="conv",
        )
        self.pool_pad = keras.layers.ZeroPadding2D(1, name="pool_pad") if max_pool else None
        self.pool = keras.layers.MaxPooling2D(3, strides=2, name="pool") if max_pool else None

    @property
    def sublayers(self) -> list:
        return [layer for layer in (self.pad, self.conv, self.pool_pad, self.pool) if layer]

    def build(self, input_shape):
        build_chain(self.sublayers, input_shape)

    def call(self, x):
        for layer in self.sublayers:
            x = layer(x)
        return x

    def compute_output_shape(self, input_shape):
        return chain_output_shape(self.sublayers, input_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "max_pool": self.max_pool,
            "use_bias": self.use_bias,
            "kernel_initializer": self.kernel_initializer,
        }


@keras.saving.register_keras_serializable(package="resblocks")
class PostNorm(keras.layers.Layer):
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

    Attributes:
        bn, act: the batch norm and the activation.

    Input shape: `(batch, height, width, channels)`.
    Output shape: the same.
    """

    def __init__(
        self,
        activation: str = "relu",
        bn_epsilon: float = 1e-5,
        bn_momentum: float = 0.9,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.activation = activation
        self.bn_epsilon = bn_epsilon
        self.bn_momentum = bn_momentum
        self.bn = keras.layers.BatchNormalization(
            epsilon=bn_epsilon, momentum=bn_momentum, name="bn"
        )
        self.act = keras.layers.Activation(activation, name=activation)

    def build(self, input_shape):
        build_chain([self.bn, self.act], input_shape)

    def call(self, x, training=None):
        return self.act(self.bn(x, training=training))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "activation": self.activation,
            "bn_epsilon": self.bn_epsilon,
            "bn_momentum": self.bn_momentum,
        }
