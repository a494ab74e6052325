"""The blocks: shapes, shortcuts, configs and the arithmetic of the paper."""

import inspect

import keras
import numpy as np
import pytest
from helpers import (
    assert_keras_round_trip,
    constructor_arguments,
    tiny_recipe,
    trainable_parameters,
)

import resblocks
from resblocks import (
    BottleNeck,
    Classifier,
    ConvBN,
    InceptionResBlock8,
    InceptionResBlock17,
    InceptionResBlock35,
    Preprocess,
    ResBlock,
    ScaledResidual,
    ZeroPadShortcut,
)


def run(layer, shape):
    x = np.random.default_rng(0).normal(size=(2, *shape)).astype("float32")
    return keras.ops.convert_to_numpy(layer(x))


@pytest.mark.parametrize("strides, out", [(1, (8, 8, 16)), (2, (4, 4, 16))])
def test_res_block_shapes(strides, out):
    assert run(ResBlock(16, strides), (8, 8, 16)).shape == (2, *out)


def test_res_block_projection_only_where_shape_changes():
    same = ResBlock(16)
    run(same, (8, 8, 16))
    assert same.downsample is None
    wider = ResBlock(32, strides=2)
    run(wider, (8, 8, 16))
    assert isinstance(wider.downsample, ConvBN)
    # 1x1x16x32 projection + its BN's gamma and beta.
    padded = ResBlock(32, strides=2, shortcut="zero_pad")
    run(padded, (8, 8, 16))
    assert trainable_parameters(wider) - trainable_parameters(padded) == 16 * 32 + 2 * 32


def test_zero_pad_shortcut_is_parameter_free_and_pads_zeros():
    block = ResBlock(32, strides=2, shortcut="zero_pad")
    run(block, (8, 8, 16))
    assert isinstance(block.downsample, ZeroPadShortcut)
    assert block.downsample.weights == []
    x = np.arange(2 * 4 * 4 * 3, dtype="float32").reshape(2, 4, 4, 3)
    y = keras.ops.convert_to_numpy(ZeroPadShortcut(5, strides=2)(x))
    np.testing.assert_array_equal(y[..., :3], x[:, ::2, ::2, :])
    np.testing.assert_array_equal(y[..., 3:], 0)


def test_identity_shortcut_refuses_a_shape_change():
    with pytest.raises(
        ValueError,
        match="identity shortcut needs the block to keep its input shape.*shortcut='projection'",
    ):
        run(ResBlock(32, strides=2, shortcut="identity"), (8, 8, 16))


def test_plain_block_adds_nothing():
    block = ResBlock(16, shortcut="none")
    run(block, (8, 8, 16))
    x = np.random.default_rng(1).normal(size=(1, 8, 8, 16)).astype("float32")
    # Without a shortcut, the output is relu of the residual branch alone.
    branch = block.conv2(block.conv1(x))
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(block(x)),
        np.maximum(keras.ops.convert_to_numpy(branch), 0),
        atol=1e-6,
    )


def test_unknown_shortcut_is_refused_in_keras_wording():
    with pytest.raises(ValueError, match=r"argument `shortcut`.*Received: shortcut='skip'"):
        ResBlock(16, shortcut="skip")


@pytest.mark.parametrize("stride_at", ["1x1", "3x3"])
def test_bottleneck_expands_and_strides(stride_at):
    block = BottleNeck(16, strides=2, stride_at=stride_at)
    assert run(block, (8, 8, 32)).shape == (2, 4, 4, 64)
    strided = block.conv1 if stride_at == "1x1" else block.conv2
    assert strided.strides == 2


def test_bottleneck_weights_match_the_papers_arithmetic():
    # He et al. 2015 / the seed article: a 256-channel bottleneck has
    # 1x1x256x64 + 3x3x64x64 + 1x1x64x256 = 69,632 conv weights, two 3x3
    # convolutions at full width 3x3x256x256x2 = 1,179,648: about 17x.
    bottleneck = BottleNeck(64)
    basic = ResBlock(256)
    run(bottleneck, (8, 8, 256))
    run(basic, (8, 8, 256))

    def kernels(block):
        return sum(int(np.prod(w.shape)) for w in block.weights if w.path.endswith("kernel"))

    assert kernels(bottleneck) == 69_632
    assert kernels(basic) == 1_179_648
    assert round(kernels(basic) / kernels(bottleneck)) == 17


