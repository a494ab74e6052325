"""Weights and model files: every bad file gives a WeightsError naming what differs.

The model is left untouched.
"""

import copy
import warnings

import h5py
import keras
import numpy as np
import pytest
from helpers import tiny_recipe

from registry import WeightsError, build, load_model, load_weights

# At 8x8, with two blocks in its first stage.
TINY = tiny_recipe(**{"input_shape": [8, 8, 3], "stages.0.repeats": 2})


def tiny_model(**overrides):
    return build(copy.deepcopy(TINY), overrides=overrides)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A tiny model and the files it was saved to: .weights.h5 and .keras."""
    folder = tmp_path_factory.mktemp("saved")
    model = tiny_model()
    model.save_weights(folder / "tiny.weights.h5")
    model.save(folder / "tiny.keras")
    return model, folder


def snapshot(model):
    return [w.copy() for w in model.get_weights()]


def assert_unchanged(model, before):
    after = model.get_weights()
    assert len(after) == len(before) and all(np.array_equal(a, b) for a, b in zip(after, before))


def refused(model, path, *fragments, **kwargs) -> str:
    """load_weights raises a WeightsError holding each fragment, and leaves `model` as it was."""
    before = snapshot(model)
    with pytest.raises(WeightsError) as info:
        load_weights(model, path, **kwargs)
    message = str(info.value)
    for fragment in (str(path), *fragments):
        assert fragment in message, f"{fragment!r} not in:\n{message}"
    assert_unchanged(model, before)
    return message


@pytest.mark.parametrize("name", ["tiny.weights.h5", "tiny.keras"])
def test_a_matching_file_loads_every_weight(saved, name):
    source, folder = saved
    model = tiny_model()
    load_weights(model, folder / name)
    assert_unchanged(model, source.get_weights())


def test_a_keras_3_weights_file_loads_whatever_its_name(saved, tmp_path):
    source, folder = saved
    renamed = tmp_path / "best.h5"
    renamed.write_bytes((folder / "tiny.weights.h5").read_bytes())
    model = tiny_model()
    load_weights(model, renamed)
    assert_unchanged(model, source.get_weights())


def test_build_loads_weights(saved):
    source, folder = saved
    assert_unchanged(
        build(copy.deepcopy(TINY), weights=folder / "tiny.weights.h5"), source.get_weights()
    )


def compiled(model):
    model.compile("adam", "categorical_crossentropy")
    model.optimizer.build(model.trainable_variables)
    return model


def test_a_compiled_model_gets_its_optimizer_state_back(tmp_path):
    trained = compiled(tiny_model())
    trained.optimizer.iterations.assign(7)  # as if trained for 7 steps
    trained.save_weights(tmp_path / "trained.weights.h5")
    model = compiled(tiny_model())
    load_weights(model, tmp_path / "trained.weights.h5")
    assert int(model.optimizer.iterations.numpy()) == 7
    assert_unchanged(model, trained.get_weights())
    other = compiled(tiny_model(**{"head.num_classes": 4}))
    refused(
        other,
        tmp_path / "trained.weights.h5",
        "variable 'head/predictions/kernel' has shape (8, 4) in the model",
    )
    assert int(other.optimizer.iterations.numpy()) == 0


def test_another_class_count_names_the_head_variable(saved):
    _, folder = saved
    refused(
        tiny_model(**{"head.num_classes": 5}),
        folder / "tiny.weights.h5",
        "into model 'tiny': the file was saved from another architecture",
        "variable 'head/predictions/kernel' has shape (8, 5) in the model but (8, 3) in the file",
        "The model has 42 weight arrays (in 17 layers and sublayers); the file has 42 (in 17)",
        "num_classes",
        "The model was left unchanged",
    )


def test_allow_new_head_loads_all_but_the_head(saved):
    source, folder = saved
    model = tiny_model(**{"head.num_classes": 5})
    head = snapshot(model.get_layer("head"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load_weights(model, folder / "tiny.weights.h5", allow_new_head=True)
    assert any("except its head" in str(w.message) for w in caught)
    assert_unchanged(model.get_layer("head"), head)
    assert_unchanged(model.get_layer("layer2"), source.get_layer("layer2").get_weights())


# (file, overrides of the model, what the error says first, then): other
# widths name the first variable that differs, more blocks than the file
# name the missing layer, and fewer are not a silent partial load.
WIDER = {"stages.1.filters": 16}
WIDER_SAYS = "variable 'layer2/conv1/bn/gamma' has shape (16,) in the model but (8,) in the file."
LAYOUT_DIFFERENCES = {
    "other_widths_h5": ("tiny.weights.h5", WIDER, WIDER_SAYS, "more differences follow"),
    "other_widths_keras": ("tiny.keras", WIDER, WIDER_SAYS, "more differences follow"),
    "more_blocks": (
        "tiny.weights.h5",
        {"stages.1.repeats": 2},
        "the file has no weights for layer 'layer2_block2'",
        "The model has 52 weight arrays (in 21 layers and sublayers); the file has 42 (in 17)",
    ),
    "fewer_blocks": (
        "tiny.weights.h5",
        {"stages.0.repeats": 1},
        "variable 'layer2/conv1/bn/gamma' has shape (8,) in the model but (4,) in the file, where "
        "it holds layer1_block2/conv1/bn",
        "The model has 32 weight arrays (in 13 layers and sublayers); the file has 42 (in 17)",
    ),
}


@pytest.mark.parametrize("case", LAYOUT_DIFFERENCES)
def test_a_file_of_another_layout_names_the_first_difference(saved, case):
    file, overrides, first, then = LAYOUT_DIFFERENCES[case]
    _, folder = saved
    refused(tiny_model(**overrides), folder / file, first, then)


@pytest.mark.parametrize(
    "name, says",
    [
        ("tiny.weights.h5", "the HDF5 file is truncated or damaged"),
        ("tiny.keras", "the .keras archive is truncated or damaged"),
    ],
)
def test_a_truncated_file_is_refused(saved, tmp_path, name, says):
    _, folder = saved
    data = (folder / name).read_bytes()
    path = tmp_path / f"cut_{name}"
    path.write_bytes(data[: len(data) // 2])
    size = [f"{len(data) // 2:,} bytes on disk"] if name.endswith(".h5") else []
    refused(tiny_model(), path, says, *size, "save or copy it again")


def test_a_flipped_byte_in_a_keras_archive_is_caught_by_its_checksum(saved, tmp_path):
    _, folder = saved
    data = bytearray((folder / "tiny.keras").read_bytes())
    data[len(data) // 2] ^= 0xFF
    path = tmp_path / "flipped.keras"
    path.write_bytes(bytes(data))
    refused(tiny_model(), path, "the .keras archive is corrupt", "fails its checksum")


def test_nan_weights_are_refused_naming_the_variable(saved, tmp_path):
    _, folder = saved
    path = tmp_path / "nan.weights.h5"
    path.write_bytes((folder / "tiny.weights.h5").read_bytes())
    with h5py.File(path, "a") as f:
        data = f["layers/res_block_2/conv2/conv/vars/0"]
        values = data[()]
        values[0, 0, 0, 0] = np.nan
        data[...] = values
    refused(
        tiny_model(),
        path,
        "variable 'layer2/conv2/conv/kernel' holds NaN or infinite values",
        "earlier checkpoint",
    )


def test_a_file_that_is_not_hdf5_is_refused(tmp_path):
    path = tmp_path / "notes.weights.h5"
    path.write_text("these are not weights")
    refused(
        tiny_model(),
        path,
        "not a weights file",
        "neither HDF5 (.weights.h5) nor a .keras archive",
        "b'these ar'",
    )


def test_an_hdf5_file_that_is_not_keras_weights_is_refused(tmp_path):
    path = tmp_path / "data.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("images", data=np.zeros(3))
    refused(tiny_model(), path, "an HDF5 file, but not Keras weights: its top level holds images")


def test_a_zip_that_is_not_a_keras_model_is_refused(tmp_path):
    import zipfile

    path = tmp_path / "photos.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.txt", "hello")
    refused(
        tiny_model(),
        path,
        "a zip archive, but not a Keras model: it lacks config.json, model.weights.h5",
    )


def test_a_keras_2_weights_file_is_refused_without_touching_the_model(tmp_path):
    path = tmp_path / "legacy.h5"
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = [b"conv1"]
        f.create_group("conv1").attrs["weight_names"] = [b"conv1/kernel:0"]
        f["conv1"].create_dataset("conv1/kernel:0", data=np.zeros((7, 7, 3, 64), "float32"))
    refused(tiny_model(), path)


@pytest.mark.parametrize(
    "name, fragment", [("missing.weights.h5", "no such file"), ("", "this is a directory")]
)
def test_a_missing_file_or_a_directory_is_refused(tmp_path, name, fragment):
    refused(tiny_model(), tmp_path / name, fragment)


def test_an_empty_file_is_refused(tmp_path):
    path = tmp_path / "empty.weights.h5"
    path.touch()
    refused(tiny_model(), path, "the file is empty (0 bytes)")


# === load_model ===


def test_load_model_round_trips(saved):
    source, folder = saved
    model = load_model(folder / "tiny.keras")
    assert_unchanged(model, source.get_weights())


def refusal(path) -> str:
    """What `load_model` says when it refuses `path`."""
    with pytest.raises(WeightsError) as info:
        load_model(path)
    return str(info.value)


def test_load_model_refuses_code_in_safe_mode(tmp_path):
    inputs = keras.Input((4,))
    lambda_model = keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2)(inputs))
    path = tmp_path / "lambda.keras"
    lambda_model.save(path)
    message = refusal(path)
    assert str(path) in message and "holds Python code" in message
    assert "safe_mode=True" in message
    assert "load_model(path, safe_mode=False) only if you trust" in message


def test_load_model_names_an_unregistered_class(tmp_path):
    @keras.saving.register_keras_serializable(package="reliability_test")
    class Doubler(keras.layers.Layer):
        def call(self, x):
            return 2 * x

    inputs = keras.Input((4,))
    path = tmp_path / "doubler.keras"
    keras.Model(inputs, Doubler()(inputs)).save(path)
    keras.saving.get_custom_objects().pop("reliability_test>Doubler")
    message = refusal(path)
    assert str(path) in message and "allow_plugins=True" in message
    assert (
        "uses the class 'Doubler' (saved as 'reliability_test>Doubler'), which is not registered"
        in message
    )


def test_load_model_of_a_weights_file_says_to_build_first(saved):
    _, folder = saved
    with pytest.raises(WeightsError) as info:
        load_model(folder / "tiny.weights.h5")
    assert "is a weights file (Keras 3 .weights.h5), which holds no architecture" in str(info.value)
    assert "build(recipe, weights=path)" in str(info.value)


def test_load_model_of_a_truncated_archive_is_refused(saved, tmp_path):
    _, folder = saved
    data = (folder / "tiny.keras").read_bytes()
    path = tmp_path / "cut.keras"
    path.write_bytes(data[:1000])
    with pytest.raises(WeightsError, match="truncated or damaged"):
        load_model(path)
