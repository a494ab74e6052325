"""GlobalContext: the global context (GC) block of Cao et al. 2019, "GCNet".

GCNet: Non-local Networks Meet Squeeze-Excitation Networks and Beyond
(ICCV Workshops 2019), Fig. 4(d). The authors found that a non-local
block's attention map is almost the same for every query position, so they
compute it once: (a) context modeling, a 1x1 convolution W_k to one logit
per position and a softmax over all H * W positions, whose weights pool x
to one context vector of C channels (SE pools with a plain mean); (b) a
transform, a bottleneck of two 1x1 convolutions, C * ratio channels wide
(W_v1, W_v2), with a LayerNorm over the channels and a ReLU between them,
the LayerNorm easing the optimization of the two-layer bottleneck (sec.
4.2); (c) fusion by broadcast addition to every position (SE multiplies).

timm's `GlobalContext` with `fuse_add=True, fuse_scale=False` (its
`attn_layer="gca"`, the gate of `gcresnet50t`) is this block: `conv_attn`,
then `mlp_add` (`fc1`, `norm`, a ReLU, `fc2`); the last 1x1 starts at zero,
as in the paper's code, so a new block starts as the identity.
"""

import keras

from resblocks.arguments import argument_config
from resblocks.checks import ArgumentError

# The transform's width over the channels: 1/8, timm's `rd_ratio` ("gca").
# The paper's ImageNet ablations use 1/16 (r = 16) and 1/4.
DEFAULT_GC_RATIO = 1 / 8


def gc_channels(channels: int, ratio: float) -> int:
    """The transform's bottleneck width: channels * ratio, to the nearest int, at least 1.

    timm's `make_divisible(channels * rd_ratio, 1, round_limit=0.)`.
    """
    return max(1, int(channels * ratio + 0.5))


@keras.saving.register_keras_serializable(package="resblocks")
class GlobalContext(keras.layers.Layer):
    """x + W_v2 relu(LN(W_v1 sum_j softmax(W_k x)_j x_j)): global context added everywhere.

    Args:
        ratio: float in (0, 1]. The transform's bottleneck width over the
            channels (the paper's 1/r; 1/8 in timm's "gca").
        epsilon: float. The LayerNorm's epsilon (1e-6, timm's `LayerNorm2d`).

    Attributes:
        context: the 1x1 convolution W_k to one logit per position, with
            bias (timm's `conv_attn`).
        reduce, norm, expand: the transform W_v1, its LayerNorm over the
            channels and W_v2 (timm's `mlp_add.fc1`, `.norm`, `.fc2`); 1x1
            convolutions with bias. All made in `build()`, when the number
            of channels is known.

    Input shape: `(batch, height, width, channels)`.
    Output shape: the same.
    """

    def __init__(self, ratio: float = DEFAULT_GC_RATIO, epsilon: float = 1e-6, **kwargs):
        super().__init__(**kwargs)
        if not 0 < ratio <= 1:
            raise ArgumentError(
                "ratio",
                "it is the transform's width over the channels, in (0, 1]: 0.125 in timm's "
                f"gcresnet50t, 0.0625 for the paper's r = 16. Received: ratio={ratio!r}",
            )
        self.ratio = ratio
        self.epsilon = epsilon
        self.context = self.reduce = self.norm = self.expand = None

    def build(self, input_shape):
        channels = input_shape[-1]
        width = gc_channels(channels, self.ratio)
        # timm: kaiming_normal_(mode="fan_in", nonlinearity="relu"), and fc2 at zero.
        dtype = self.dtype_policy
        self.context = keras.layers.Conv2D(
            1, 1, kernel_initializer="he_normal", name="context", dtype=dtype
        )
        self.reduce = keras.layers.Conv2D(width, 1, name="reduce", dtype=dtype)
        self.norm = keras.layers.LayerNormalization(epsilon=self.epsilon, name="norm", dtype=dtype)
        self.expand = keras.layers.Conv2D(
            channels, 1, kernel_initializer="zeros", name="expand", dtype=dtype
        )
        self.context.build(input_shape)
        pooled = (input_shape[0], 1, 1, channels)
        self.reduce.build(pooled)
        self.norm.build((input_shape[0], 1, 1, width))
        self.expand.build((input_shape[0], 1, 1, width))

    def call(self, x):
        logits = self.context(x)  # (batch, h, w, 1): one per position
        shape = keras.ops.shape(logits)
        flat = keras.ops.reshape(logits, (shape[0], -1, 1))
        weights = keras.ops.reshape(keras.ops.softmax(flat, axis=1), shape)
        context = keras.ops.sum(x * weights, axis=(1, 2), keepdims=True)  # (batch, 1, 1, C)
        y = keras.ops.relu(self.norm(self.reduce(context)))
        return x + self.expand(y)  # fusion: the same vector added at every position

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), **argument_config(self)}