def test_conv_bn_pads_strided_convolutions_symmetrically():
    layer = ConvBN(4, 3, strides=2, activation=None)
    x = np.random.default_rng(2).normal(size=(1, 8, 8, 3)).astype("float32")
    y = keras.ops.convert_to_numpy(layer(x))
    # The same kernel, padded one pixel on every side, then "valid".
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    conv = keras.layers.Conv2D(4, 3, strides=2, use_bias=False)
    conv.build(padded.shape)
    conv.set_weights(layer.conv.get_weights())
    expected = keras.ops.convert_to_numpy(layer.bn(conv(padded), training=False))
    np.testing.assert_allclose(y, expected, atol=1e-5)


def test_scaled_residual():
    x, r = np.ones((1, 2, 2, 3), "float32"), np.full((1, 2, 2, 3), 10.0, "float32")
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(ScaledResidual(0.17)([x, r])), 2.7, rtol=1e-6
    )


@pytest.mark.parametrize(
    "block, shape",
    [
        (InceptionResBlock35(), (9, 9, 320)),
        (InceptionResBlock17(), (9, 9, 1088)),
        (InceptionResBlock8(), (5, 5, 2080)),
        (InceptionResBlock8(scale=1.0, activation=None), (5, 5, 64)),
    ],
)
def test_inception_resnet_blocks_keep_the_shape(block, shape):
    assert run(block, shape).shape == (2, *shape)


def test_last_block8_is_linear():
    out = run(InceptionResBlock8(scale=1.0, activation=None), (5, 5, 64))
    assert (out < 0).any()  # no ReLU after the sum


def test_classifier_head_of_the_resnet101_article():
    head = Classifier(5, hidden_units=[1024], dropout=0.5)
    out = run(head, (4, 4, 2048))
    assert out.shape == (2, 5)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)
    assert trainable_parameters(head) == 2048 * 1024 + 1024 + 1024 * 5 + 5


@pytest.mark.parametrize("mode", ["caffe", "tf", "torch"])
def test_preprocess_matches_keras_applications(mode):
    from keras.applications import imagenet_utils

    x = np.random.default_rng(3).uniform(0, 255, (2, 4, 4, 3)).astype("float32")
    expected = imagenet_utils.preprocess_input(x.copy(), mode=mode)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(Preprocess(mode)(x)), expected, atol=1e-5)


# GroupedConv2D and StdConv2D are keras Conv2Ds: their configs are Conv2D's, plus
# `implementation` (tests/resblocks/test_family.py) or `epsilon`
# (tests/resblocks/test_normalization.py). The deprecated V1 names are functions.
LAYERS = [
    getattr(resblocks, name)
    for name in resblocks.__all__
    if name not in ("Network", "GroupedConv2D", "StdConv2D")
    and isinstance(getattr(resblocks, name), type)
    and issubclass(getattr(resblocks, name), keras.layers.Layer)
]


@pytest.mark.parametrize("cls", LAYERS, ids=lambda c: c.__name__)
def test_config_holds_exactly_the_constructor_arguments(cls):
    signature = inspect.signature(cls.__init__)
    required = {
        name: {"filters": 8, "num_classes": 3, "rate": 0.1}.get(name, 1)
        for name, p in signature.parameters.items()
        if p.default is p.empty
        and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
        and name != "self"
    }
    layer = cls(**required)
    config = layer.get_config()
    own = set(config) - set(keras.layers.Layer().get_config())
    arguments = set(constructor_arguments(cls))
    assert own == arguments
    clone = cls.from_config(config)
    assert clone.get_config() == config
    assert keras.saving.get_registered_object(keras.saving.get_registered_name(cls)) is cls


