"""Training from numpy arrays as keras.datasets gives them: the rules, the pipeline, resume."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
from set_files import class_images, write_recipe

from registry.training.arrays import ImageArrays
from registry.training.data import DataError, image_dataset, split_folder
from registry.training.evaluate import evaluate
from registry.training.predict import predict
from registry.training.run import train
from registry.training.rundir import RunDirError, read_history_csv
from registry.training.stops import TrainingInterrupted

NAMES = [f"level {i}" for i in range(10)]


def batches(dataset):
    images, labels = zip(*((np.asarray(x), np.asarray(y)) for x, y in dataset))
    return np.concatenate(images), np.concatenate(labels)


@pytest.mark.parametrize(
    "images, expected_channels",
    [
        (np.zeros((4, 8, 8), np.uint8), 1),
        (np.zeros((4, 8, 8, 1), np.uint8), 1),
        (np.zeros((4, 8, 8, 3), np.uint8), 3),
    ],
    ids=["HW", "HW1", "HW3"],
)
def test_shapes_as_keras_datasets_gives_them(images, expected_channels):
    arrays = ImageArrays.from_arrays(images, np.array([0, 1, 0, 1]))
    assert arrays.images.shape == (4, 8, 8, expected_channels)
    assert arrays.class_names == ("0", "1") and arrays.where == "arrays"


def test_float_pixels_in_0_1_are_scaled_and_in_0_255_kept():
    levels = np.array([0.0, 0.5, 1.0, 0.2], np.float32).reshape(4, 1, 1)
    scaled = ImageArrays.from_arrays(np.broadcast_to(levels, (4, 2, 2)), [0, 1, 0, 1])
    assert scaled.images[:, 0, 0, 0].tolist() == [0, 128, 255, 51]
    kept = ImageArrays.from_arrays(np.full((4, 2, 2), 200.0), [0, 1, 0, 1])
    assert kept.images.max() == 200


def test_labels_as_one_column_are_accepted():
    arrays = ImageArrays.from_arrays(np.zeros((3, 4, 4, 3), np.uint8), np.array([[0], [2], [1]]))
    assert arrays.labels == (0, 2, 1)


@pytest.mark.parametrize(
    "images, labels, message",
    [
        (np.zeros((2, 4, 4)), np.eye(2, dtype=int), r"\(one-hot labels: pass labels.argmax"),
        (np.zeros((2, 4, 4)), np.array([0.0, 1.0]), "must be integers"),
        (np.zeros((2, 4, 4)), np.array([0, 1, 1]), r"shape \(2,\) or \(2, 1\)"),
        (np.full((2, 4, 4), 300.0), np.array([0, 1]), "from 300 to 300"),
        (np.zeros((2, 4, 4, 2)), np.array([0, 1]), r"Received: shape \(2, 4, 4, 2\)"),
        (np.zeros((2, 4, 4), np.int16) - 1, np.array([0, 1]), "pixels must lie in 0-255"),
        (np.zeros((2, 4, 4)), np.array([0, 0]), "a single class"),
    ],
)
def test_arrays_that_break_the_rules_are_refused(images, labels, message):
    with pytest.raises(DataError, match=message):
        ImageArrays.from_arrays(images, labels)


def test_labels_beyond_the_class_names_are_refused():
    with pytest.raises(DataError, match="go up to 2, but 2 class names were given"):
        ImageArrays.from_arrays(np.zeros((3, 4, 4)), [0, 1, 2], class_names=["a", "b"])


def test_grayscale_is_repeated_to_rgb_and_resized_in_the_pipeline():
    x, y = class_images(2, 28)
    arrays = ImageArrays.from_arrays(x, y)
    images, labels = batches(
        image_dataset(arrays, image_size=(28, 28), batch_size=7, shuffle=False)
    )
    assert images.shape == (20, 28, 28, 3) and images.dtype == np.float32
    np.testing.assert_array_equal(images[..., 0], x.astype(np.float32))
    np.testing.assert_array_equal(images[..., 2], images[..., 0])
    np.testing.assert_array_equal(labels, y)
    bigger, _ = batches(image_dataset(arrays, image_size=(32, 32), batch_size=7, shuffle=False))
    assert bigger.shape == (20, 32, 32, 3)


def test_a_split_keeps_every_class_on_both_sides_and_shares_the_arrays():
    x, y = class_images(5, 8)
    train_part, val_part = split_folder(ImageArrays.from_arrays(x, y), 0.2, seed=0)
    assert sorted(set(val_part.labels)) == list(range(10)) and len(val_part) == 10
    assert train_part.images is val_part.images
    images, labels = batches(
        image_dataset(val_part, image_size=(8, 8), batch_size=4, shuffle=False)
    )
    np.testing.assert_array_equal(images[..., 0], x[list(val_part.indices)])
    assert val_part.paths[0] == f"arrays[{val_part.indices[0]}]"


def test_shards_of_a_batch_are_disjoint_and_make_the_whole_batch():
    x, y = class_images(4, 8)
    arrays = ImageArrays.from_arrays(x, y)
    # Each image's identity: its first pixel's level and label are not unique, so mark it.
    marked = arrays.images.copy()
    marked[:, 0, 0, 0] = np.arange(len(marked))
    arrays = ImageArrays.from_arrays(marked, y)
    common = dict(image_size=(8, 8), batch_size=8, shuffle=True, seed=3, cache=False, multiple=2)
    whole = [np.asarray(b)[:, 0, 0, 0] for b, _ in image_dataset(arrays, **common)]
    parts = [
        [np.asarray(b)[:, 0, 0, 0] for b, _ in image_dataset(arrays, shard=(i, 2), **common)]
        for i in (0, 1)
    ]
    for batch, first, second in zip(whole, *parts):
        assert sorted(np.concatenate([first, second]).tolist()) == sorted(batch.tolist())
        assert not set(first.tolist()) & set(second.tolist())


class OneByOne:
    """The same arrays as a source that loads (and caches) each image, as a folder does."""

    def __init__(self, arrays):
        self.arrays = arrays

    def __getattr__(self, name):
        return getattr(self.arrays, name)

    def __len__(self):
        return len(self.arrays)

    def in_memory(self, image_size, fit=None):
        return None


@pytest.mark.parametrize(
    "options",
    [
        dict(shuffle=True, seed=3),
        dict(shuffle=False),
        dict(shuffle=True, seed=4, batch_size=8, multiple=4, shard=(1, 2)),
        dict(shuffle=True, seed=5, channels=1, augment="flip"),
    ],
    ids=["shuffled", "in order", "shard", "augmented grey"],
)
def test_arrays_at_the_input_size_give_the_batches_loading_each_image_gives(options):
    """Arrays that need no resizing skip the per-image load and cache: the same batches, epochs."""
    from registry.recipe.train_spec import AugmentSpec
    from registry.training.augment import augment_images

    x, y = class_images(5, 8)
    arrays = ImageArrays.from_arrays(x, y)
    assert arrays.in_memory((8, 8)) is not None and arrays.in_memory((9, 9)) is None
    if options.get("augment"):
        options["augment"] = augment_images(AugmentSpec(horizontal_flip=True), seed=1)
    common = {"image_size": (8, 8), "batch_size": 16, **options}
    held = image_dataset(arrays, **common)
    first, second = batches(held), batches(held)  # two epochs
    for cache in (True, False):
        loaded = image_dataset(OneByOne(arrays), cache=cache, **common)
        for mine, theirs in zip((first, second), (batches(loaded), batches(loaded))):
            np.testing.assert_array_equal(mine[0], theirs[0])
            np.testing.assert_array_equal(mine[1], theirs[1])
    if options.get("shuffle"):
        assert not np.array_equal(first[1], second[1])  # reshuffled each epoch


def test_the_fingerprint_changes_with_one_pixel():
    x, y = class_images(2, 8)
    one = ImageArrays.from_arrays(x, y).fingerprint()
    assert ImageArrays.from_arrays(x.copy(), y).fingerprint() == one
    x[5, 3, 3] += 1
    assert ImageArrays.from_arrays(x, y).fingerprint() != one


class SigintDuringEpoch(keras.callbacks.Callback):
    """Stops training in the middle of the given (1-based) epoch as SIGINT does.

    It raises what the run's StopOnSignal raises at the end of a step after
    SIGINT; the signal itself is tested in fresh processes (test_callbacks.py,
    test_interruption.py): delivered in the full suite's process, it segfaulted.
    """

    def __init__(self, epoch):
        super().__init__()
        self.at = epoch
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch + 1

    def on_train_batch_end(self, batch, logs=None):
        if self.epoch == self.at and batch == 1:
            raise TrainingInterrupted("SIGINT", self.epoch)


@pytest.fixture(scope="module")
def arrays_run(tmp_path_factory):
    """Arrays trained for one epoch, interrupted in the second, then resumed to the end."""
    root = tmp_path_factory.mktemp("arrays")
    x, y = class_images(6, 28, seed=1)
    x_val, y_val = class_images(2, 28, seed=2)
    recipe = write_recipe(root / "tiny28.yaml")
    run = root / "run"
    common = dict(data=(x, y), val=(x_val, y_val), class_names=NAMES, out=run, epochs=2)
    with pytest.raises(TrainingInterrupted) as stopped:
        train(recipe, callbacks=[SigintDuringEpoch(2)], verbose=0, **common)
    assert "Run the same command again to resume from epoch 2" in str(stopped.value)
    assert json.loads((run / "state.json").read_text())["epoch"] == 1
    history = train(recipe, verbose=1, **common)
    return {"root": root, "run": run, "recipe": recipe, "x": x, "y": y, "history": history}


def test_an_interrupted_arrays_run_resumes(arrays_run):
    assert [row["epoch"] for row in read_history_csv(arrays_run["run"] / "history.csv")] == [1, 2]
    assert len(arrays_run["history"].history["loss"]) == 2


def test_data_json_says_what_trained_and_how_many(arrays_run):
    record = json.loads((arrays_run["run"] / "data.json").read_text())
    assert record["data"] == "arrays" and record["val"] == "arrays"
    assert record["train"]["images"] == 60 and record["validation"]["images"] == 20
    assert record["train"]["source"] == "the arrays given as data"


def test_other_arrays_are_not_resumed(arrays_run):
    x = arrays_run["x"].copy()
    x[0, 0, 0] ^= 1
    x_val, y_val = class_images(2, 28, seed=2)
    with pytest.raises(RunDirError, match="was trained on other training images .* 60 from"):
        train(
            arrays_run["recipe"],
            data=(x, arrays_run["y"]),
            val=(x_val, y_val),
            class_names=NAMES,
            out=arrays_run["run"],
            epochs=3,
            verbose=0,
        )
    assert json.loads((arrays_run["run"] / "state.json").read_text())["epoch"] == 2


def test_class_names_reach_the_saved_model_evaluate_and_predict(arrays_run, tmp_path):
    run = arrays_run["run"]
    assert json.loads((run / "class_names.json").read_text()) == NAMES
    x_val, y_val = class_images(2, 28, seed=2)
    evaluation = evaluate(run, (x_val, y_val))
    assert evaluation.class_names == NAMES and evaluation.counts["level 3"] == 2
    assert evaluation.paths[0] == "the arrays given as data[0]"
    from PIL import Image

    path = tmp_path / "one.png"
    Image.fromarray(x_val[0]).save(path)
    (prediction,) = predict(run, [path])
    assert prediction.top[0].name in NAMES


def test_export_finds_no_validation_images_of_an_arrays_run(arrays_run):
    from registry.deploy.images import run_validation_images

    assert run_validation_images(arrays_run["run"], (28, 28), limit=4) is None


def test_class_names_go_with_arrays_only(tmp_path):
    with pytest.raises(DataError, match="`class_names` names the classes of arrays' labels"):
        train(
            write_recipe(tmp_path / "tiny28.yaml"),
            data="fashion_mnist",
            class_names=NAMES,
            out=tmp_path / "run",
        )
    assert not (tmp_path / "run").exists()


def test_rgb_becomes_its_rounded_luma_and_grey_becomes_rgb():
    from registry.training.decode import to_channels

    rgb = np.array([[[[255, 0, 0], [0, 255, 0], [0, 0, 255], [10, 20, 30]]]], np.uint8)
    grey = np.asarray(to_channels(rgb, 1))
    # ITU-R 601 luma: 0.2989 R + 0.5870 G + 0.1140 B, rounded to whole levels.
    assert grey.dtype == np.uint8 and grey[0, 0, :, 0].tolist() == [76, 150, 29, 18]
    assert np.asarray(to_channels(grey, 3))[0, 0, 1].tolist() == [150, 150, 150]
    assert to_channels(rgb, 3) is rgb


@pytest.fixture(scope="module")
def grey_run(tmp_path_factory):
    """A 1-channel recipe trained for one epoch on grayscale arrays."""
    root = tmp_path_factory.mktemp("grey")
    recipe = write_recipe(root / "grey.yaml")
    text = recipe.read_text().replace("- 28\n- 3\n", "- 28\n- 1\n")
    assert text != recipe.read_text()
    recipe.write_text(text)
    x, y = class_images(3, 28, seed=4)
    train(recipe, data=(x, y), class_names=NAMES, out=root / "run", verbose=0)
    return {"root": root, "run": root / "run", "x": x, "y": y}


def test_a_one_channel_recipe_keeps_grey_images_grey(grey_run):
    model = keras.saving.load_model(grey_run["run"] / "model.keras", safe_mode=True)
    assert model.input_shape == (None, 28, 28, 1)
    evaluation = evaluate(grey_run["run"], (grey_run["x"], grey_run["y"]))
    direct = model.predict(grey_run["x"][..., None].astype("float32"), verbose=0)
    np.testing.assert_allclose(evaluation.probabilities, direct, atol=1e-5)


def test_predict_gives_a_one_channel_model_the_luma_of_a_colour_file(grey_run, tmp_path):
    from PIL import Image

    model = keras.saving.load_model(grey_run["run"] / "model.keras", safe_mode=True)
    colour = np.zeros((28, 28, 3), np.uint8)
    colour[..., 0], colour[..., 2] = 200, 90  # luma: round(0.2989 * 200 + 0.114 * 90) = 70
    Image.fromarray(colour).save(tmp_path / "colour.png")
    (prediction,) = predict(grey_run["run"], [tmp_path / "colour.png"], top=1)
    expected = model.predict(np.full((1, 28, 28, 1), 70.0, "float32"), verbose=0)[0]
    assert prediction.top[0].score == pytest.approx(float(expected.max()), abs=1e-5)


def test_a_one_channel_model_is_not_exported(grey_run, tmp_path):
    from registry import export
    from registry.deploy.errors import ExportError

    with pytest.raises(ExportError, match="takes 1-channel images; exports take RGB"):
        export(grey_run["run"] / "model.keras", tmp_path / "grey_export", format="savedmodel")
    assert not (tmp_path / "grey_export").exists()
