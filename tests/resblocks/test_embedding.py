"""The embedding head: FaceNet's pool -> dense (no bias) -> batch norm -> L2 norm."""

import keras
import numpy as np
import pytest
from helpers import tiny_recipe

from registry import build
from resblocks import Embedding

TINY = tiny_recipe(input_shape=[32, 32, 3], head={"block": "embedding", "units": 8})


def features(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(3, 4, 4, 16)).astype("float32")


def test_it_computes_facenet_pytorchs_head_by_hand():
    """avg pool, x @ W, (x - mean) / sqrt(var + 0.001) * gamma + beta, x / |x|."""
    head = Embedding(units=8)
    x = features()
    head.build(x.shape)
    rng = np.random.default_rng(1)
    kernel = rng.normal(size=(16, 8)).astype("float32")
    gamma, beta, mean = (rng.normal(size=8).astype("float32") for _ in range(3))
    var = rng.uniform(0.5, 1.5, 8).astype("float32")
    head.bottleneck.kernel.assign(kernel)
    for variable, value in zip(
        (head.bn.gamma, head.bn.beta, head.bn.moving_mean, head.bn.moving_variance),
        (gamma, beta, mean, var),
    ):
        variable.assign(value)
    y = x.mean(axis=(1, 2)) @ kernel
    y = (y - mean) / np.sqrt(var + 1e-3) * gamma + beta
    expected = y / np.linalg.norm(y, axis=1, keepdims=True)
    got = keras.ops.convert_to_numpy(head(x, training=False))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, rtol=1e-6)


def test_its_parameters_are_facenets():
    """1792 -> 512 without bias, then BN gamma and beta: facenet-pytorch's last_linear, last_bn."""
    head = Embedding()
    head.build((None, 3, 3, 1792))
    trainable = sum(int(np.prod(w.shape)) for w in head.trainable_weights)
    assert trainable == 1792 * 512 + 2 * 512
    assert head.compute_output_shape((None, 3, 3, 1792)) == (None, 512)


def test_without_dense_batch_norm_or_normalisation_it_is_the_pooled_features():
    head = Embedding(units=None, batch_norm=False, normalize=False, pooling="max")
    x = features()
    np.testing.assert_allclose(keras.ops.convert_to_numpy(head(x)), x.max(axis=(1, 2)), atol=1e-6)
    assert head.compute_output_shape(x.shape) == (3, 16)


def test_a_zero_vector_stays_zero():
    head = Embedding(units=None, batch_norm=False)
    out = keras.ops.convert_to_numpy(head(np.zeros((1, 2, 2, 4), "float32")))
    np.testing.assert_array_equal(out, np.zeros((1, 4)))


def test_an_unknown_pooling_is_refused_with_its_name():
    with pytest.raises(ValueError, match="pooling"):
        Embedding(pooling="sum")


def test_a_recipe_with_an_embedding_head_saves_and_loads(tmp_path):
    model = build(TINY)
    assert model.output_shape == (None, 8)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    x = np.random.default_rng(2).uniform(0, 1, (2, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(loaded(x, training=False)),
        keras.ops.convert_to_numpy(model(x, training=False)),
        atol=1e-6,
    )