# normalization, norm_groups and weight_standardization are new (timm's BiT, resnet50_gn);
# their defaults are the old layers, so a file saved without them loads as before.
SETTINGS = (
    "activation use_bias bn_epsilon bn_momentum kernel_initializer "
    "normalization norm_groups weight_standardization"
)
# attention (SE or ECA), anti_alias (timm's ECA and anti-aliased ResNets), se_divisor and
# down_kernel_size (timm's legacy SENets) and eca_kernel_size (timm's pruned ECA-ResNets) are
# new; their defaults are the old blocks, so a file saved without them loads as before.
VARIANTS = (
    "se_ratio attention se_divisor eca_kernel_size anti_alias avg_down down_kernel_size "
    "dilation drop_path_rate zero_init_last"
)
# The config keys each layer had in the last release: saved .keras files hold them.
CONFIG_KEYS = {
    "ConvBN": "filters kernel_size strides padding bn_scale groups dilation_rate "
    f"bn_gamma_initializer {SETTINGS}",
    # last_activation and reduce_first are new (timm's legacy SENets), conv_widths too (its
    # pruned ECA-ResNets), attention_at too (timm's gcresnet50t; "last" is the old block); off
    # by default.
    "ResBlock": f"filters strides shortcut last_activation {VARIANTS} {SETTINGS}",
    "BottleNeck": (
        "filters strides stride_at shortcut groups base_width reduce_first conv_widths "
        f"attention_at {VARIANTS} {SETTINGS}"
    ),
    # avg_down is new (timm's resnetv2_50d); False is the old block.
    "PreActResBlock": f"filters strides shortcut stride_shortcut avg_down dropout {SETTINGS}",
    "PreActBottleNeck": f"filters strides shortcut stride_shortcut avg_down {SETTINGS}",
    # anti_alias, first_width, conv_pool, pre_activation, pool_padding and stride_last are new
    # (timm's anti-aliased pool, tiered stem, ResNet-RS, ResNetV2, legacy SENets and byobnet's
    # pool-less stem), off by default: a file saved without them loads as before.
    "ResNetStem": f"filters kernel_size strides max_pool anti_alias pool_padding {SETTINGS}",
    "CifarStem": f"filters kernel_size strides max_pool anti_alias pool_padding {SETTINGS}",
    "DeepStem": (
        "filters stem_width max_pool first_width conv_pool anti_alias pre_activation "
        f"pool_padding stride_last {SETTINGS}"
    ),
    # bn_scale is new (facenet-pytorch's learned gamma); its default False is the old block,
    # so a file saved without it loads as before.
    "InceptionResBlock17": "scale activation branch_0 branch_1 bn_scale",
    "InceptionResBlock8": "scale activation branch_0 branch_1 bn_scale",
    "Classifier": "num_classes pooling hidden_units dropout hidden_activation activation "
    "class_names",
}


@pytest.mark.parametrize("name", CONFIG_KEYS)
def test_configs_keep_the_keys_of_the_last_release(name):
    cls = getattr(resblocks, name)
    layer = cls(**({"filters": 8} if "filters" in CONFIG_KEYS[name].split() else {}))
    own = set(layer.get_config()) - set(keras.layers.Layer().get_config())
    assert own == set(CONFIG_KEYS[name].split())


# Each block small: (layer, input shape without the batch axis).
ROUND_TRIP = [
    (lambda: resblocks.ResNetStem(8), (32, 32, 3)),
    (lambda: resblocks.CifarStem(8), (8, 8, 3)),
    (lambda: resblocks.DeepStem(8, stem_width=4), (32, 32, 3)),
    (
        lambda: resblocks.DeepStem(8, stem_width=4, first_width=3, max_pool=False, conv_pool=True),
        (32, 32, 3),
    ),
    (lambda: resblocks.PreActStem(8), (32, 32, 3)),
    (lambda: resblocks.InceptionResNetStem([4, 4, 8, 8, 8], final_conv=8), (75, 75, 3)),
    (lambda: ConvBN(8), (8, 8, 4)),
    (lambda: ResBlock(8, strides=2, se_ratio=0.5), (8, 8, 4)),
    (lambda: BottleNeck(4, strides=2, avg_down=True, drop_path_rate=0.1), (8, 8, 8)),
    (lambda: resblocks.PreActResBlock(8, strides=2, dropout=0.1), (8, 8, 4)),
    (lambda: resblocks.PreActBottleNeck(4, strides=2, stride_shortcut="subsample"), (8, 8, 16)),
    (lambda: resblocks.PostNorm(), (4, 4, 8)),
    (lambda: resblocks.Mixed5b(), (9, 9, 8)),
    (lambda: InceptionResBlock35(branch_0=[4], branch_1=[4, 4], branch_2=[4, 4, 4]), (9, 9, 8)),
    (lambda: resblocks.ReductionA(k=4, l=4, m=4, n=4), (9, 9, 8)),
    (lambda: InceptionResBlock17(branch_0=[4], branch_1=[4, 4, 4]), (9, 9, 8)),
    (lambda: resblocks.ReductionB([4, 4], [4, 4], [4, 4, 4]), (9, 9, 8)),
    (lambda: InceptionResBlock8(scale=1.0, activation=None, branch_1=[4, 4, 4]), (5, 5, 8)),
    (lambda: Classifier(3), (4, 4, 8)),
]


