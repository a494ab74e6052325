"""Tests of the augmentation stack: the layers each argument gives, and running in tf.data."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from registry.training.augment import augment_dataset, augmentation


def _half_white(batch: int = 4, size: int = 16) -> np.ndarray:
    images = np.zeros((batch, size, size, 3), np.float32)
    images[:, :, : size // 2] = 255.0
    return images


def test_nothing_enabled_gives_none():
    assert augmentation() is None
    assert augmentation(rotation=0, width_shift=0.0, seed=3) is None


def test_cifar_recipe_layers_and_factors():
    stack = augmentation(horizontal_flip=True, rotation=15, width_shift=0.1, height_shift=0.1)
    assert isinstance(stack, keras.Sequential) and stack.name == "augmentation"
    flip, rotation, translation = stack.layers
    assert isinstance(flip, keras.layers.RandomFlip) and flip.mode == "horizontal"
    assert isinstance(rotation, keras.layers.RandomRotation)
    # 15 degrees as a fraction of a full turn.
    assert rotation.factor == pytest.approx((-15 / 360, 15 / 360))
    assert rotation.fill_mode == "nearest"
    assert isinstance(translation, keras.layers.RandomTranslation)
    assert translation.width_factor == 0.1 and translation.height_factor == 0.1


@pytest.mark.parametrize(
    "horizontal, vertical, mode",
    [
        (True, False, "horizontal"),
        (False, True, "vertical"),
        (True, True, "horizontal_and_vertical"),
    ],
)
def test_flip_modes(horizontal, vertical, mode):
    (flip,) = augmentation(horizontal_flip=horizontal, vertical_flip=vertical).layers
    assert flip.mode == mode


def test_zoom_keeps_aspect_and_seeds_differ_per_layer():
    stack = augmentation(horizontal_flip=True, zoom=0.2, seed=10)
    flip, zoom = stack.layers
    assert isinstance(zoom, keras.layers.RandomZoom)
    assert zoom.height_factor == 0.2 and zoom.width_factor is None
    assert flip.seed != zoom.seed


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (
            {"rotation": -5},
            "`rotation` must be a number from 0 to at most 180 \\(degrees, e.g. 15\\)"
            ".*Received: rotation=-5",
        ),
        ({"rotation": 200}, "Received: rotation=200"),
        (
            {"width_shift": 1.0},
            "`width_shift` must be a number from 0 to below 1.*Received: width_shift=1.0",
        ),
        ({"height_shift": "0.1"}, "Received: height_shift='0.1'"),
        ({"zoom": True}, "Received: zoom=True"),
        (
            {"horizontal_flip": 1},
            "`horizontal_flip` must be True or False. Received: horizontal_flip=1",
        ),
        ({"seed": 1.5}, "`seed` must be an int or None. Received: seed=1.5"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        augmentation(**kwargs)


def test_arguments_are_keyword_only():
    with pytest.raises(TypeError):
        augmentation(True)


def test_runs_on_batches_in_tf_data_and_leaves_labels_alone():
    images = _half_white()
    labels = np.arange(4, dtype=np.int32)
    dataset = tf.data.Dataset.from_tensors((images, labels)).repeat(3)
    stack = augmentation(
        horizontal_flip=True, rotation=15, width_shift=0.1, height_shift=0.1, zoom=0.1, seed=0
    )
    out = [(x.numpy(), y.numpy()) for x, y in augment_dataset(dataset, stack)]
    assert len(out) == 3
    for x, y in out:
        assert x.shape == images.shape and x.dtype == np.float32
        np.testing.assert_array_equal(y, labels)
        # Geometric only, and "nearest" fill: no value leaves the input range.
        assert x.min() >= 0.0 and x.max() <= 255.0
    # A new draw per batch and per image, not one transform for everything.
    assert not np.allclose(out[0][0], out[1][0])
    assert not np.allclose(out[0][0][0], out[0][0][1])


def test_flip_gives_the_image_or_its_mirror_and_both_occur():
    images = _half_white(batch=8)
    dataset = tf.data.Dataset.from_tensors((images, np.zeros(8, np.int32))).repeat(4)
    seen = set()
    for x, _ in augment_dataset(dataset, augmentation(horizontal_flip=True, seed=0)):
        for image in x.numpy():
            if np.array_equal(image, images[0]):
                seen.add("same")
            elif np.array_equal(image, images[0][:, ::-1]):
                seen.add("mirrored")
            else:
                pytest.fail("a flip must give the image or its exact mirror")
    assert seen == {"same", "mirrored"}


def test_none_leaves_the_dataset_as_is():
    dataset = tf.data.Dataset.from_tensors((_half_white(), np.zeros(4, np.int32)))
    assert augment_dataset(dataset, None) is dataset


def test_no_two_batches_get_the_same_transform():
    # Batches mapped in parallel once shared the layers' seed state: about
    # 1 in 200 repeated another batch's transform exactly.
    images = np.random.default_rng(0).uniform(0, 255, (4, 16, 16, 3)).astype("float32")
    dataset = tf.data.Dataset.from_tensors((images, np.zeros(4, np.int32))).repeat(300)
    stack = augmentation(rotation=15, width_shift=0.1, seed=0)
    seen = {x.numpy().round(3).tobytes() for x, _ in augment_dataset(dataset, stack)}
    assert len(seen) == 300
