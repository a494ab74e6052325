"""Inception-ResNet-V1 (Szegedy et al. 2016, Figs. 10-15): the grid sizes and widths."""

import json
import zipfile

import keras
import numpy as np
import pytest
from helpers import built

from registry import build, load_recipe
from registry.keras_compat import weights_layout
from registry.recipe.files import read_recipe
from resblocks import (
    InceptionResBlock8,
    InceptionResBlock8V1,
    InceptionResBlock17,
    InceptionResBlock17V1,
    InceptionResBlock35,
    InceptionResBlock35V1,
    InceptionResNetStem,
    InceptionResNetV1Stem,
    ReductionA,
    ReductionB,
    ReductionBV1,
)
from resblocks.inception_resnet_v1 import V1_WIDTHS


def test_stage_outputs_at_299_are_the_papers():
    # Figure 14 ends at 35x35x256; Reduction-A (Table 1: k, l, m, n = 192,
    # 192, 256, 384) gives 17x17x896; Reduction-B (Figure 12) 8x8x1792.
    model = build("inception_resnet_v1", include_top=False, features=["c3", "c4", "c5"])
    shapes = {name: tuple(out.shape[1:]) for name, out in model.output.items()}
    assert shapes == {"c3": (35, 35, 256), "c4": (17, 17, 896), "c5": (8, 8, 1792)}
    for layer, shape in [
        ("stem", (35, 35, 256)),
        ("mixed_6a", (17, 17, 896)),
        ("mixed_7a", (8, 8, 1792)),
    ]:
        assert tuple(model.get_layer(layer).output.shape[1:]) == shape


def test_parameters_equal_a_plain_keras_transcription_of_facenet():
    # 22,578,384 without the head: counted from a plain-layer Keras
    # transcription of davidsandberg/facenet's inception_resnet_v1.py
    # (BN without gamma, as TF-slim's default), 5 + 10 + 5 blocks and the
    # linear last one; the paper publishes no count.
    recipe = load_recipe("inception_resnet_v1")
    assert [stage.repeats for stage in recipe.stages] == [5, 1, 10, 1, 5, 1]
    model = built("inception_resnet_v1", include_top=False)
    assert model.count_params() == 22_578_384
    assert built("inception_resnet_v1").count_params() == (22_578_384 + 1792 * 1000 + 1000)


def test_v1_stem_convolves_where_v2_pools():
    v1, v2 = InceptionResNetStem(final_conv=256), InceptionResNetStem()
    assert v1.compute_output_shape((None, 299, 299, 3)) == (None, 35, 35, 256)
    assert v2.compute_output_shape((None, 299, 299, 3)) == (None, 35, 35, 192)
    assert [type(layer).__name__ for layer in v1.sublayers][-1] == "ConvBN"


def test_reduction_a_widths_are_table_1s_k_l_m_n():
    v1 = ReductionA(k=192, l=192, m=256, n=384)
    assert v1.compute_output_shape((None, 35, 35, 256)) == (None, 17, 17, 256 + 384 + 256)
    assert ReductionA().compute_output_shape((None, 35, 35, 320)) == (None, 17, 17, 1088)
    assert keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(v1)).m == 256


def _shapes(model):
    layout = weights_layout(model)
    return {path: {k: tuple(v.shape) for k, v in group.items()} for path, group in layout.items()}


def test_recipe_with_the_old_v1_block_names_builds_the_same_network():
    recipe, _ = read_recipe("inception_resnet_v1")
    old_names = {
        "inception_res_net_stem": "inception_resnet_v1_stem",
        "inception_res_block35": "inception_resnet_v1_a",
        "inception_res_block17": "inception_resnet_v1_b",
        "reduction_b": "reduction_b_v1",
        "inception_res_block8": "inception_resnet_v1_c",
    }
    widths = ("branch_0", "branch_1", "branch_2", "final_conv")
    old = {**recipe, "name": "old", "stem": {"block": "inception_resnet_v1_stem"}}
    old["stages"] = [
        {k: v for k, v in stage.items() if k not in widths}
        | {"block": old_names.get(stage["block"], stage["block"])}
        for stage in recipe["stages"]
    ]
    with pytest.warns(
        FutureWarning,
        match=r"'inception_resnet_v1_a' is the old name of the block "
        r"'inception_res_block35' with branch_2: \[32, 32, 32\]",
    ):
        old_model = build(old, input_shape=(75, 75, 3), include_top=False)
    new_model = build("inception_resnet_v1", input_shape=(75, 75, 3), include_top=False)
    assert old_model.count_params() == new_model.count_params() == 22_578_384
    assert _shapes(old_model) == _shapes(new_model)


@pytest.mark.parametrize(
    "old, cls",
    [
        (InceptionResNetV1Stem, InceptionResNetStem),
        (InceptionResBlock35V1, InceptionResBlock35),
        (InceptionResBlock17V1, InceptionResBlock17),
        (ReductionBV1, ReductionB),
        (InceptionResBlock8V1, InceptionResBlock8),
    ],
)
def test_old_v1_class_names_build_the_v2_class_with_v1_widths(old, cls):
    with pytest.warns(DeprecationWarning, match=f"{old.__name__} is deprecated"):
        layer = old()
    assert type(layer) is cls
    assert {k: layer.get_config()[k] for k in V1_WIDTHS[cls]} == V1_WIDTHS[cls]


def test_keras_file_saved_with_the_old_v1_class_names_loads(tmp_path):
    # A .keras file of the last release: the V1 classes by name, without widths.
    inputs = keras.Input((75, 75, 3))
    x = InceptionResNetStem(final_conv=256, name="stem")(inputs)
    x = InceptionResBlock35(branch_2=[32, 32, 32], name="block35_1")(x)
    model = keras.Model(inputs, x)
    model.save(tmp_path / "new.keras")
    with zipfile.ZipFile(tmp_path / "new.keras") as new:
        files = {name: new.read(name) for name in new.namelist()}
    config = json.loads(files["config.json"])
    for layer, old in (("stem", "InceptionResNetV1Stem"), ("block35_1", "InceptionResBlock35V1")):
        entry = next(e for e in config["config"]["layers"] if e["name"] == layer)
        entry["class_name"], entry["registered_name"] = old, f"resblocks>{old}"
        for key in ("branch_0", "branch_1", "branch_2", "widths", "final_conv"):
            entry["config"].pop(key, None)
    files["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(tmp_path / "old.keras", "w") as old_file:
        for name, data in files.items():
            old_file.writestr(name, data)

    with pytest.warns(DeprecationWarning):
        loaded = keras.saving.load_model(tmp_path / "old.keras", safe_mode=True)
    x = np.random.default_rng(0).normal(size=(1, 75, 75, 3)).astype("float32")
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(loaded(x)), keras.ops.convert_to_numpy(model(x)), atol=1e-5
    )
    assert type(loaded.get_layer("block35_1")) is InceptionResBlock35
