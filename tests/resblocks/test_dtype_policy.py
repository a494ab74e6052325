"""Each layer computes in its own dtype policy, whatever Keras' global one is.

A block makes its inner layers (convolutions, norms, pools, activations,
shortcuts) itself, so it passes them its policy, as Keras' own composite
layers do (`MultiHeadAttention`). Otherwise a network trained with
`mixed_precision:` and reloaded in a float32 process is half bfloat16 (the
blocks, from their configs) and half float32 (their inner layers, from the
global policy), and its first sum of the two fails.
"""

import contextlib

import keras
import numpy as np
import pytest

import registry
import resblocks
from resblocks import BottleNeck, ConvBN, ResBlock

MIXED = "mixed_bfloat16"

# Inner layers that stay float32 under any policy, on purpose: the head's
# predictions (softmax and loss exact, as Keras' mixed-precision guide does)
# and the face embedding's last batch norm.
FLOAT32_ON_PURPOSE = {("Classifier", "predictions"), ("Embedding", "bn")}

# (layer made with **dtype, input shape without the batch axis): every kind of
# inner layer, each variant that adds one.
LAYERS = [
    (lambda **k: ConvBN(8, strides=2, **k), (8, 8, 4)),
    (lambda **k: ConvBN(8, normalization="group_norm", norm_groups=4, **k), (8, 8, 4)),
    (lambda **k: ConvBN(8, weight_standardization=1e-8, **k), (8, 8, 4)),
    (lambda **k: ConvBN(8, groups=2, **k), (8, 8, 4)),
    (lambda **k: ConvBN(8, normalization="frn", **k), (8, 8, 4)),
    (lambda **k: ConvBN(8, normalization="evonorm_s0", norm_groups=4, **k), (8, 8, 4)),
    (lambda **k: ResBlock(8, strides=2, se_ratio=0.5, drop_path_rate=0.1, **k), (8, 8, 4)),
    (lambda **k: ResBlock(8, strides=2, attention="eca", anti_alias="blur", **k), (8, 8, 4)),
    (lambda **k: ResBlock(8, strides=2, attention="gc", anti_alias="avg", **k), (8, 8, 4)),
    (lambda **k: ResBlock(8, strides=2, shortcut="zero_pad", **k), (8, 8, 4)),
    (lambda **k: BottleNeck(4, strides=2, avg_down=True, groups=2, **k), (8, 8, 8)),
    (lambda **k: BottleNeck(4, strides=2, attention="se", attention_at="3x3", **k), (8, 8, 8)),
    (lambda **k: resblocks.PreActResBlock(8, strides=2, dropout=0.1, **k), (8, 8, 4)),
    (lambda **k: resblocks.PreActResBlock(8, strides=2, avg_down=True, **k), (8, 8, 4)),
    (
        lambda **k: resblocks.PreActBottleNeck(4, strides=2, stride_shortcut="subsample", **k),
        (8, 8, 16),
    ),
    (lambda **k: resblocks.Res2NetBottleneck(8, strides=2, **k), (8, 8, 16)),
    (lambda **k: resblocks.ResNestBottleneck(8, strides=2, base_width=64, **k), (8, 8, 16)),
    (lambda **k: resblocks.SelectiveKernelBlock(8, strides=2, **k), (8, 8, 4)),
    (lambda **k: resblocks.SelectiveKernelBottleneck(4, strides=2, **k), (8, 8, 8)),
    (lambda **k: resblocks.ResNetStem(8, anti_alias="blur", **k), (32, 32, 3)),
    (lambda **k: resblocks.ResNetStem(8, anti_alias="avg", **k), (32, 32, 3)),
    (lambda **k: resblocks.CifarStem(8, **k), (8, 8, 3)),
    (lambda **k: resblocks.DeepStem(8, stem_width=4, pool_padding="-inf", **k), (32, 32, 3)),
    (lambda **k: resblocks.DeepStem(8, stem_width=4, pre_activation=True, **k), (32, 32, 3)),
    (
        lambda **k: resblocks.DeepStem(8, stem_width=4, max_pool=False, conv_pool=True, **k),
        (32, 32, 3),
    ),
    (lambda **k: resblocks.PreActStem(8, **k), (32, 32, 3)),
    (lambda **k: resblocks.PostNorm(**k), (4, 4, 8)),
    (lambda **k: resblocks.InceptionResNetStem([4, 4, 8, 8, 8], **k), (75, 75, 3)),
    (lambda **k: resblocks.InceptionResNetStem([4, 4, 8, 8, 8], final_conv=8, **k), (75, 75, 3)),
    (lambda **k: resblocks.Mixed5b(**k), (9, 9, 8)),
    (
        lambda **k: resblocks.InceptionResBlock35(
            branch_0=[4], branch_1=[4, 4], branch_2=[4, 4, 4], **k
        ),
        (9, 9, 8),
    ),
    (lambda **k: resblocks.ReductionA(k=4, l=4, m=4, n=4, **k), (9, 9, 8)),
    (lambda **k: resblocks.InceptionResBlock17(branch_0=[4], branch_1=[4, 4, 4], **k), (9, 9, 8)),
    (lambda **k: resblocks.ReductionB([4, 4], [4, 4], [4, 4, 4], **k), (9, 9, 8)),
    (lambda **k: resblocks.InceptionResBlock8(branch_1=[4, 4, 4], **k), (5, 5, 8)),
    (lambda **k: resblocks.Classifier(3, hidden_units=[4], dropout=0.1, **k), (4, 4, 8)),
    (lambda **k: resblocks.Embedding(units=4, dropout=0.1, **k), (4, 4, 8)),
]


