"""Image file -> RGB uint8 at a fixed size in the tf.data graph, for every colour mode we accept.

Which decoder a file gets (its "route") is chosen from what PIL read in the
file's header at scan time, because TensorFlow's decoders do not handle every
file well. Measured with tensorflow-cpu 2.21 against PIL 13, decoding with
`channels=3`:

- PNG, all modes (L, LA, RGB, RGBA, palette with and without transparency,
  1-bit, 16-bit grey and 16-bit RGB): tf is right, including 16-bit, which tf
  scales to 8 bits (40000 -> 156) where PIL's `convert("RGB")` clips to 255.
- JPEG, grey, RGB and CMYK: tf is right (CMYK red decodes to red).
- BMP: tf reads an 8-bit palette BMP's indices as grey levels (a red palette
  image decodes black) and refuses 1-bit BMPs, so BMPs go to PIL.
- GIF: tf decodes every frame of an animation even with
  `expand_animations=False` (a 100-frame 400x400 GIF: 295 ms in tf, 3 ms in
  PIL), and decodes a transparent palette entry as black where PIL gives its
  colour; GIFs go to PIL, which reads the first frame only.
- Anything else PIL recognised behind an accepted extension (a WebP saved as
  `.png`, say) goes to PIL too, since the route follows the content.

Very large images: a JPEG is decoded at 1/2, 1/4 or 1/8 scale by libjpeg's
DCT scaling (`decode_jpeg(ratio=...)`) whenever the result still covers the
target size, so a 12-megapixel photo never exists at full size in memory.
PNG, GIF and BMP have no reduced-resolution decoding, so their full uint8
decode (3 bytes a pixel) is the floor; tf's antialiased resize then reads
the uint8 image directly, without a float32 copy of it (an 8000x6000 PNG
to 224x224: 165 MiB peak, 1.2 s). PIL, for BMP and GIF, box-reduces a
large image by an integer factor (`Image.reduce`) before handing it over,
so the array that crosses into tf stays small. Routing large PNGs through
PIL as well was measured and dropped: 371 MiB and 2.1 s for that PNG.

Alpha is dropped, not composited (as tf and Keras do): RGBA (255, 0, 0, 128)
gives red. EXIF orientation is not applied, as in Keras' own loaders.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import numpy as np
import tensorflow as tf
from PIL import Image

if TYPE_CHECKING:
    from registry.recipe.train_spec import EvalSpec

# Routes, the branch index of `tf.switch_case` in `load_resized`.
ROUTE_PNG = 0
ROUTE_JPEG = {1: 1, 2: 2, 4: 3, 8: 4}  # DCT scale denominator -> route
ROUTE_PIL = 5

# PIL formats tf decodes correctly (see the module docstring). MPO is the
# multi-picture JPEG some cameras write; its first picture is a plain JPEG.
_JPEG_FORMATS = ("JPEG", "MPO")
_16_BIT_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I")


def choose_route(
    image_format: str | None, width: int, height: int, image_size: tuple[int, int]
) -> int:
    """Return the decoder route for one file from its PIL format and pixel size.

    Args:
        image_format: str or None. PIL's `Image.format` ("PNG", "JPEG", ...).
        width: int. Width of the stored image in pixels.
        height: int. Height of the stored image in pixels.
        image_size: tuple of 2 ints. Target `(height, width)`.
    """
    target_height, target_width = image_size
    if image_format in _JPEG_FORMATS:
        for ratio in (8, 4, 2):
            # decode_jpeg(ratio=r) yields ceil(size / r) pixels per side; keep
            # it at least the target so the final resize only shrinks.
            if -(-width // ratio) >= target_width and -(-height // ratio) >= target_height:
                return ROUTE_JPEG[ratio]
        return ROUTE_JPEG[1]
    if image_format == "PNG":
        return ROUTE_PNG
    return ROUTE_PIL


def pil_to_rgb(image: Image.Image) -> Image.Image:
    """Convert the first frame of a PIL image of any mode to 8-bit RGB.

    16-bit grey is scaled by 1/257 (65535 -> 255), as tf does, because PIL's
    own `convert("RGB")` clips it to 255.
    """
    image.seek(0)
    if image.mode in _16_BIT_MODES:
        grey = np.asarray(image, dtype=np.float64)
        grey = np.clip(np.round(grey / 257.0), 0, 255).astype(np.uint8)
        return Image.fromarray(grey).convert("RGB")
    return image.convert("RGB")


def pil_decode(path: bytes | str, height: int, width: int) -> np.ndarray:
    """Decode one file with PIL to an RGB uint8 array, box-reduced when far larger than the target.

    The integer reduction keeps at least twice the target size per side, so
    the antialiased resize that follows still does the final filtering.
    """
    if isinstance(path, np.ndarray):  # numpy_function run eagerly passes a 0-d array
        path = path.item()
    if isinstance(path, bytes):
        path = path.decode("utf-8", "surrogateescape")
    with Image.open(path) as image:
        rgb = pil_to_rgb(image)
    factor = min(rgb.height // (2 * height), rgb.width // (2 * width))
    if factor >= 2:
        rgb = rgb.reduce(factor)
    return np.asarray(rgb, dtype=np.uint8)


def load_resized(
    path: tf.Tensor,
    route: tf.Tensor,
    image_size: tuple[int, int],
    fit: EvalSpec | None = None,
) -> tf.Tensor:
    """Read, decode and resize one image in the graph: `(height, width, 3)` uint8.

    By default resizing is bilinear with antialiasing to exactly
    `image_size`, without cropping, as `flow_from_directory` does; `fit`
    (a recipe's `train.eval`) may say otherwise (`fit_uint8`). The result is
    rounded to uint8 so that a cached image (4x smaller than float32) and a
    freshly decoded one are the same numbers.
    """
    # PIL's box reduction must keep what the resize before any crop needs.
    height, width = fit.resize_size(image_size) if fit is not None else image_size

    def png() -> tf.Tensor:
        return tf.io.decode_png(tf.io.read_file(path), channels=3)

    def jpeg(ratio: int):
        return lambda: tf.io.decode_jpeg(tf.io.read_file(path), channels=3, ratio=ratio)

    def pil() -> tf.Tensor:
        decode = functools.partial(pil_decode, height=height, width=width)
        return tf.numpy_function(decode, [path], tf.uint8, stateful=False)

    branches = [png, jpeg(1), jpeg(2), jpeg(4), jpeg(8), pil]
    image = tf.switch_case(route, branches)
    image = tf.ensure_shape(image, [None, None, 3])
    return fit_uint8(image, image_size, fit)


def fit_uint8(image: tf.Tensor, image_size: tuple[int, int], fit: EvalSpec | None) -> tf.Tensor:
    """A uint8 image fitted to `image_size` by a recipe's `train.eval` rule; None squashes.

    `squash` with `bilinear` (the default) is `resize_uint8`, the training
    pipeline's own resize, so a recipe without `train.eval` evaluates on
    exactly the numbers it always did. `shorter_side` is `shorter_side_crop`.
    """
    if not changes_pixels(fit):
        return resize_uint8(image, image_size)
    if fit.resize == "squash":
        resized = _resize_rounded(image, tf.constant(image_size, tf.int32), fit.interpolation)
        return tf.ensure_shape(resized, [image_size[0], image_size[1], image.shape[-1]])
    return shorter_side_crop(image, image_size, fit.resize_size(image_size), fit.interpolation)


def changes_pixels(fit: EvalSpec | None) -> bool:
    """Whether `fit` gives other pixels than `resize_uint8` (test-time flipping does not)."""
    return fit is not None and (fit.resize != "squash" or fit.interpolation != "bilinear")


def shorter_side_crop(
    image: tf.Tensor,
    image_size: tuple[int, int],
    cover: tuple[int, int],
    interpolation: str = "bilinear",
) -> tf.Tensor:
    """torchvision's `Resize(cover)` + `CenterCrop(image_size)` of a uint8 image, as uint8.

    The image is scaled, aspect ratio kept, until it just covers `cover`
    (for a square `cover` of side S: the shorter side becomes S and the
    longer `S * long // short`, torchvision's integer rule), then the centre
    `image_size` is cut out at `round((new - size) / 2)` from the top and
    left (Python's and tf's round, half to even, as torchvision).

    Args:
        image: uint8 tensor (height, width, channels), any size.
        image_size: tuple of 2 ints. (height, width) of the crop.
        cover: tuple of 2 ints. (height, width) the resized image covers,
            at least `image_size`: `EvalSpec.resize_size`.
        interpolation: str. "bilinear", "bicubic" or "nearest".
    """
    shape = tf.shape(image, out_type=tf.int64)
    height, width = shape[0], shape[1]
    cover_h, cover_w = tf.constant(cover[0], tf.int64), tf.constant(cover[1], tf.int64)
    by_height = cover_h * width >= cover_w * height
    new_h = tf.where(by_height, cover_h, cover_w * height // width)
    new_w = tf.where(by_height, cover_h * width // height, cover_w)
    resized = _resize_rounded(image, tf.cast(tf.stack([new_h, new_w]), tf.int32), interpolation)
    top = tf.cast(tf.round(tf.cast(new_h - image_size[0], tf.float64) / 2.0), tf.int32)
    left = tf.cast(tf.round(tf.cast(new_w - image_size[1], tf.float64) / 2.0), tf.int32)
    cropped = resized[top : top + image_size[0], left : left + image_size[1]]
    return tf.ensure_shape(cropped, [image_size[0], image_size[1], image.shape[-1]])


def _resize_rounded(image: tf.Tensor, size: tf.Tensor, interpolation: str) -> tf.Tensor:
    """Resize a uint8 image to `size` with `interpolation`, rounded back to uint8.

    Antialiased when a side shrinks, as `resize_uint8` and torchvision's
    PIL-backed resize; nearest never filters (PIL's NEAREST does not).
    """
    shrinks = tf.reduce_any(tf.less(size, tf.shape(image)[:2]))
    if interpolation == "nearest":
        resized = tf.image.resize(image, size, method="nearest")
    else:
        resized = tf.cond(
            shrinks,
            lambda: tf.image.resize(image, size, method=interpolation, antialias=True),
            lambda: tf.image.resize(image, size, method=interpolation),
        )
    return tf.cast(tf.clip_by_value(tf.round(tf.cast(resized, tf.float32)), 0.0, 255.0), tf.uint8)


def resize_uint8(image: tf.Tensor, image_size: tuple[int, int]) -> tf.Tensor:
    """Bilinear, antialiased resize of a uint8 image to exactly `image_size`, rounded back to uint8.

    Any number of channels; they are kept.

    Antialiasing (`ScaleAndTranslate`) is what makes shrinking faithful, but
    it costs 2 to 3 times a plain bilinear resize, and it only changes
    anything when a side shrinks: enlarging with it equals plain bilinear to
    within 5e-4. So an image already at the target size is passed through
    untouched, one that only grows gets plain bilinear, and only one that
    shrinks pays for antialiasing.
    """
    shape = tf.shape(image)[:2]
    target = tf.constant(image_size, tf.int32)

    def rounded(resized: tf.Tensor) -> tf.Tensor:
        return tf.cast(tf.clip_by_value(tf.round(resized), 0.0, 255.0), tf.uint8)

    resized = tf.case(
        [
            (tf.reduce_all(tf.equal(shape, target)), lambda: image),
            (
                tf.reduce_all(tf.less_equal(shape, target)),
                lambda: rounded(tf.image.resize(image, image_size, method="bilinear")),
            ),
        ],
        default=lambda: rounded(
            tf.image.resize(image, image_size, method="bilinear", antialias=True)
        ),
        exclusive=False,
    )
    return tf.ensure_shape(resized, [image_size[0], image_size[1], image.shape[-1]])


def to_channels(images: tf.Tensor, channels: int) -> tf.Tensor:
    """Images `(..., 1 or 3)` with `channels` channels: the one rule of colour.

    Grayscale is repeated to R, G and B for an RGB network; RGB becomes its
    luma (ITU-R 601, `tf.image.rgb_to_grayscale`), rounded to whole levels,
    for a 1-channel network. The dtype is kept.
    """
    have = images.shape[-1]
    if have == channels:
        return images
    if have == 1:
        return tf.repeat(images, channels, axis=-1)
    grey = tf.round(tf.image.rgb_to_grayscale(tf.cast(images, tf.float32)))
    return tf.cast(grey, images.dtype)
