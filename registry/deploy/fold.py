"""Batch norm folded into the convolution before it, for inference.

At inference a batch norm is a fixed per-channel affine map,
`gamma * (x - mean) / sqrt(var + eps) + beta`, so after a convolution it can
be merged into the convolution's kernel and bias (Jacob et al. 2018, sec.
3.2): one op instead of two, the same outputs up to rounding. Only
conv -> BN pairs fold (every `ConvBN`); a pre-activation block's BN comes
before its convolution, with a ReLU between, and stays.
"""

from __future__ import annotations

from typing import NamedTuple

import keras
import numpy as np

from registry.keras_compat import leaf_layers, replace_sublayer
from resblocks import ConvBN


class Folded(NamedTuple):
    """A folded copy of a network.

    Attributes:
        model: keras.Model. The copy, whose `ConvBN` layers hold a biased
            convolution and no batch norm; the original is untouched.
        folded: int. How many batch norms went into a convolution.
        kept: int. Batch norms left as they are (not after a convolution).
    """

    model: keras.Model
    folded: int
    kept: int


def fold_batchnorm(model: keras.Model) -> Folded:
    """A copy of `model` with every conv -> BN pair merged into one biased convolution.

    For inference only: the copy has no batch statistics left to train.

    Args:
        model: a built network (a resblocks `Network` or any functional
            model whose layers rebuild from their configs).

    Returns:
        A `Folded` with the copy and the counts.
    """
    copy = type(model).from_config(model.get_config())
    copy.set_weights(model.get_weights())
    folded = 0
    for layer in leaf_layers(copy):
        if isinstance(layer, ConvBN) and isinstance(layer.bn, keras.layers.BatchNormalization):
            _fold_into_conv(layer)
            folded += 1
    kept = sum(isinstance(layer, keras.layers.BatchNormalization) for layer in leaf_layers(copy))
    return Folded(copy, folded, kept)


def _fold_into_conv(layer: ConvBN) -> None:
    """Replaces `layer.conv` by a biased convolution carrying the BN, and `layer.bn` by Identity."""
    conv, bn = layer.conv, layer.bn
    kernel = np.asarray(conv.kernel, dtype="float64")
    bias = np.asarray(conv.bias, dtype="float64") if conv.use_bias else 0.0
    variance = np.asarray(bn.moving_variance, dtype="float64")
    mean = np.asarray(bn.moving_mean, dtype="float64")
    gamma = np.asarray(bn.gamma, dtype="float64") if bn.scale else 1.0
    beta = np.asarray(bn.beta, dtype="float64") if bn.center else 0.0
    scale = gamma / np.sqrt(variance + bn.epsilon)  # one factor per output channel
    # The same class (a grouped convolution stays one), now with a bias.
    merged = type(conv).from_config(
        {**conv.get_config(), "use_bias": True, "bias_initializer": "zeros"}
    )
    merged.build((None, None, None, kernel.shape[2] * conv.groups))
    merged.set_weights(
        [(kernel * scale).astype("float32"), ((bias - mean) * scale + beta).astype("float32")]
    )
    replace_sublayer(layer, "conv", merged)
    replace_sublayer(layer, "bn", keras.layers.Identity(name="bn"))
