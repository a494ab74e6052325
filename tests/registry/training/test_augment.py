"""The augmentation pipeline: per-image stateless draws in parallel, that repeat from the seed.

Also: the keys that existed before (flips, rotation, shifts, zoom) behave as
they did, and a training run with every augmentation on completes an epoch.
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from helpers import training_recipe, write_image_folder

from registry import load_recipe
from registry.recipe.train_spec import AugmentSpec
from registry.training.augment import augment_images, image_augment, mix_batches
from registry.training.losses import make_loss

EVERYTHING = {
    "horizontal_flip": True,
    "rotation": 10,
    "width_shift": 0.1,
    "zoom": 0.1,
    "random_resized_crop": {"scale": [0.08, 1.0]},
    "random_crop": {"padding": 4},
    "rand_augment": {"num_ops": 2, "magnitude": 9, "magnitude_std": 0.5},
    "color_jitter": 0.4,
    "random_erasing": {"probability": 0.5},
    "mixup": 0.2,
    "cutmix": 1.0,
}


def _half_white(count: int = 4, size: int = 16) -> np.ndarray:
    images = np.zeros((count, size, size, 3), np.uint8)
    images[:, :, : size // 2] = 255
    return images


def _augmented(images, labels, augment: dict, seed: int = 0, batch: int = 4) -> tf.data.Dataset:
    spec = AugmentSpec.model_validate(augment)
    dataset = tf.data.Dataset.from_tensor_slices((images, labels))
    return augment_images(spec, seed)(dataset).batch(batch)


def _batches(dataset) -> list[np.ndarray]:
    return [x.numpy() for x, *_ in dataset]


def test_nothing_enabled_changes_nothing():
    assert image_augment(AugmentSpec()) is None
    assert augment_images(AugmentSpec(rotation=0, width_shift=0.0), seed=3) is None
    dataset = tf.data.Dataset.from_tensors((np.zeros((2, 4, 4, 3)), np.zeros((2, 3))))
    assert mix_batches(dataset, AugmentSpec(horizontal_flip=True), seed=0) is dataset


def test_geometry_runs_per_image_and_leaves_labels_alone():
    images = _half_white(8)
    labels = np.arange(8, dtype=np.int32)
    augment = {"horizontal_flip": True, "rotation": 15, "width_shift": 0.1, "zoom": 0.1}
    out = [(x.numpy(), y.numpy()) for x, y in _augmented(images, labels, augment, batch=8)]
    ((x, y),) = out
    assert x.shape == images.shape and x.dtype == np.float32
    np.testing.assert_array_equal(y, labels)
    # Geometric only, and the edge pixel repeated: no value leaves the input range.
    assert x.min() >= 0.0 and x.max() <= 255.0
    # A draw per image, not one transform for the batch.
    assert len({image.round(3).tobytes() for image in x}) == 8


def test_flip_gives_the_image_or_its_mirror_and_both_occur():
    images = _half_white(16)
    seen = set()
    for x in _batches(_augmented(images, np.zeros(16), {"horizontal_flip": True})):
        for image in x:
            if np.array_equal(image, images[0]):
                seen.add("same")
            elif np.array_equal(image, images[0][:, ::-1]):
                seen.add("mirrored")
            else:
                pytest.fail("a flip must give the image or its exact mirror")
    assert seen == {"same", "mirrored"}


def test_same_seed_same_images_other_pass_or_seed_other_images():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (8, 16, 16, 3), dtype=np.uint8)
    # The per-image draws that are not policies (those are checked on their own, below).
    augment = {
        key: EVERYTHING[key]
        for key in ("horizontal_flip", "random_resized_crop", "random_crop", "random_erasing")
    }
    first = _augmented(images, np.zeros(8), augment, seed=5)
    again = _augmented(images, np.zeros(8), augment, seed=5)
    epoch_1, epoch_2 = _batches(first), _batches(first)
    for a, b in zip(epoch_1, _batches(again)):
        np.testing.assert_array_equal(a, b)
    # Each pass over the data (an epoch) draws anew, and so does another seed.
    assert not np.array_equal(epoch_1[0], epoch_2[0])
    other = _batches(_augmented(images, np.zeros(8), augment, seed=6))
    assert not np.array_equal(epoch_1[0], other[0])


def test_random_crop_offsets_differ_across_a_batch_of_identical_images():
    rng = np.random.default_rng(1)
    image = rng.integers(1, 256, (12, 12, 3), dtype=np.uint8)
    images = np.repeat(image[None], 32, axis=0)
    (x,) = _batches(_augmented(images, np.zeros(32), {"random_crop": {"padding": 4}}, batch=32))
    # 81 possible offsets: 32 images drawing one offset for all would give 1.
    assert len({i.tobytes() for i in x}) >= 20
    # Each is the zero-padded image shifted by whole pixels, as torchvision's.
    padded = np.pad(image, [(4, 4), (4, 4), (0, 0)]).astype(np.float32)
    windows = {padded[i : i + 12, j : j + 12].tobytes() for i in range(9) for j in range(9)}
    assert all(i.tobytes() in windows for i in x)


def test_no_two_batches_get_the_same_transform():
    # Batches mapped in parallel once shared the Keras layers' seed state:
    # about 1 in 200 repeated another batch's transform exactly.
    images = np.random.default_rng(0).integers(0, 256, (4, 16, 16, 3), dtype=np.uint8)
    images = np.tile(images, (75, 1, 1, 1))
    dataset = _augmented(images, np.zeros(300), {"rotation": 15, "width_shift": 0.1}, batch=4)
    seen = {x.round(3).tobytes() for x in _batches(dataset)}
    assert len(seen) == 75


@pytest.mark.parametrize(
    "augment",
    [
        {"trivial_augment": True},
        {"rand_augment": {"num_ops": 2, "magnitude": 10}},
        {"color_jitter": 0.4, "random_resized_crop": True},
    ],
)
def test_policies_keep_the_shape_and_the_pixel_range(augment):
    images = np.random.default_rng(2).integers(0, 256, (6, 16, 16, 3), dtype=np.uint8)
    (x,) = _batches(_augmented(images, np.zeros(6), augment, batch=6))
    assert x.shape == images.shape
    assert x.min() >= 0.0 and x.max() <= 255.0
    assert not np.array_equal(x, images.astype(np.float32))


def test_grey_images_keep_one_channel():
    images = np.random.default_rng(3).integers(0, 256, (4, 16, 16, 1), dtype=np.uint8)
    augment = {"trivial_augment": True, "color_jitter": 0.4, "random_erasing": True}
    (x,) = _batches(_augmented(images, np.zeros(4), augment))
    assert x.shape == (4, 16, 16, 1)


def test_with_mixing_the_loss_takes_the_smoothing_from_the_targets():
    recipe = training_recipe(label_smoothing=0.1, augment={"mixup": 0.2})
    assert make_loss(load_recipe(recipe).train).label_smoothing == 0.0
    recipe = training_recipe(label_smoothing=0.1)
    assert make_loss(load_recipe(recipe).train).label_smoothing == pytest.approx(0.1)
    bce = training_recipe(label_smoothing=0.1, loss="bce", augment={"cutmix": 1.0})
    assert make_loss(load_recipe(bce).train).smoothing == 0.0


@pytest.mark.slow  # a run: about 30 s on a busy CPU
def test_an_epoch_trains_with_everything_on(tmp_path):
    from registry.training.run import train

    data = write_image_folder(tmp_path / "data", 4, seed=1)
    recipe = training_recipe(epochs=1, label_smoothing=0.1, augment=EVERYTHING)
    history = train(recipe, data=data, out=tmp_path / "run", verbose=0)
    assert len(history.history["loss"]) == 1
    assert np.isfinite(history.history["loss"][0])


def test_a_run_from_before_the_new_keys_resumes_and_a_changed_one_does_not(tmp_path):
    import yaml

    from registry.training import rundir
    from registry.training.run import check_same_run, recipe_yaml, resolve_spec
    from registry.training.rundir import RunDir, RunDirError

    def resolved(raw):  # the recipe as a run records it: every train key filled in
        recipe = load_recipe(raw)
        return load_recipe({**recipe.raw, "train": resolve_spec(recipe).model_dump(mode="json")})

    now = resolved(training_recipe())
    old = yaml.safe_load(recipe_yaml(now))
    # The train.augment section as runs wrote it before random_resized_crop & co.
    old["train"]["augment"] = {
        key: old["train"]["augment"][key]
        for key in ("horizontal_flip", "vertical_flip", "rotation", "width_shift")
        + ("height_shift", "zoom")
    }
    run = RunDir(tmp_path)
    (tmp_path / rundir.RECIPE).write_text(yaml.safe_dump(old), encoding="utf-8")
    check_same_run(run, now)
    changed = resolved(training_recipe(augment={"horizontal_flip": True, "mixup": 0.2}))
    with pytest.raises(RunDirError, match="train.augment.mixup: None in the run, 0.2 now"):
        check_same_run(run, changed)
