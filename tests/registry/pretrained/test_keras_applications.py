"""keras.applications weight files load into recipe-built networks, which compute the same outputs.

No download: each test builds the keras.applications model with random
weights (batch-norm statistics and biases randomized too), writes it in the
legacy Keras-2 HDF5 layout of the ImageNet files, loads it with
`build(..., weights=...)` and compares outputs on the same input.
"""

import shutil
import warnings

import h5py
import keras
import numpy as np
import pytest
from helpers import recipe_params
from keras.src.legacy.saving import legacy_h5_format

from registry import WeightsError, build, preprocess_input
from registry.pretrained.keras_applications import (
    is_legacy_keras_h5,
    load_keras_applications_weights,
)

TOLERANCE = 1e-4  # max absolute difference, float32


def randomize(model: keras.Model, seed: int) -> None:
    """Random batch-norm statistics and biases, so every array's mapping matters."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if not layer.weights or not isinstance(
            layer, (keras.layers.BatchNormalization, keras.layers.Conv2D, keras.layers.Dense)
        ):
            continue
        values = []
        for variable in layer.weights:
            shape = tuple(variable.shape)
            if variable.name == "moving_variance":
                values.append(rng.uniform(0.5, 2.0, shape))
            elif variable.name == "gamma":
                values.append(rng.uniform(0.5, 1.5, shape))
            elif variable.name in ("beta", "moving_mean", "bias"):
                values.append(rng.normal(0.0, 0.3, shape))
            else:
                values.append(keras.ops.convert_to_numpy(variable))
        layer.set_weights([v.astype("float32") for v in values])


def save_legacy(model: keras.Model, path) -> None:
    """Writes weights as keras.applications' files are: Keras-2 `save_weights` HDF5."""
    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, model)


def images(size: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 255, (2, size, size, 3)).astype("float32")


def keras_files(factory, tmp_path_factory, size: int, last: str):
    """Builds a keras.applications model; writes its top and no-top files."""
    model = factory(weights=None, input_shape=(size, size, 3))
    randomize(model, seed=1)
    folder = tmp_path_factory.mktemp(model.name)
    top, notop = (
        folder / "weights_tf_dim_ordering_tf_kernels.h5",
        folder / "weights_tf_dim_ordering_tf_kernels_notop.h5",
    )
    save_legacy(model, top)
    features = keras.Model(model.input, model.get_layer(last).output)
    save_legacy(features, notop)  # the _notop model: the same layers up to `last`
    reference = keras.Model(model.input, [model.get_layer(last).output, model.output])
    return model, reference, top, notop


def max_diff(a, b) -> float:
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b))))


# === ResNet-50/101/152: top and no-top ===

RESNETS = {
    "resnet50": keras.applications.ResNet50,
    "resnet101": keras.applications.ResNet101,
    "resnet152": keras.applications.ResNet152,
}


@pytest.fixture(scope="module")
def made():
    """keras.applications models built in this module, by name: each is built once."""
    made = {}
    yield made
    for name in list(made):
        forget(made, name)


def resnet_files(made, name, tmp_path_factory):
    if name not in made:
        made[name] = keras_files(RESNETS[name], tmp_path_factory, 64, "conv5_block3_out")
    return made[name]


def case(name, keras_model, reference, top, notop) -> dict:
    """What a ResNet's tests compare: keras' model and files, its inputs, c5 and scores."""
    x = preprocess_input(name, images(64))
    expected_c5, expected = (keras.ops.convert_to_numpy(t) for t in reference(x))
    return {
        "name": name,
        "keras": keras_model,
        "top": top,
        "notop": notop,
        "x": x,
        "c5": expected_c5,
        "predictions": expected,
    }


def forget(made, name) -> None:
    """Deletes a network's files and its cached models."""
    _, _, top, _ = made.pop(name)
    shutil.rmtree(top.parent, ignore_errors=True)


