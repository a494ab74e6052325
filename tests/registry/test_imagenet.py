"""ImageNet labels ship with the package.

decode_predictions and `resblocks predict` match keras.applications.
"""

import hashlib
import json
import shutil

import h5py
import keras
import numpy as np
import pytest
from keras.src.applications import imagenet_utils
from keras.src.legacy.saving import legacy_h5_format
from PIL import Image

from registry import build, decode_predictions
from registry.cli import main
from registry.pretrained.imagenet import (
    CLASS_INDEX_FILE,
    imagenet_class_index,
    imagenet_class_names,
)
from registry.training.predict_pretrained import load_images

# The md5 keras.applications checks when it downloads imagenet_class_index.json
# (`file_hash` in keras/src/applications/imagenet_utils.py).
KERAS_CLASS_INDEX_MD5 = "c2c37ea517e94d9795004a39431a14cb"


@pytest.fixture
def keras_class_index(monkeypatch):
    """keras' own decode_predictions, given the shipped file instead of a download."""
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX", json.loads(CLASS_INDEX_FILE.read_text()))


def test_class_index_is_keras_file():
    assert hashlib.md5(CLASS_INDEX_FILE.read_bytes()).hexdigest() == KERAS_CLASS_INDEX_MD5
    index = imagenet_class_index()
    assert len(index) == 1000 and sorted(index) == list(range(1000))
    assert index[0] == ("n01440764", "tench")
    assert index[386] == ("n02504458", "African_elephant")
    assert index[999] == ("n15075141", "toilet_tissue")
    assert imagenet_class_names()[386] == "African_elephant"


def test_decode_predictions_matches_keras(keras_class_index):
    preds = np.random.default_rng(0).dirichlet(np.ones(1000), size=3).astype("float32")
    ours = decode_predictions(preds, top=5)
    assert ours == imagenet_utils.decode_predictions(preds, top=5)
    assert [len(rows) for rows in ours] == [5, 5, 5]
    best = ours[0][0]
    assert best.class_index == int(np.argmax(preds[0]))
    assert (best.class_id, best.name) == imagenet_class_index()[best.class_index]


def test_decode_predictions_rejects_other_shapes():
    with pytest.raises(
        ValueError,
        match=r"a 2D array of shape \(samples, 1000\)\. Received array with shape: \(2, 10\)",
    ):
        decode_predictions(np.zeros((2, 10)))
    with pytest.raises(ValueError, match=r"Received array with shape: \(1000,\)"):
        decode_predictions(np.zeros(1000))
    with pytest.raises(
        ValueError,
        match="Invalid value received for argument `top`: expected 1 to 1000. Received: top=0",
    ):
        decode_predictions(np.zeros((1, 1000)), top=0)


def write_images(folder, size=(40, 30)) -> list[str]:
    rng = np.random.default_rng(3)
    paths = []
    for i, mode in enumerate(("RGB", "L", "RGBA")):
        pixels = rng.integers(
            0, 256, (size[1], size[0], {"RGB": 3, "L": 1, "RGBA": 4}[mode]), dtype="uint8"
        )
        path = folder / f"image{i}.png"
        Image.fromarray(pixels.squeeze(), mode).save(path)
        paths.append(str(path))
    return paths


def test_load_images_as_keras_load_img(tmp_path):
    paths = write_images(tmp_path)
    ours = load_images(paths, (24, 24))
    theirs = np.stack(
        [keras.utils.img_to_array(keras.utils.load_img(p, target_size=(24, 24))) for p in paths]
    )
    assert ours.shape == (3, 24, 24, 3) and ours.dtype == np.float32
    np.testing.assert_array_equal(ours, theirs)
    not_an_image = tmp_path / "notes.txt"
    not_an_image.write_text("hello")
    with pytest.raises(ValueError, match="notes.txt is not an image file PIL can read"):
        load_images([str(not_an_image)], (24, 24))
    with pytest.raises(FileNotFoundError, match="Image not found"):
        load_images([str(tmp_path / "absent.png")], (24, 24))


