"""The recipe keys about the whole network: output_stride, drop_path_rate, zero_init_last."""

import math

import keras
import numpy as np
import pytest
from helpers import built

from registry import build
from registry.errors import RecipeError
from resblocks import BottleNeck, DropPath, ResBlock

FEATURES = ["c2", "c3", "c4", "c5"]


def sizes(model):
    return [tuple(model.output[name].shape[1:3]) for name in FEATURES]


@pytest.mark.parametrize(
    ("output_stride", "expected"),
    [(32, [(16, 16), (8, 8), (4, 4), (2, 2)]),
     (16, [(16, 16), (8, 8), (4, 4), (4, 4)]),
     (8, [(16, 16), (8, 8), (8, 8), (8, 8)])],
)  # fmt: skip
def test_output_stride_of_resnet101_features(output_stride, expected):
    model = build(
        "resnet101",
        input_shape=(64, 64, 3),
        include_top=False,
        features=FEATURES,
        output_stride=output_stride,
    )
    assert sizes(model) == expected


def test_dilated_stage_follows_torchvision_make_layer():
    """First block of a dilated stage: previous dilation, stride 1; later blocks: the new one."""
    model = build("resnet50", input_shape=(64, 64, 3), include_top=False, output_stride=8)
    dilation = {layer.name: layer.dilation for layer in model.layers if hasattr(layer, "dilation")}
    assert [dilation[f"conv4_block{j}"] for j in range(1, 7)] == [1, 2, 2, 2, 2, 2]
    assert [dilation[f"conv5_block{j}"] for j in range(1, 4)] == [2, 4, 4]
    first = model.get_layer("conv4_block1")
    assert first.strides == 1
    assert first.downsample.strides == 1 and first.downsample.kernel_size == 1


@pytest.mark.parametrize("name", ["resnet18", "resnet50"])
@pytest.mark.parametrize("output_stride", [8, 16])
def test_dilation_adds_no_parameters(name, output_stride):
    plain = built(name)
    dilated = built(name, output_stride=output_stride)
    assert dilated.count_params() == plain.count_params()


def test_dilated_conv_keeps_its_map_centred():
    """Symmetric padding: an impulse in the centre stays in the centre of a dilated 3x3."""
    block = ResBlock(4, dilation=2, kernel_initializer="ones")
    x = np.zeros((1, 9, 9, 4), "float32")
    x[0, 4, 4] = 1.0
    conv = block.conv1.conv
    conv.build(x.shape)
    y = keras.ops.convert_to_numpy(conv(x))[0, :, :, 0]
    assert np.argwhere(y).tolist() == [[r, c] for r in (2, 4, 6) for c in (2, 4, 6)]


def binomial_bound(p: float, n: int) -> float:
    """Five standard deviations of a sample fraction: a correct layer fails ~1 in 1.7 million."""
    return 5 * math.sqrt(p * (1 - p) / n)


@pytest.mark.parametrize("rate", [0.1, 0.5])
def test_drop_path_drops_the_residual_branch_at_the_rate(rate):
    keras.utils.set_random_seed(1)
    block = ResBlock(8, drop_path_rate=rate)
    n = 2000
    x = np.random.default_rng(0).normal(size=(n, 4, 4, 8)).astype("float32")
    y = keras.ops.convert_to_numpy(block(x, training=True))
    # A dropped sample passes its identity shortcut only: relu(x).
    dropped = np.all(np.isclose(y, np.maximum(x, 0), atol=1e-6), axis=(1, 2, 3))
    assert abs(dropped.mean() - rate) <= binomial_bound(rate, n)


def test_drop_path_is_the_identity_at_inference_and_scales_in_training():
    layer = DropPath(0.25, seed=3)
    x = np.ones((1000, 2, 2, 1), "float32")
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(x)), x)
    kept = np.unique(keras.ops.convert_to_numpy(layer(x, training=True)))
    np.testing.assert_allclose(kept, [0.0, 1 / 0.75], rtol=1e-6)