# ResNet-101 and -152 files are ResNet-50's layout with more blocks (and 335
# and 456 MB to write): large (helpers.is_large), `make test-slow` loads them.
@pytest.fixture(scope="module", params=recipe_params(RESNETS))
def resnet(request, made, tmp_path_factory):
    name = request.param
    yield case(name, *resnet_files(made, name, tmp_path_factory))
    # The deeper networks' files are 300-450 MB: gone once their tests are
    # done (CI's disk is small); resnet50's serve the error tests below.
    if name != "resnet50":
        forget(made, name)


def assert_top_file_computes_what_keras_computes(case) -> None:
    """A case's `top` file loaded into the recipe: keras' count, c5 and scores."""
    model = build(case["name"], input_shape=(64, 64, 3), features=["c5"], weights=case["top"])
    out = model(case["x"])
    assert model.count_params() == case["keras"].count_params()
    assert max_diff(out["c5"], case["c5"]) <= TOLERANCE
    assert max_diff(out["predictions"], case["predictions"]) <= TOLERANCE


def notop_model(case):
    """The recipe without top, preprocessing inside (raw pixels in), the `notop` file loaded."""
    return build(
        case["name"],
        input_shape=(64, 64, 3),
        include_top=False,
        include_preprocessing=True,
        weights=case["notop"],
    )


def test_resnet_with_top_computes_what_keras_computes(resnet):
    assert_top_file_computes_what_keras_computes(resnet)


def test_resnet_without_top_computes_what_keras_computes(resnet):
    model = notop_model(resnet)
    assert max_diff(model(images(64)), resnet["c5"]) <= TOLERANCE
    # A top-included file loads into a model without top: the classifier is skipped.
    report = load_keras_applications_weights(model, resnet["top"])
    assert report.skipped == ["predictions"]
    assert max_diff(model(images(64)), resnet["c5"]) <= TOLERANCE


# === Inception-ResNet-V2: unnamed layers, numbered from any offset ===


@pytest.fixture(scope="module")
def inception(tmp_path_factory):
    # Layers made earlier in the process shift keras' automatic names, as in
    # a file saved from a session that built something first; conv and BN
    # counters are shifted differently.
    _ = [keras.layers.Conv2D(1, 1) for _ in range(3)] + [
        keras.layers.BatchNormalization() for _ in range(5)
    ]
    files = keras_files(keras.applications.InceptionResNetV2, tmp_path_factory, 75, "conv_7b_ac")
    yield files
    shutil.rmtree(files[2].parent, ignore_errors=True)  # 420 MB


def renumbered(source, target, start: int, reverse: bool) -> None:
    """Copies a legacy file, renaming conv2d_N / batch_normalization_N to count from `start`."""
    with h5py.File(source, "r") as src, h5py.File(target, "w") as dst:
        names = legacy_h5_format.load_attributes_from_hdf5_group(src, "layer_names")
        new_names = {}
        for kind in ("conv2d", "batch_normalization"):
            ours = sorted(
                (
                    n
                    for n in names
                    if n == kind or n.startswith(kind + "_") and n[len(kind) + 1 :].isdigit()
                ),
                key=lambda n: int(n[len(kind) + 1 :] or 0),
            )
            new_names.update({old: f"{kind}_{start + i}" for i, old in enumerate(ours)})
        order = list(reversed(names)) if reverse else names
        legacy_h5_format.save_attributes_to_hdf5_group(
            dst, "layer_names", [new_names.get(n, n).encode() for n in order]
        )
        for name in names:
            group = dst.create_group(new_names.get(name, name))
            weight_names = legacy_h5_format.load_attributes_from_hdf5_group(
                src[name], "weight_names"
            )
            renamed = [
                w.replace(name + "/", new_names.get(name, name) + "/", 1) + ":0"
                for w in weight_names
            ]
            legacy_h5_format.save_attributes_to_hdf5_group(
                group, "weight_names", [w.encode() for w in renamed]
            )
            for old, new in zip(weight_names, renamed):
                group[new] = np.asarray(src[name][old])


