"""Random image augmentation for training, built from Keras preprocessing layers and run in the tf.data pipeline.

Where it runs: in `tf.data`, on CPU, on whole batches (`augment_dataset`),
not as layers at the front of the network. Why: the saved `.keras` model
then holds the network alone, so evaluation, prediction and export need no
care about a training flag, and the file reloads with `safe_mode=True` like
any other; augmenting a batch at a time costs one op launch per batch, and
`prefetch` overlaps it with the training step. The price is that
augmentation does not run on the accelerator, which for flips, small
rotations and shifts of 224x224 images is cheap next to a ResNet step.

The arguments mirror Keras' old `ImageDataGenerator`, which the article's
users had: `rotation=15, width_shift=0.1, height_shift=0.1,
horizontal_flip=True` is its CIFAR recipe. Pixels pulled in from outside the
image repeat the nearest edge pixel (`fill_mode="nearest"`), as
`ImageDataGenerator` did by default.
"""

from __future__ import annotations

import keras
import tensorflow as tf

_FILL_MODE = "nearest"


def augmentation(
    *,
    horizontal_flip: bool = False,
    vertical_flip: bool = False,
    rotation: float = 0.0,
    width_shift: float = 0.0,
    height_shift: float = 0.0,
    zoom: float = 0.0,
    seed: int | None = None,
) -> keras.Sequential | None:
    """Build the augmentation stack, or None when nothing is enabled.

    Args:
        horizontal_flip: bool. Mirror left-right with probability 1/2.
        vertical_flip: bool. Mirror top-bottom with probability 1/2.
        rotation: float. Rotate by a uniform angle in
            [-rotation, rotation] degrees, 0 to 180.
        width_shift: float. Shift left-right by a uniform fraction of the
            width in [-width_shift, width_shift], 0 to below 1.
        height_shift: float. Shift up-down likewise, as a fraction of the
            height.
        zoom: float. Zoom in or out by a uniform fraction in [-zoom, zoom],
            0 to below 1, the same on both axes so shapes keep their aspect.
        seed: int or None. Base seed; each layer gets its own (seed + i),
            so a flip and a rotation do not draw the same numbers.

    Returns:
        A `keras.Sequential` named "augmentation" of the enabled layers, in
        the order flip, rotation, translation, zoom; or None.
    """
    _check_flag("horizontal_flip", horizontal_flip)
    _check_flag("vertical_flip", vertical_flip)
    _check_range("rotation", rotation, 0.0, 180.0, "degrees, e.g. 15", include_high=True)
    _check_range("width_shift", width_shift, 0.0, 1.0, "a fraction of the width, e.g. 0.1")
    _check_range("height_shift", height_shift, 0.0, 1.0, "a fraction of the height, e.g. 0.1")
    _check_range("zoom", zoom, 0.0, 1.0, "a fraction, e.g. 0.1 for 90% to 110%")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise ValueError(f"Argument `seed` must be an int or None. Received: seed={seed!r}")

    def seed_of(i: int) -> int | None:
        return None if seed is None else seed + i

    layers = []
    if horizontal_flip or vertical_flip:
        mode = {(True, False): "horizontal", (False, True): "vertical"}.get(
            (horizontal_flip, vertical_flip), "horizontal_and_vertical"
        )
        layers.append(keras.layers.RandomFlip(mode, seed=seed_of(0)))
    if rotation:
        # Keras takes the angle as a fraction of a full turn (2 pi): a factor
        # of f rotates by up to f * 360 degrees, so 15 degrees is 15 / 360.
        layers.append(
            keras.layers.RandomRotation(rotation / 360.0, fill_mode=_FILL_MODE, seed=seed_of(1))
        )
    if width_shift or height_shift:
        layers.append(
            keras.layers.RandomTranslation(
                height_shift, width_shift, fill_mode=_FILL_MODE, seed=seed_of(2)
            )
        )
    if zoom:
        # width_factor=None: the same zoom on both axes.
        layers.append(keras.layers.RandomZoom(zoom, fill_mode=_FILL_MODE, seed=seed_of(3)))
    if not layers:
        return None
    return keras.Sequential(layers, name="augmentation")


def augment_dataset(dataset: tf.data.Dataset, augmenter: keras.Sequential | None) -> tf.data.Dataset:
    """Apply `augmenter` to the images of a batched `(images, labels)` dataset; labels pass through.

    The layers are called one by one rather than through the Sequential:
    each Keras preprocessing layer knows how to run inside tf.data whatever
    the Keras backend, which a Sequential around them does not promise.
    """
    if augmenter is None:
        return dataset
    layers = list(augmenter.layers)

    def apply(images, labels):
        for layer in layers:
            images = layer(images, training=True)
        return images, labels

    return dataset.map(apply, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def _check_flag(name: str, value) -> None:
    if not isinstance(value, bool):
        raise ValueError(f"Argument `{name}` must be True or False. Received: {name}={value!r}")


def _check_range(
    name: str, value, low: float, high: float, unit: str, include_high: bool = False
) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    ok = ok and low <= value and (value <= high if include_high else value < high)
    if not ok:
        upper = f"at most {high:g}" if include_high else f"below {high:g}"
        raise ValueError(
            f"Argument `{name}` must be a number from {low:g} to {upper} ({unit}); "
            f"0 turns it off. Received: {name}={value!r}"
        )
