"""Batch norm folded into the convolutions: the same outputs, fewer layers, original untouched."""

import keras
import numpy as np
import pytest

from registry import build
from registry.deploy.fold import fold_batchnorm
from registry.keras_compat import leaf_layers
from resblocks import ConvBN


def _with_batch_statistics(model: keras.Model) -> keras.Model:
    """Moving means and variances away from 0 and 1, as training leaves them."""
    rng = np.random.default_rng(0)
    for layer in leaf_layers(model):
        if isinstance(layer, keras.layers.BatchNormalization):
            n = layer.moving_mean.shape[0]
            layer.moving_mean.assign(rng.normal(0, 0.2, n).astype("float32"))
            layer.moving_variance.assign(rng.uniform(0.3, 3, n).astype("float32"))
            if layer.scale:
                layer.gamma.assign(rng.uniform(0.5, 1.5, n).astype("float32"))
            layer.beta.assign(rng.normal(0, 0.2, n).astype("float32"))
    return model


@pytest.mark.parametrize("recipe, kept", [("resnet18_cifar", 0), ("preact_resnet18_cifar", None)])
def test_folded_network_gives_the_same_outputs(recipe, kept):
    model = _with_batch_statistics(build(recipe, num_classes=10, include_preprocessing=True))
    before = [np.array(w) for w in model.get_weights()]
    convbns = sum(isinstance(layer, ConvBN) for layer in leaf_layers(model))
    folded = fold_batchnorm(model)

    images = np.random.default_rng(1).uniform(0, 255, (4, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(
        folded.model(images, training=False), model(images, training=False), atol=1e-4
    )
    assert folded.folded == convbns > 0
    left = sum(
        isinstance(layer, keras.layers.BatchNormalization) for layer in leaf_layers(folded.model)
    )
    assert folded.kept == left
    if kept is not None:
        assert left == kept
    else:  # pre-activation: BN before the convolution stays
        assert left > 0
    assert len(folded.model.weights) < len(model.weights)
    for old, now in zip(before, model.get_weights()):
        np.testing.assert_array_equal(old, now)


def test_a_grouped_convolution_folds_into_a_grouped_convolution():
    """ResNeXt's grouped ConvBN (a `GroupedConv2D`): the kernel's last axis is still the output."""
    inputs = keras.Input((8, 8, 16))
    outputs = ConvBN(32, 3, groups=4, name="grouped")(inputs)
    model = _with_batch_statistics(keras.Model(inputs, outputs))
    folded = fold_batchnorm(model)
    conv = folded.model.get_layer("grouped").conv
    assert type(conv) is type(model.get_layer("grouped").conv) and conv.groups == 4
    assert conv.use_bias and folded.folded == 1 and folded.kept == 0
    x = np.random.default_rng(3).normal(0, 1, (2, 8, 8, 16)).astype("float32")
    np.testing.assert_allclose(folded.model(x), model(x, training=False), atol=1e-4)
