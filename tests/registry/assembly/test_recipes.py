"""Every shipped recipe: validates, builds, runs, and round-trips through .keras.

Each recipe is built at a small input: the parameter count does not
depend on the input size. The counts come from `helpers.measures`, the one
build per run that `representatives()` makes of each recipe while pytest
collects; recipes of more than 20 blocks are counted in `make test-slow`.
Forward passes are eager calls; `predict` would trace a graph of hundreds
of layers for one batch.
"""

import keras
import numpy as np
import pytest
from helpers import built, measures, recipe_params, small_shape

from registry import build


def small_model(name: str, num_classes: int | None = None) -> keras.Model:
    return built(name, num_classes=num_classes)


def forward(model, x):
    return keras.ops.convert_to_numpy(model(x, training=False))


@pytest.mark.parametrize("name", recipe_params())
def test_recipe_builds_and_runs(name):
    # Saving and loading every recipe, here and on JAX and PyTorch, is
    # tests/backends/test_cross_backend.py.
    model = small_model(name)
    x = np.random.default_rng(0).uniform(0, 1, (2, *small_shape(name))).astype("float32")
    assert np.isfinite(forward(model, x)).all()


# count_params(): trainable weights and BN statistics, the Keras convention.
# keras.applications: ResNet50/101/152, their V2 and InceptionResNetV2 (weights=None).
KERAS_APPLICATIONS = [
    ("resnet50", 1000, 25_636_712),
    ("resnet50", 5, 23_597_957),
    ("resnet101", 1000, 44_707_176),
    ("resnet101", 5, 42_668_421),
    ("resnet152", 1000, 60_419_944),
    ("resnet152", 5, 58_381_189),
    ("resnet50v2", 1000, 25_613_800),
    ("resnet50v2", 5, 23_575_045),
    ("resnet101v2", 1000, 44_675_560),
    ("resnet152v2", 1000, 60_380_648),
    ("inception_resnet_v2", 1000, 55_873_736),
    ("inception_resnet_v2", 5, 54_344_421),
]


@pytest.mark.parametrize("name, num_classes, expected", recipe_params(KERAS_APPLICATIONS))
def test_parameter_count_equals_keras_applications(name, num_classes, expected):
    if num_classes == 1000:  # the recipe's own head
        assert measures(name).params == expected
    else:
        assert small_model(name, num_classes).count_params() == expected


# Trainable parameters only: torchvision's resnet18/34 (no conv biases),
# the CIFAR-10 ResNet-18 of the seed article, kuangliu/pytorch-cifar's
# PreActResNet18 (11,171,146) plus our post-norm's 512 gammas and 512
# betas, and WRN-28-10 as szagoruyko/wide-residual-networks builds it
# (the paper's "36.5M"); torchvision's v1.5 ResNets, ResNeXts and Wide
# ResNets, timm's seresnet50 and resnet50d (their `num_params`);
# facenet-pytorch's InceptionResnetV1 without its `logits` classifier
# (tests/registry/pretrained/test_facenet_weights.py counts it from the
# reference layout).
TRAINABLE = [
    ("resnet18", 11_689_512),
    ("resnet34", 21_797_672),
    ("resnet18_cifar", 11_173_962),
    ("preact_resnet18_cifar", 11_171_146 + 2 * 512),
    ("wrn28_10_cifar", 36_479_194),
    ("resnet50_tv", 25_557_032),
    ("resnet101_tv", 44_549_160),
    ("resnet152_tv", 60_192_808),
    ("resnext50_32x4d", 25_028_904),
    ("resnext101_32x8d", 88_791_336),
    ("wide_resnet50_2", 68_883_240),
    ("wide_resnet101_2", 126_886_696),
    ("seresnet50", 28_088_024),
    ("resnet50d", 25_576_264),
    ("facenet_inception_resnet_v1", 23_482_624),
    # timm's variants, counted from timm 1.0.31's models (create_model(name).parameters())
    ("resnet18d", 11_708_744),
    ("resnet26d", 16_014_408),
    ("resnet50c", 25_576_264),
    ("resnet50s", 25_680_808),
    ("resnet101d", 44_568_392),
    ("resnet152d", 60_212_040),
    ("resnet200d", 64_693_064),
    ("seresnext50_32x4d", 27_559_896),
    ("resnext101_64x4d", 83_455_272),
    ("seresnet18", 11_779_624),
    ("seresnet34", 21_960_416),
    # d2l.ai's ResNet-18 for 1-channel 96x96 Fashion-MNIST, 10 classes, biased
    # convs, counted by hand as torch counts it (weights + biases, BN's gamma
    # and beta): stem 7*7*1*64+64 + 2*64 = 3,328; conv2, two blocks of
    # 2*(9*64*64+64) + 4*64 = 74,112 each: 148,224; conv3 (9*64*128+128) +
    # (9*128*128+128) + 4*128 + (64*128+128, the 1x1 shortcut) = 230,272, and
    # 2*(9*128*128+128) + 4*128 = 295,680: 525,952; conv4 likewise 919,296 +
    # 1,181,184 = 2,100,480; conv5 3,673,600 + 4,721,664 = 8,395,264; dense
    # 512*10+10 = 5,130. Sum 11,178,378. resblocks' projection shortcut adds a
    # BN (gamma, beta) after d2l's bare 1x1 conv: 2 * (128 + 256 + 512).
    ("d2l_resnet18_fashion_mnist", 11_178_378 + 2 * (128 + 256 + 512)),
]


