"""Stems: the layers between the image and the first residual stage.

ResNetStem is conv1 and the max-pool of He et al. 2015, Table 1 (224 -> 56);
DeepStem replaces its 7x7 convolution by three 3x3 ones (ResNet-C of He et
al. 2019, "Bag of Tricks", Fig. 2b; timm's `stem_type="deep"`); CifarStem
is the 3x3 stem of the CIFAR networks (sec. 4.2), which keeps 32x32 inputs
at full size; InceptionResNetStem is the stem of
keras.applications' Inception-ResNet-V2 (299 -> 35) and, with a strided
convolution for its last pool, that of Inception-ResNet-V1 (Szegedy et al.
2016, Figure 14).
"""

from collections.abc import Sequence

import keras

from resblocks.arguments import given
from resblocks.chain import ChainLayer
from resblocks.checks import check_one_of
from resblocks.conv_bn import ConvBNLayer, check_widths, inception_conv

# How the stem's 3x3/2 max-pool pads: "symmetric", 1 pixel on every side
# (torchvision, keras.applications); "ceil", none before and 1 after, which
# is Caffe's `ceil_mode` without padding (the original SENets, timm's legacy_se*).
POOL_PADDINGS = ("symmetric", "ceil")


def stem_max_pool(enabled: bool, padding: str = "symmetric") -> tuple:
    """ResNet's 3x3/2 max-pool after the stem conv: (pad, pool) or (None, None).

    Zero padding, as keras.applications does. After a ReLU it is as good as
    -inf padding, since no padded zero can beat a real value; before one (the
    pre-activation stem) a zero can win at the border, kept so that keras'
    weights compute keras' outputs. "ceil" pads the bottom and right only:
    a "valid" pool then has PyTorch's `ceil_mode=True` windows, starting at
    0, 2, 4, ... with the last one cut by the border, at any size (odd or
    even), where Keras' own "same" shifts the windows of an odd map.
    """
    check_one_of("pool_padding", padding, POOL_PADDINGS)
    if not enabled:
        return None, None
    pad = 1 if padding == "symmetric" else ((0, 1), (0, 1))
    return (
        keras.layers.ZeroPadding2D(pad, name="pool_pad"),
        keras.layers.MaxPooling2D(3, strides=2, name="pool"),
    )


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
        pool_padding: str. "symmetric" (1 pixel on every side) or "ceil"
            (none before, 1 after: PyTorch's `ceil_mode`, the original
            SENets'); `POOL_PADDINGS`.

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
        pool_padding: str = "symmetric",
        **kwargs,
    ):
        super().__init__(**given(locals()))  # keeps them, and the keyword-only settings
        self.conv = self.conv_bn(filters, kernel_size, strides, name="conv1")
        self.pool_pad, self.pool = stem_max_pool(max_pool, pool_padding)

    @property
    def sublayers(self) -> list[keras.layers.Layer]:
        return [self.conv, self.pool_pad, self.pool]


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
        pool_padding: str = "symmetric",
        **kwargs,
    ):
        super().__init__(**given(locals()))


@keras.saving.register_keras_serializable(package="resblocks")
class DeepStem(ChainLayer, ConvBNLayer):
    """Three 3x3 conv-BN-ReLUs (the first strided) and a 3x3/2 max-pool: 224 -> 56.

    He et al. 2019, Fig. 2(b): a 7x7 convolution costs 5.4 times a 3x3, and
    three 3x3s see as far (7x7) with more nonlinearity. Widths
    `stem_width, stem_width, filters`: 32, 32, 64 in the paper and in timm's
    resnet50d.

    Args:
        filters: int. Output channels (of the third convolution).
        stem_width: int. Channels of the first two convolutions.
        max_pool: bool. Whether a 3x3/2 max-pool follows.
        pool_padding: str. "symmetric" or "ceil", as in `ResNetStem`.

    Keyword-only args, the settings of the three `ConvBN`s (`ConvBNLayer`'s):
        activation: str. The nonlinearity after each BN.
        use_bias: bool. Bias in the convolutions.
        bn_epsilon, bn_momentum: float. Epsilon and momentum of the batch norms.
        kernel_initializer: str. Initializer of the convolution kernels.

    Attributes:
        convs: the three `ConvBN` layers.

    Input shape: `(batch, height, width, channels)`.
    Output shape: `(batch, height / 4, width / 4, filters)` with the defaults.
    """

    def __init__(
        self,
        filters: int = 64,
        stem_width: int = 32,
        max_pool: bool = True,
        pool_padding: str = "symmetric",
        **kwargs,
    ):
        super().__init__(**given(locals()))  # keeps them, and the keyword-only settings
        self.convs = [
            self.conv_bn(stem_width, 3, 2, name="conv1"),
            self.conv_bn(stem_width, 3, name="conv2"),
            self.conv_bn(filters, 3, name="conv3"),
        ]
        self.pool_pad, self.pool = stem_max_pool(max_pool, pool_padding)

    @property
    def sublayers(self) -> list[keras.layers.Layer]:
        """The layers in the order `call` applies them."""
        return [*self.convs, self.pool_pad, self.pool]


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
        w, b = self.widths, {"bn_scale": bn_scale}
        self.convs_1 = [
            inception_conv(w[0], 3, strides=2, padding="valid", name="conv1", **b),
            inception_conv(w[1], 3, padding="valid", name="conv2", **b),
            inception_conv(w[2], 3, name="conv3", **b),
        ]
        self.pool_1 = keras.layers.MaxPooling2D(3, strides=2, name="pool1")
        self.convs_2 = [
            inception_conv(w[3], 1, padding="valid", name="conv4", **b),
            inception_conv(w[4], 3, padding="valid", name="conv5", **b),
        ]
        if final_conv is None:
            self.pool_2 = keras.layers.MaxPooling2D(3, strides=2, name="pool2")
        else:  # V1 convolves where V2 pools
            self.conv_6 = inception_conv(
                final_conv, 3, strides=2, padding="valid", name="conv6", **b
            )

    @property
    def sublayers(self) -> list[keras.layers.Layer]:
        """The layers in the order `call` applies them."""
        last = self.pool_2 if self.final_conv is None else self.conv_6
        return [*self.convs_1, self.pool_1, *self.convs_2, last]