# === `resblocks predict`: the Inception-ResNet-V2 article's flow, with ResNet-50 ===


@pytest.fixture(scope="module")
def resnet50_imagenet(tmp_path_factory):
    """A keras.applications ResNet-50 with random weights, saved as its ImageNet files are."""
    model = keras.applications.ResNet50(weights=None)
    rng = np.random.default_rng(5)
    # Larger random classifier weights, so that the top-5 is well separated.
    dense = model.get_layer("predictions")
    dense.set_weights(
        [rng.normal(0, 0.05, dense.kernel.shape).astype("float32"), np.zeros(1000, "float32")]
    )
    folder = tmp_path_factory.mktemp("keras_models")
    top, notop = (
        folder / "resnet50_weights_tf_dim_ordering_tf_kernels.h5",
        folder / "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
    )
    with h5py.File(top, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, model)
    with h5py.File(notop, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(
            f, keras.Model(model.input, model.get_layer("conv5_block3_out").output)
        )
    yield model, top, notop
    shutil.rmtree(folder, ignore_errors=True)  # 190 MB: CI's disk is small


def test_predict_prints_keras_top5(resnet50_imagenet, tmp_path, capsys, keras_class_index):
    model, top, _ = resnet50_imagenet
    paths = write_images(tmp_path, size=(300, 250))
    # keras.applications, as in the article: load_img, preprocess_input, predict,
    # decode_predictions.
    x = np.stack(
        [keras.utils.img_to_array(keras.utils.load_img(p, target_size=(224, 224))) for p in paths]
    )
    expected = imagenet_utils.decode_predictions(
        model.predict(keras.applications.resnet50.preprocess_input(x), verbose=0)
    )

    assert main(["predict", "--model", "resnet50", "--weights", str(top), "--json", *paths]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert [item["image"] for item in printed] == paths
    for item, rows in zip(printed, expected):
        assert [(r["class_id"], r["name"]) for r in item["predictions"]] == [
            (wnid, name) for wnid, name, _ in rows
        ]
        assert (
            max(abs(r["score"] - float(s)) for r, (_, _, s) in zip(item["predictions"], rows))
            <= 1e-4
        )


def test_predict_with_a_notop_file_fails(resnet50_imagenet, tmp_path, capsys):
    _, _, notop = resnet50_imagenet
    paths = write_images(tmp_path)
    assert main(["predict", "--model", "resnet50", "--weights", str(notop), paths[0]]) == 2
    assert (
        "the model has a classifier (head/predictions) but the file has none (a `_notop` file)"
        in capsys.readouterr().err
    )


def test_predict_with_a_saved_model(tmp_path, capsys):
    tiny = {
        "name": "tiny",
        "input_shape": [32, 32, 3],
        "preprocessing": "rescale",
        "stem": {"block": "res_net_stem", "filters": 8},
        "stages": [{"name": "conv2", "block": "res_block", "filters": 8}],
        "head": {"block": "classifier", "num_classes": 3},
    }
    path = tmp_path / "tiny.keras"
    build(tiny).save(path)
    paths = write_images(tmp_path)
    assert main(["predict", str(path), *paths, "--top", "2", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert len(printed) == 3 and all(len(item["predictions"]) == 2 for item in printed)
    assert {r["name"] for item in printed for r in item["predictions"]} <= {"0", "1", "2"}
    assert main(["predict", str(path), paths[0], "--top", "2"]) == 0
    [line] = (
        capsys.readouterr().out.splitlines()
    )  # one line per image: path, then label-score pairs
    image, *pairs = line.split("  ")
    assert image == paths[0] and len(pairs) == 4 and set(pairs[0::2]) <= {"0", "1", "2"}
    assert main(["predict", paths[0]]) == 2
    assert "Give a saved model and images" in capsys.readouterr().err
