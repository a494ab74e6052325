"""Per-image random geometry, crops and erasing, drawn with stateless TensorFlow ops.

Each function takes one float32 image `(height, width, channels)` in
[0, 255] and a `seed`, an int64 tensor of shape (2,), and draws every random
number with `tf.random.stateless_*` from it: the same seed gives the same
transform, in any order and on any thread, which is what lets the pipeline
map images in parallel and still repeat from the recipe's seed
(`registry.training.augment`). `fold(seed, i)` gives op i its own stream.

The draws follow torchvision's and timm's code step by step (named in each
docstring), so a recipe's numbers mean what they mean there.
"""

from __future__ import annotations

import math

import tensorflow as tf

# ImageNet's channel mean and standard deviation (timm's IMAGENET_DEFAULT_*),
# in [0, 1]; a one-channel image takes their averages.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def fold(seed: tf.Tensor, i: int) -> tf.Tensor:
    """A new seed for draw `i` from `seed`: independent streams for independent draws."""
    return tf.random.experimental.stateless_fold_in(seed, i)


def uniform(seed: tf.Tensor, shape=(), low=0.0, high=1.0) -> tf.Tensor:
    """float32 uniform in [low, high)."""
    return tf.random.stateless_uniform(shape, seed, minval=low, maxval=high, dtype=tf.float32)


def randint(seed: tf.Tensor, low, high) -> tf.Tensor:
    """int32 uniform in [low, high) (high exclusive, as torch.randint and numpy's randint)."""
    low = tf.cast(low, tf.int32)
    high = tf.cast(high, tf.int32)
    u = uniform(seed)
    span = tf.cast(high - low, tf.float32)
    return low + tf.minimum(tf.cast(tf.floor(u * span), tf.int32), high - low - 1)


def coin(seed: tf.Tensor, probability: float = 0.5) -> tf.Tensor:
    """bool: True with `probability`."""
    return uniform(seed) < probability