def test_inception_resnet_v2_computes_what_keras_computes(inception, tmp_path):
    keras_model, reference, top, _ = inception
    x = preprocess_input("inception_resnet_v2", images(75))
    expected_c5, expected = (keras.ops.convert_to_numpy(t) for t in reference(x))
    first = next(layer.name for layer in keras_model.layers if layer.name.startswith("conv2d"))
    assert first != "conv2d"  # the numbering really is offset

    model = build("inception_resnet_v2", input_shape=(75, 75, 3), features=["c5"], weights=top)
    out = model(x)
    assert model.count_params() == keras_model.count_params()
    assert max_diff(out["c5"], expected_c5) <= TOLERANCE
    assert max_diff(out["predictions"], expected) <= TOLERANCE

    # The same weights numbered from 1 (as Keras 2 named them), with Keras-2
    # array names ("kernel:0") and the layers listed in another order.
    keras2 = tmp_path / "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels.h5"
    renumbered(top, keras2, start=1, reverse=True)
    for variable in model.weights:
        variable.assign(np.zeros(variable.shape, variable.dtype))
    load_keras_applications_weights(model, keras2)
    out = model(x)
    assert max_diff(out["c5"], expected_c5) <= TOLERANCE
    assert max_diff(out["predictions"], expected) <= TOLERANCE


# === Files that do not fit: an error naming the first differences, nothing loaded ===


@pytest.fixture(scope="module")
def resnet50_files(made, tmp_path_factory):
    _, _, top, notop = resnet_files(made, "resnet50", tmp_path_factory)
    return top, notop


@pytest.fixture(scope="module")
def resnet50():
    return build("resnet50", input_shape=(64, 64, 3))


def snapshot(model) -> list[np.ndarray]:
    return [keras.ops.convert_to_numpy(w).copy() for w in model.weights]


def assert_untouched(model, before) -> None:
    assert all(
        np.array_equal(a, keras.ops.convert_to_numpy(w)) for a, w in zip(before, model.weights)
    )


def edited_copy(source, target, edit) -> None:
    shutil.copy(source, target)
    with h5py.File(target, "r+") as f:
        edit(f)


def test_file_of_another_network(resnet50, inception):
    before = snapshot(resnet50)
    with pytest.raises(WeightsError) as error:
        load_keras_applications_weights(resnet50, inception[2])
    message = str(error.value)
    assert "does not fit model 'resnet50', so nothing was loaded" in message
    assert "looks like keras.applications' Inception-ResNet-V2 (with top)" in message
    assert "the model expects 0 unnamed keras layers conv2d_N, the file has 203" in message
    assert_untouched(resnet50, before)


def test_deeper_resnet_file_into_resnet50(resnet50, made, tmp_path_factory):
    _, _, top, _ = resnet_files(made, "resnet101", tmp_path_factory)
    before = snapshot(resnet50)
    with pytest.raises(
        WeightsError, match=r"looks like keras.applications' ResNet-101 \(with top\)"
    ) as error:
        load_keras_applications_weights(resnet50, top)
    assert (
        "102 difference(s), the first:\n  - keras layer 'conv4_block7_1_conv' of the file has no "
        "counterpart in the model" in str(error.value)
    )
    assert_untouched(resnet50, before)
    forget(made, "resnet101")


def test_truncated_file(resnet50, resnet50_files, tmp_path):
    cut = tmp_path / "resnet50_weights_tf_dim_ordering_tf_kernels.h5"
    data = resnet50_files[0].read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    before = snapshot(resnet50)
    with pytest.raises(WeightsError, match="truncated or damaged"):
        load_keras_applications_weights(resnet50, cut)
    with pytest.raises(WeightsError, match="truncated or damaged"):
        build("resnet50", input_shape=(64, 64, 3), weights=cut)
    assert_untouched(resnet50, before)