@contextlib.contextmanager
def global_policy(name: str):
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def inner_layers(layer: keras.layers.Layer, seen=None):
    """(owner, attribute, layer) for every layer held by `layer`'s public attributes, deep."""
    seen = set() if seen is None else seen
    attributes = dict(vars(layer))
    if hasattr(layer, "named_children"):  # PyTorch keeps a module's sublayers out of vars()
        attributes.update(layer.named_children())
    for attribute, value in attributes.items():
        if attribute.startswith("_"):
            continue
        stack = [value]
        while stack:
            item = stack.pop()
            if isinstance(item, (list, tuple)):
                stack.extend(item)
            elif isinstance(item, keras.layers.Layer) and id(item) not in seen:
                seen.add(id(item))
                yield type(layer).__name__, attribute, item
                yield from inner_layers(item, seen)


def policies(layer: keras.layers.Layer) -> dict[str, str]:
    """Each inner layer's policy, except those float32 on purpose, by owner.attribute.name."""
    return {
        f"{owner}.{attribute}.{inner.name}": inner.dtype_policy.name
        for owner, attribute, inner in inner_layers(layer)
        if (owner, attribute) not in FLOAT32_ON_PURPOSE
    }


@pytest.mark.parametrize("make, shape", LAYERS, ids=[f"layer{i}" for i in range(len(LAYERS))])
def test_inner_layers_take_the_layers_policy_not_the_global_one(make, shape):
    layer = make(dtype=MIXED)  # global policy: float32
    layer.build((2, *shape))  # makes the layers that wait for the input's shape too
    assert len(policies(layer)) > 1
    assert set(policies(layer).values()) == {MIXED}, policies(layer)

    with global_policy(MIXED):
        layer = make(dtype="float32")
        layer.build((2, *shape))
    assert set(policies(layer).values()) == {"float32"}, policies(layer)


@pytest.mark.parametrize("recipe", ["resnet20_cifar", "resnet18"])
def test_a_mixed_precision_network_reloads_in_a_float32_process(recipe, tmp_path):
    """The bug this file holds: trained with `mixed_precision: bfloat16`, evaluated without."""
    x = np.random.default_rng(0).uniform(size=(2, 32, 32, 3)).astype("float32")
    with global_policy(MIXED):
        model = registry.build(recipe, num_classes=3, input_shape=(32, 32, 3))
        expected = keras.ops.convert_to_numpy(model(x, training=False))
    model.save(tmp_path / "model.keras")

    loaded = keras.saving.load_model(tmp_path / "model.keras")  # global policy: float32
    got = keras.ops.convert_to_numpy(loaded(x, training=False))
    np.testing.assert_allclose(got, expected, atol=1e-6)
    assert {layer.dtype_policy.name for layer in loaded.layers[1:-1]} == {MIXED}