def size_of(image: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    shape = tf.shape(image)
    return shape[0], shape[1]


# ---- flips and the affine transforms of rotation, shift and zoom ----


def flip(image: tf.Tensor, seed: tf.Tensor, horizontal: bool, vertical: bool) -> tf.Tensor:
    """Mirror left-right and/or top-bottom, each with probability 1/2 (Keras' RandomFlip)."""
    if horizontal:
        image = tf.cond(coin(fold(seed, 0)), lambda: image[:, ::-1], lambda: image)
    if vertical:
        image = tf.cond(coin(fold(seed, 1)), lambda: image[::-1], lambda: image)
    return image


def _centred(matrix: tf.Tensor, height, width) -> tf.Tensor:
    """`matrix` (3x3, output to input pixel coordinates) about the image's centre."""
    cx = (tf.cast(width, tf.float32) - 1.0) / 2.0
    cy = (tf.cast(height, tf.float32) - 1.0) / 2.0
    to = tf.stack([[1.0, 0.0, cx], [0.0, 1.0, cy], [0.0, 0.0, 1.0]])
    back = tf.stack([[1.0, 0.0, -cx], [0.0, 1.0, -cy], [0.0, 0.0, 1.0]])
    return to @ matrix @ back


def rotation_matrix(degrees: tf.Tensor, height, width) -> tf.Tensor:
    """Output-to-input coordinates of a rotation by `degrees` about the centre."""
    angle = degrees * (math.pi / 180.0)
    c, s = tf.cos(angle), tf.sin(angle)
    zero, one = tf.zeros_like(c), tf.ones_like(c)
    return _centred(tf.stack([[c, -s, zero], [s, c, zero], [zero, zero, one]]), height, width)


def shift_matrix(dx: tf.Tensor, dy: tf.Tensor) -> tf.Tensor:
    """Output-to-input coordinates of moving the picture by (dx, dy) pixels."""
    zero, one = tf.zeros_like(dx), tf.ones_like(dx)
    return tf.stack([[one, zero, -dx], [zero, one, -dy], [zero, zero, one]])


def zoom_matrix(factor: tf.Tensor, height, width) -> tf.Tensor:
    """Output-to-input coordinates of a zoom about the centre; factor > 1 zooms out (Keras)."""
    zero, one = tf.zeros_like(factor), tf.ones_like(factor)
    return _centred(
        tf.stack([[factor, zero, zero], [zero, factor, zero], [zero, zero, one]]), height, width
    )


def warp(
    image: tf.Tensor,
    matrix: tf.Tensor,
    fill_mode: str = "NEAREST",
    fill=0.0,
    interpolation: str = "BILINEAR",
) -> tf.Tensor:
    """Resample `image` at `matrix` (output to input pixel coordinates, 3x3).

    fill_mode "NEAREST" repeats the edge pixel (Keras' and ImageDataGenerator's
    default), "CONSTANT" fills with `fill`, a number or one per channel.
    """
    height, width = size_of(image)
    matrix = matrix / matrix[2, 2]
    transform = tf.reshape(matrix, [9])[:8]
    fill = tf.cast(tf.broadcast_to(fill, tf.shape(image)[-1:]), tf.float32)
    # The kernel's fill value is one number: warp the image less the fill
    # colour, fill with 0, and add the colour back.
    warped = tf.raw_ops.ImageProjectiveTransformV3(
        images=(image - fill)[None],
        transforms=transform[None],
        output_shape=tf.stack([height, width]),
        fill_value=0.0,
        interpolation=interpolation,
        fill_mode=fill_mode,
    )[0]
    return warped + fill


def affine(
    image: tf.Tensor,
    seed: tf.Tensor,
    rotation: float = 0.0,
    width_shift: float = 0.0,
    height_shift: float = 0.0,
    zoom: float = 0.0,
) -> tf.Tensor:
    """Keras' RandomRotation, RandomTranslation and RandomZoom in one resampling.

    The same draws as the layers (angle uniform in [-rotation, rotation]
    degrees, shifts uniform in [-shift, shift] of the side, one zoom factor
    uniform in [1 - zoom, 1 + zoom] for both axes), composed in that order
    and resampled once, bilinear, the edge pixel repeated outside the image.
    """
    height, width = size_of(image)
    matrix = tf.eye(3)
    if rotation:
        degrees = uniform(fold(seed, 2), (), -rotation, rotation)
        matrix = matrix @ rotation_matrix(degrees, height, width)
    if width_shift or height_shift:
        dx = uniform(fold(seed, 3), (), -width_shift, width_shift) * tf.cast(width, tf.float32)
        dy = uniform(fold(seed, 4), (), -height_shift, height_shift) * tf.cast(height, tf.float32)
        matrix = matrix @ shift_matrix(dx, dy)
    if zoom:
        matrix = matrix @ zoom_matrix(uniform(fold(seed, 5), (), 1 - zoom, 1 + zoom), height, width)
    return warp(image, matrix)


# ---- crops ----


def resized_crop_box(
    seed: tf.Tensor, height, width, scale: tuple[float, float], ratio: tuple[float, float]
) -> tf.Tensor:
    """(top, left, crop height, crop width) as torchvision's `RandomResizedCrop.get_params`.

    Ten tries of an area uniform in `scale` times the image's and a log
    aspect ratio uniform in log(`ratio`), `w = round(sqrt(area * ratio))`,
    `h = round(sqrt(area / ratio))`; the first that fits is placed uniformly.
    If none fits: the centre crop of the whole image, its ratio clamped to
    [min(ratio), max(ratio)]. Rounding is half to even, as Python's round.
    """
    h_f, w_f = tf.cast(height, tf.float32), tf.cast(width, tf.float32)
    area = h_f * w_f
    target = area * uniform(fold(seed, 0), (10,), scale[0], scale[1])
    aspect = tf.exp(uniform(fold(seed, 1), (10,), math.log(ratio[0]), math.log(ratio[1])))
    w = tf.cast(tf.round(tf.sqrt(target * aspect)), tf.int32)
    h = tf.cast(tf.round(tf.sqrt(target / aspect)), tf.int32)
    fits = (w > 0) & (w <= width) & (h > 0) & (h <= height)
    first = tf.argmax(tf.cast(fits, tf.int32), output_type=tf.int32)
    h_try, w_try = h[first], w[first]
    top = randint(fold(seed, 2), 0, height - h_try + 1)
    left = randint(fold(seed, 3), 0, width - w_try + 1)

    in_ratio = w_f / h_f
    low, high = min(ratio), max(ratio)
    w_fb = tf.where(
        in_ratio < low,
        width,
        tf.where(in_ratio > high, tf.cast(tf.round(h_f * high), tf.int32), width),
    )
    h_fb = tf.where(in_ratio < low, tf.cast(tf.round(w_f / low), tf.int32), height)
    fallback = tf.stack([(height - h_fb) // 2, (width - w_fb) // 2, h_fb, w_fb])
    return tf.where(tf.reduce_any(fits), tf.stack([top, left, h_try, w_try]), fallback)


def random_resized_crop(
    image: tf.Tensor,
    seed: tf.Tensor,
    scale: tuple[float, float],
    ratio: tuple[float, float],
    interpolation: str = "bilinear",
) -> tf.Tensor:
    """torchvision's RandomResizedCrop: crop `resized_crop_box`, resize back to the image's size.

    Antialiased when shrinking, as torchvision's tensor transforms since 0.17.
    """
    height, width = size_of(image)
    top, left, h, w = tf.unstack(resized_crop_box(seed, height, width, scale, ratio))
    crop = image[top : top + h, left : left + w]
    resized = tf.image.resize(crop, tf.stack([height, width]), method=interpolation, antialias=True)
    return tf.cast(resized, tf.float32)


def random_crop(image: tf.Tensor, seed: tf.Tensor, padding: int) -> tf.Tensor:
    """torchvision's RandomCrop(size, padding): zero-pad each side, crop the size back.

    The offsets are uniform integers from 0 to 2 * padding, both ends included.
    """
    height, width = size_of(image)
    padded = tf.pad(image, [[padding, padding], [padding, padding], [0, 0]])
    top = randint(fold(seed, 0), 0, 2 * padding + 1)
    left = randint(fold(seed, 1), 0, 2 * padding + 1)
    return padded[top : top + height, left : left + width]


# ---- random erasing ----


def erase_box(
    seed: tf.Tensor, height, width, scale: tuple[float, float], ratio: tuple[float, float]
) -> tf.Tensor:
    """(top, left, h, w) as timm's `RandomErasing._erase` (one box), or h = w = 0 for none.

    Ten attempts of an area uniform in `scale` times the image's and a log
    aspect uniform in log(`ratio`), `h = round(sqrt(area * aspect))`,
    `w = round(sqrt(area / aspect))`; the first with h < height and
    w < width is placed with top uniform in [0, height - h] and left in
    [0, width - w] (both ends, Python's randint).
    """
    area = tf.cast(height * width, tf.float32)
    target = area * uniform(fold(seed, 0), (10,), scale[0], scale[1])
    aspect = tf.exp(uniform(fold(seed, 1), (10,), math.log(ratio[0]), math.log(ratio[1])))
    h = tf.cast(tf.round(tf.sqrt(target * aspect)), tf.int32)
    w = tf.cast(tf.round(tf.sqrt(target / aspect)), tf.int32)
    fits = (w < width) & (h < height)
    first = tf.argmax(tf.cast(fits, tf.int32), output_type=tf.int32)
    h, w = h[first], w[first]
    top = randint(fold(seed, 2), 0, height - h + 1)
    left = randint(fold(seed, 3), 0, width - w + 1)
    found = tf.reduce_any(fits)
    zero = tf.constant(0, tf.int32)
    return tf.stack(
        [top, left, tf.where(found, h, zero), tf.where(found, w, zero)],
    )


def erasing_noise(seed: tf.Tensor, shape, channels: int) -> tf.Tensor:
    """Pixels of timm's mode 'pixel' brought to [0, 255]: 255 * (mean + std * N(0, 1)) per channel.

    timm draws N(0, 1) after ImageNet normalisation; this is the same pixel
    before it, so the network sees what timm's sees (not clipped, as timm's).
    """
    mean, std = IMAGENET_MEAN, IMAGENET_STD
    if channels == 1:
        mean, std = (sum(mean) / 3,), (sum(std) / 3,)
    z = tf.random.stateless_normal(shape, seed, dtype=tf.float32)
    return 255.0 * (tf.constant(mean) + tf.constant(std) * z)


def random_erasing(
    image: tf.Tensor,
    seed: tf.Tensor,
    probability: float,
    scale: tuple[float, float],
    ratio: tuple[float, float],
    value: float | str = "random",
) -> tf.Tensor:
    """timm's RandomErasing(probability, mode='pixel' or a constant, max_count=1)."""
    height, width = size_of(image)
    channels = image.shape[-1]
    top, left, h, w = tf.unstack(erase_box(fold(seed, 0), height, width, scale, ratio))
    rows = tf.range(height)[:, None, None]
    cols = tf.range(width)[None, :, None]
    inside = (rows >= top) & (rows < top + h) & (cols >= left) & (cols < left + w)
    inside = inside & coin(fold(seed, 1), probability)
    if value == "random":
        fill = erasing_noise(fold(seed, 2), tf.shape(image), channels)
    else:
        fill = tf.fill(tf.shape(image), tf.cast(value, tf.float32))
    return tf.where(inside, fill, image)
