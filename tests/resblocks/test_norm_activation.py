"""FRN with TLU and EvoNorm-S0, norms that are their own activation, and the setting for them.

Each layer is checked against its paper's formula written in numpy
(Singh & Krishnan 2020, eq. 1-3; Liu et al. 2020, EvoNorm-S0), and the
`normalization` setting against where the activation goes: no activation
layer after "frn" or "evonorm_s0", the linear variant where none is asked.
"""

import keras
import numpy as np
import pytest

import resblocks
from resblocks import ConvBN, EvoNormS0, FilterResponseNormalization
from resblocks.normalization import make_norm_act


def numpy(x) -> np.ndarray:
    return keras.ops.convert_to_numpy(x)


def sample(shape=(2, 5, 6, 8), seed=0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def randomize(layer: keras.layers.Layer, seed=1) -> dict[str, np.ndarray]:
    """Random values in every weight (so that gamma, beta, tau, v1 all count), by name."""
    rng = np.random.default_rng(seed)
    values = {}
    for weight in layer.weights:
        value = rng.normal(size=weight.shape).astype("float32")
        weight.assign(value)
        values[weight.name] = value
    return values


def test_frn_with_tlu_follows_the_paper():
    layer = FilterResponseNormalization(epsilon=1e-5)
    x = sample()
    layer.build(x.shape)
    w = randomize(layer)
    nu2 = (x**2).mean(axis=(1, 2), keepdims=True)
    y = w["gamma"] * x / np.sqrt(nu2 + 1e-5) + w["beta"]
    np.testing.assert_allclose(numpy(layer(x)), np.maximum(y, w["tau"]), atol=1e-5)


def test_frn_without_tlu_is_linear_and_has_no_tau():
    layer = FilterResponseNormalization(tlu=False)
    x = sample()
    layer.build(x.shape)
    w = randomize(layer)
    assert sorted(w) == ["beta", "gamma"]
    nu2 = (x**2).mean(axis=(1, 2), keepdims=True)
    expected = w["gamma"] * x / np.sqrt(nu2 + 1e-5) + w["beta"]
    np.testing.assert_allclose(numpy(layer(x)), expected, atol=1e-5)


def test_evonorm_s0_follows_the_paper():
    layer = EvoNormS0(groups=4, epsilon=1e-5)
    x = sample()
    layer.build(x.shape)
    w = randomize(layer)
    grouped = x.reshape(2, 5, 6, 4, 2)  # channel c is in group c // 2
    std = np.sqrt(grouped.var(axis=(1, 2, 4), keepdims=True) + 1e-5)
    std = np.broadcast_to(std, grouped.shape).reshape(x.shape)
    gate = 1 / (1 + np.exp(-w["v1"] * x))
    expected = x * gate / std * w["gamma"] + w["beta"]
    np.testing.assert_allclose(numpy(layer(x)), expected, atol=1e-5)


def test_evonorm_s0_without_nonlinearity_is_timms_affine():
    layer = EvoNormS0(groups=4, nonlinearity=False)
    x = sample()
    layer.build(x.shape)
    w = randomize(layer)
    assert sorted(w) == ["beta", "gamma"]
    np.testing.assert_allclose(numpy(layer(x)), x * w["gamma"] + w["beta"], atol=1e-6)


def test_evonorm_groups_must_divide_the_channels():
    with pytest.raises(ValueError, match=r"`groups`: 3 groups do not divide the 8 input") as e:
        EvoNormS0(groups=3).build((None, 4, 4, 8))
    assert "Received: groups=3" in str(e.value)


@pytest.mark.parametrize("normalization", ["frn", "evonorm_s0"])
def test_a_norm_that_is_its_own_activation_has_none_after_it(normalization):
    norm, act = make_norm_act(
        normalization, "relu", epsilon=1e-5, momentum=0.9, norm_groups=4, name="n"
    )
    assert act is None
    assert isinstance(norm, (FilterResponseNormalization, EvoNormS0))
    assert getattr(norm, "tlu", None) or getattr(norm, "nonlinearity", None)
    linear, act = make_norm_act(
        normalization, None, epsilon=1e-5, momentum=0.9, norm_groups=4, name="n"
    )
    assert act is None
    assert not (getattr(linear, "tlu", False) or getattr(linear, "nonlinearity", False))


def test_batch_norm_keeps_its_activation_layer():
    norm, act = make_norm_act(
        "batch_norm", "relu", epsilon=1e-5, momentum=0.9, name="bn", act_name="preact_relu"
    )
    assert isinstance(norm, keras.layers.BatchNormalization)
    assert isinstance(act, keras.layers.Activation) and act.name == "preact_relu"


def test_every_norm_of_a_block_and_its_post_norm_follow_the_setting():
    block = resblocks.PreActBottleNeck(8, strides=2, avg_down=True, normalization="frn")
    block.build((None, 8, 8, 16))
    norms = [block.preact_bn, block.conv1.bn, block.conv2.bn]
    assert all(isinstance(n, FilterResponseNormalization) and n.tlu for n in norms)
    assert block.preact_relu is None and block.conv1.act is None and block.conv2.act is None
    post = resblocks.PostNorm(normalization="evonorm_s0", norm_groups=4)
    assert [type(layer) for layer in post.sublayers] == [EvoNormS0]


def test_a_linear_conv_bn_gets_frn_without_tlu():
    layer = ConvBN(8, 1, activation=None, normalization="frn")
    assert isinstance(layer.bn, FilterResponseNormalization) and not layer.bn.tlu


def test_a_scale_free_norm_is_refused_for_frn():
    with pytest.raises(ValueError, match="scale=False"):
        ConvBN(8, bn_scale=False, normalization="frn")


ROUND_TRIP = [
    (lambda: FilterResponseNormalization(epsilon=1e-6, tau_initializer="ones"), (4, 4, 8)),
    (lambda: FilterResponseNormalization(tlu=False), (4, 4, 8)),
    (lambda: EvoNormS0(groups=4, epsilon=1e-3), (4, 4, 8)),
    (lambda: EvoNormS0(groups=4, nonlinearity=False), (4, 4, 8)),
    (
        lambda: resblocks.PreActBottleNeck(4, strides=2, normalization="evonorm_s0", norm_groups=2),
        (8, 8, 8),
    ),
]


@pytest.mark.parametrize("make, shape", ROUND_TRIP, ids=lambda v: "" if callable(v) else str(v))
def test_each_layer_round_trips_through_a_keras_file(make, shape, tmp_path):
    inputs = keras.Input(shape)
    model = keras.Model(inputs, make()(inputs))
    for weight in model.weights:  # not the initial values, which any fresh layer has
        weight.assign(np.random.default_rng(2).uniform(0.5, 1.5, weight.shape).astype("float32"))
    model.save(tmp_path / "layer.keras")
    loaded = keras.saving.load_model(tmp_path / "layer.keras", safe_mode=True)
    x = sample((2, *shape), seed=3)
    np.testing.assert_allclose(numpy(loaded(x)), numpy(model(x)), atol=1e-5)
    assert loaded.layers[1].get_config() == model.layers[1].get_config()


@pytest.mark.parametrize("make", [FilterResponseNormalization, lambda: EvoNormS0(groups=4)])
def test_mixed_precision_keeps_the_statistics_in_float32(make):
    """Values whose squares overflow float16 (above 256) still normalize to the float32 result."""
    x = sample() * 1000
    exact = make()
    expected = numpy(exact(x))
    layer = make()
    layer.dtype_policy = keras.DTypePolicy("mixed_float16")
    got = numpy(layer(x))
    assert got.dtype == np.float16
    np.testing.assert_allclose(got.astype("float32"), expected, atol=2e-2, rtol=1e-2)