@pytest.mark.parametrize("make, shape", ROUND_TRIP, ids=lambda v: "" if callable(v) else str(v))
def test_each_block_round_trips_through_a_keras_file(make, shape, tmp_path):
    assert_keras_round_trip(make(), shape, tmp_path)


@pytest.mark.parametrize("cls", [ResBlock, BottleNeck, resblocks.PreActResBlock])
def test_every_resnet_block_shares_the_base_and_names_its_sum_act(cls):
    block = cls(4)
    assert isinstance(block, resblocks.residual_block.ResidualBlock)
    assert (block.act is None) == block.pre_activation  # pre-activation: nothing after the sum
    assert block.out_channels == 4 * cls.expansion


def test_expansion_is_a_class_attribute_and_old_configs_with_4_load():
    assert (ResBlock.expansion, BottleNeck.expansion, resblocks.PreActBottleNeck.expansion) == (
        1,
        4,
        4,
    )
    config = {**BottleNeck(4).get_config(), "expansion": 4}  # saved by the last release
    assert "expansion" not in BottleNeck(4).get_config()
    assert BottleNeck.from_config(config).out_channels == 16
    with pytest.raises(ValueError, match=r"`expansion`: BottleNeck always expands by 4"):
        BottleNeck(4, expansion=2)


def test_one_shortcut_factory_serves_both_orderings():
    from resblocks.shortcut import make_shortcut

    post = make_shortcut("projection", 8, 16, 2)
    pre = make_shortcut("projection", 8, 16, 2, pre_activation=True, use_bias=True)
    assert type(post) is ConvBN  # 1x1 conv + BN
    assert type(pre) is keras.layers.Conv2D and pre.use_bias  # a plain 1x1 conv, no BN
    subsample = make_shortcut("projection", 8, 8, 2, stride_shortcut="subsample")
    assert type(subsample) is ZeroPadShortcut
    assert make_shortcut("projection", 8, 8, 1, pre_activation=True) is None


def test_inception_widths_are_checked_in_keras_wording():
    with pytest.raises(ValueError, match=r"`branch_1`: expected 3 positive int\(s\)"):
        InceptionResBlock17(branch_1=[128, 128])


def test_weights_files_keep_the_layout_of_earlier_releases(tmp_path):
    """Keras saves a layer's weights under the first attribute, in name order,
    that holds it: a `branch_layers` property on ResBlock and BottleNeck moved
    every conv under `branch_layers/` and broke the files users have. The
    pre-activation blocks had that property in earlier releases, so theirs
    keep it."""
    import h5py

    from registry import build

    def keys(recipe) -> list[str]:
        path = tmp_path / "w.weights.h5"
        build(recipe).save_weights(path)
        found: list[str] = []
        with h5py.File(path) as f:
            f.visit(found.append)
        return found

    post = keys(tiny_recipe(**{"stages.1.block": "bottle_neck", "stages.1.filters": 2}))
    assert not [k for k in post if "branch_layers" in k]
    assert [k for k in post if k.endswith("/conv1/bn/vars/0")]
    pre = keys(tiny_recipe(**{"stem.block": "pre_act_stem", "stages.0.block": "pre_act_res_block"}))
    assert [k for k in pre if "/branch_layers/conv_bn/bn/vars/0" in k]