def test_file_missing_a_layer(resnet50, resnet50_files, tmp_path):
    def drop_last_conv(f):
        names = legacy_h5_format.load_attributes_from_hdf5_group(f, "layer_names")
        del f["conv5_block3_3_conv"]
        del f.attrs["layer_names"]
        legacy_h5_format.save_attributes_to_hdf5_group(
            f, "layer_names", [n.encode() for n in names if n != "conv5_block3_3_conv"]
        )

    path = tmp_path / "missing.h5"
    edited_copy(resnet50_files[0], path, drop_last_conv)
    before = snapshot(resnet50)
    with pytest.raises(WeightsError) as error:
        load_keras_applications_weights(resnet50, path)
    assert "1 difference(s)" in str(error.value)
    assert (
        "keras layer 'conv5_block3_3_conv' (for model layer conv5_block3/conv3/conv) is not in the "
        "file" in str(error.value)
    )
    assert_untouched(resnet50, before)


def test_wrong_shape(resnet50, resnet50_files, tmp_path):
    def shrink_kernel(f):
        group = f["conv1_conv"]
        name = legacy_h5_format.load_attributes_from_hdf5_group(group, "weight_names")[0]
        del group[name]
        group[name] = np.zeros((7, 7, 3, 32), "float32")

    path = tmp_path / "shape.h5"
    edited_copy(resnet50_files[0], path, shrink_kernel)
    with pytest.raises(
        WeightsError,
        match=(
            r"keras layer 'conv1_conv' has kernel \(7, 7, 3, 32\), "
            r"model layer stem/conv1/conv expects \(7, 7, 3, 64\)"
        ),
    ):
        load_keras_applications_weights(resnet50, path)


def test_wrong_class_count_with_top(resnet50, resnet50_files, tmp_path):
    def ten_classes(f):
        group = f["predictions"]
        kernel, bias = legacy_h5_format.load_attributes_from_hdf5_group(group, "weight_names")
        del group[kernel], group[bias]
        group[kernel] = np.zeros((2048, 10), "float32")
        group[bias] = np.zeros((10,), "float32")

    path = tmp_path / "ten_classes.h5"
    edited_copy(resnet50_files[0], path, ten_classes)
    before = snapshot(resnet50)
    with pytest.raises(WeightsError) as error:
        load_keras_applications_weights(resnet50, path)
    assert (
        "keras layer 'predictions' has kernel (2048, 10) (10 classes), model layer "
        "head/predictions "
        "expects (2048, 1000) (1000 classes). Build with num_classes=10 to load it"
    ) in str(error.value)
    assert_untouched(resnet50, before)


def test_notop_file_into_model_with_top(resnet50, resnet50_files):
    with pytest.raises(
        WeightsError,
        match=(
            r"the model has a classifier \(head/predictions\) "
            r"but the file has none \(a `_notop` file\)"
        ),
    ):
        load_keras_applications_weights(resnet50, resnet50_files[1])


def test_other_num_classes_loads_all_but_the_classifier(resnet50_files):
    top, notop = resnet50_files
    with pytest.warns(
        UserWarning, match=r"except its classifier \(predictions\).*keeps its random initialization"
    ):
        model = build("resnet50", input_shape=(64, 64, 3), num_classes=5, weights=top)
    with h5py.File(top, "r") as f:
        name = legacy_h5_format.load_attributes_from_hdf5_group(
            f["conv5_block3_3_conv"], "weight_names"
        )[0]
        expected = np.asarray(f["conv5_block3_3_conv"][name])
    assert np.array_equal(
        keras.ops.convert_to_numpy(model.get_layer("conv5_block3").conv3.conv.kernel), expected
    )
    assert model.output_shape == (None, 5)
    # A _notop file with a new head is the usual fine-tuning start: no warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_keras_applications_weights(model, notop, allow_new_head=True)


def test_network_keras_applications_does_not_have(resnet50_files):
    tiny = {
        "name": "tiny_resnet",
        "input_shape": [32, 32, 3],
        "defaults": {"use_bias": True, "bn_epsilon": 1.001e-5},
        "stem": {"block": "res_net_stem", "filters": 8},
        "stages": [{"name": "conv2", "block": "res_block", "filters": 8}],
    }
    model = build(tiny, include_top=False)
    with pytest.raises(
        WeightsError,
        match=(
            "the first:\n  - model layer conv2 is a ResBlock, "
            "which no keras.applications network has"
        ),
    ):
        load_keras_applications_weights(model, resnet50_files[1])