@pytest.mark.parametrize("name, expected", recipe_params(TRAINABLE))
def test_trainable_parameters_equal_the_reference(name, expected):
    assert measures(name).trainable == expected


def test_layer_names_follow_keras_applications():
    names = [layer.name for layer in small_model("resnet50").layers]
    assert names[:3] == ["image", "stem", "conv2_block1"]
    assert "conv4_block6" in names and names[-1] == "head"
    names = [layer.name for layer in small_model("inception_resnet_v2").layers]
    assert ["block35_10", "mixed_6a", "block17_1"] == names[
        names.index("block35_10") : names.index("block17_1") + 1
    ]
    assert names[-3:] == ["block8_10", "conv_7b", "head"]


def test_resnet101_multi_scale_features():
    model = built("resnet101", include_top=False, features=["c2", "c3", "c4", "c5"])
    shapes = {name: tuple(t.shape[1:]) for name, t in model.output.items()}
    assert shapes == {
        "c2": (16, 16, 256),
        "c3": (8, 8, 512),
        "c4": (4, 4, 1024),
        "c5": (2, 2, 2048),
    }
    maps = model(np.zeros((1, 64, 64, 3), "float32"), training=False)
    assert tuple(maps["c5"].shape) == (1, 2, 2, 2048)


def test_feature_extractor_with_the_articles_dense_head():
    # The ResNet-101 article: c1..c5 taps plus GAP -> dropout -> dense 1024 -> dropout -> softmax.
    model = build(
        "resnet101",
        input_shape=(64, 64, 3),
        features=["c1", "c5"],
        overrides={"head.hidden_units": [1024], "head.dropout": 0.5, "head.num_classes": 5},
    )
    assert set(model.output) == {"c1", "c5", "predictions"}
    assert tuple(model.output["c1"].shape[1:]) == (16, 16, 64)
    assert tuple(model.output["predictions"].shape[1:]) == (5,)


@pytest.mark.parametrize("pooling, shape", [(None, (2, 2, 512)), ("avg", (512,)), ("max", (512,))])
def test_without_top(pooling, shape):
    model = built("resnet18", include_top=False, pooling=pooling)
    assert tuple(model.output.shape[1:]) == shape


def test_swapping_a_block_in_one_line():
    basic = build(
        "resnet50",
        overrides={f"stages.{i}.block": "res_block" for i in range(4)},
        input_shape=(64, 64, 3),
    )
    assert type(basic.get_layer("conv2_block1")).__name__ == "ResBlock"
    assert basic.count_params() != small_model("resnet50").count_params()


def test_weights_round_trip(tmp_path):
    model = build("resnet18_cifar")
    path = tmp_path / "w.weights.h5"
    model.save_weights(path)
    again = build("resnet18_cifar", weights=path)
    for a, b in zip(model.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_include_preprocessing_takes_raw_pixels():
    raw = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    inside = build("resnet18_cifar", include_preprocessing=True)
    outside = build("resnet18_cifar")
    outside.set_weights(inside.get_weights())
    np.testing.assert_allclose(forward(inside, raw), forward(outside, raw / 255.0), atol=1e-6)


def test_summary_lists_every_block():
    lines = []
    built("resnet18").summary(print_fn=lambda line, **_: lines.append(line))
    text = "\n".join(lines)
    for name in ["stem", "conv2_block1", "conv3_block2", "conv5_block2", "head"]:
        assert name in text