def test_network_with_drop_path_is_deterministic_at_inference():
    model = build("resnet18", input_shape=(32, 32, 3), num_classes=3, drop_path_rate=0.5)
    x = np.random.default_rng(0).normal(size=(2, 32, 32, 3)).astype("float32")
    first, second = (keras.ops.convert_to_numpy(model(x, training=False)) for _ in range(2))
    np.testing.assert_array_equal(first, second)
    assert not np.allclose(
        keras.ops.convert_to_numpy(model(x, training=True)),
        keras.ops.convert_to_numpy(model(x, training=True)),
    )


def block_rates(model):
    return [layer.drop_path_rate for layer in model.layers if hasattr(layer, "drop_path_rate")]


def test_drop_path_rate_rises_linearly_as_timm_does():
    model = build("resnet50", input_shape=(64, 64, 3), drop_path_rate=0.2)
    rates = block_rates(model)
    # timm's make_blocks: drop_path_rate * net_block_idx / (net_num_blocks - 1)
    np.testing.assert_allclose(rates, [0.2 * k / 15 for k in range(16)])
    assert model.get_layer("conv5_block3").get_config()["drop_path_rate"] == pytest.approx(0.2)


def test_expected_depth_is_huangs_sum_of_survival_probabilities():
    """Huang et al. 2016, sec. 3: E(L~) = sum of p_l. For timm's rule it is L (1 - rate / 2)."""
    rates = block_rates(build("resnet50", input_shape=(64, 64, 3), drop_path_rate=0.2))
    assert sum(1 - r for r in rates) == pytest.approx(16 * (1 - 0.2 / 2))  # 14.4
    # The paper's own rule, p_l = 1 - l / L (1 - p_L): (3L - 1) / 4 ~ 40 for L = 54, p_L = 0.5.
    huang = sum(1 - block / 54 * 0.5 for block in range(1, 55))
    assert huang == pytest.approx((3 * 54 - 1) / 4) and round(huang) == 40


def test_zero_init_last_makes_every_block_relu_of_its_shortcut():
    model = build("resnet50", input_shape=(64, 64, 3), zero_init_last=True)
    blocks = [layer for layer in model.layers if isinstance(layer, (BottleNeck, ResBlock))]
    assert len(blocks) == 16
    rng = np.random.default_rng(0)
    for block in blocks:
        x = rng.normal(size=(1, *block.input.shape[1:])).astype("float32")
        shortcut = x if block.downsample is None else block.downsample(x, training=False)
        expected = keras.ops.convert_to_numpy(keras.ops.relu(shortcut))
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(block(x, training=False)), expected, atol=1e-6
        )


@pytest.mark.parametrize(
    ("recipe", "key", "value", "location", "fix"),
    [
        ("resnet50", "output_stride", 12, "output_stride", "must be one of 8, 16 or 32"),
        ("resnet50", "drop_path_rate", 1.0, "drop_path_rate", "up to, not including, 1"),
        ("resnet50", "drop_path_rate", -0.1, "drop_path_rate", "up to, not including, 1"),
        ("inception_resnet_v2", "output_stride", 16, "output_stride", "Remove output_stride"),
        ("inception_resnet_v2", "zero_init_last", True, "zero_init_last", "Remove the key"),
        ("plain20_cifar", "drop_path_rate", 0.1, "stages[0]", "a plain block"),
    ],
)
def test_bad_network_keys_give_located_errors(recipe, key, value, location, fix):
    with pytest.raises(RecipeError) as caught:
        build(recipe, overrides={key: value})
    message = str(caught.value)
    assert location in message and fix in message


def test_network_keys_survive_a_safe_keras_round_trip(tmp_path):
    model = build(
        "resnet18",
        input_shape=(32, 32, 3),
        num_classes=3,
        drop_path_rate=0.1,
        zero_init_last=True,
        output_stride=8,
    )
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert block_rates(loaded) == block_rates(model)
    assert loaded.get_layer("conv5_block2").get_config()["dilation"] == 4
    x = np.random.default_rng(0).normal(size=(2, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(loaded(x)), keras.ops.convert_to_numpy(model(x)), atol=1e-5
    )