def test_settings_that_shapes_do_not_show(resnet50_files):
    # torchvision's "ResNet v1.5" strides in the 3x3: same shapes, other function.
    v15 = {
        "name": "resnet_v1_5",
        "input_shape": [64, 64, 3],
        "defaults": {"use_bias": True, "bn_epsilon": 1.001e-5},
        "stem": {"block": "res_net_stem", "filters": 8},
        "stages": [
            {
                "name": "conv2",
                "block": "bottle_neck",
                "filters": 8,
                "strides": 2,
                "stride_at": "3x3",
            }
        ],
    }
    model = build(v15, include_top=False)
    with pytest.raises(
        WeightsError,
        match=(
            r"differences?\(s\), the first:\n  - model layer conv2 has stride_at='3x3', "
            r"keras.applications' has stride_at='1x1'"
        ),
    ):
        load_keras_applications_weights(model, resnet50_files[1])


def test_hdf5_file_of_another_kind(resnet50, tmp_path):
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as f:
        f["x"] = np.zeros(3)
    assert not is_legacy_keras_h5(path)
    with pytest.raises(
        WeightsError, match="HDF5 file without `layer_names`, so not a keras.applications"
    ):
        load_keras_applications_weights(resnet50, path)


def test_own_weights_files_are_not_legacy(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.save_weights(tmp_path / "tiny.weights.h5")
    assert not is_legacy_keras_h5(tmp_path / "tiny.weights.h5")
    assert not is_legacy_keras_h5(tmp_path / "absent.h5")


def test_only_networks_built_by_resblocks(resnet50_files):
    with pytest.raises(TypeError, match="load into a Network built by resblocks"):
        load_keras_applications_weights(
            keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]), resnet50_files[0]
        )


# === ResNet-V2 (pre-activation): top and no-top, and a V1 file refused ===


RESNETS_V2 = {
    "resnet50v2": keras.applications.ResNet50V2,
    "resnet101v2": keras.applications.ResNet101V2,
    "resnet152v2": keras.applications.ResNet152V2,
}


# ResNet-101V2 and -152V2 are ResNet-50V2's layout with more blocks: large, `make test-slow`.
@pytest.fixture(scope="module", params=recipe_params(RESNETS_V2))
def resnet_v2(request, tmp_path_factory):
    # keras' no-top V2 model ends in post_relu: our c5 tap, on the post-norm.
    name = request.param
    files = keras_files(RESNETS_V2[name], tmp_path_factory, 64, "post_relu")
    yield case(name, *files)
    shutil.rmtree(files[2].parent, ignore_errors=True)


def test_resnet_v2_with_top_computes_what_keras_computes(resnet_v2):
    assert_top_file_computes_what_keras_computes(resnet_v2)


def test_resnet_v2_without_top_computes_what_keras_computes(resnet_v2):
    model = notop_model(resnet_v2)
    assert max_diff(model(images(64)), resnet_v2["c5"]) <= TOLERANCE


def test_v1_file_into_v2_recipe(resnet50_files):
    model = build("resnet50v2", input_shape=(64, 64, 3))
    before = snapshot(model)
    with pytest.raises(WeightsError) as error:
        load_keras_applications_weights(model, resnet50_files[0])
    message = str(error.value)
    assert "does not fit model 'resnet50v2', so nothing was loaded" in message
    assert (
        "looks like keras.applications' ResNet-50 (with top), whose recipe is 'resnet50'" in message
    )
    assert (
        "keras layer 'conv2_block1_preact_bn' (for model layer conv2_block1/preact_bn) "
        "is not in the file" in message
    )
    assert_untouched(model, before)


def test_v2_file_into_v1_recipe(resnet50, resnet_v2):
    if resnet_v2["name"] != "resnet50v2":
        pytest.skip("one V2 file is enough to refuse")
    with pytest.raises(
        WeightsError,
        match=(
            r"looks like keras.applications' ResNet-50 V2 \(with top\), "
            r"whose recipe is 'resnet50v2'"
        ),
    ):
        load_keras_applications_weights(resnet50, resnet_v2["top"])
