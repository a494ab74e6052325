"""RandAugment (timm), TrivialAugmentWide (torchvision) and ColorJitter (torchvision), per image.

Stateless like `registry.training.augment_ops`: one float32 image in
[0, 255] and an int64 seed of shape (2,) in, the same image out for the same
seed. The colour operations are PIL's `ImageEnhance` / `ImageOps` (which
timm and torchvision both follow) on float pixels: a blend
`degenerate + factor * (image - degenerate)` clipped to [0, 255], with the
grey of ITU-R 601 (0.299 R + 0.587 G + 0.114 B).

Why not Keras' own layers: `keras.layers.RandAugment` (3.15) draws its ops
once per batch, not per image, from 11 ops at a magnitude uniform in
[0, factor], with no probability per op and no magnitude noise, so its
`num_ops=2, factor=0.5` is not timm's `rand-m9-n2-mstd0.5`;
`keras.layers.RandomColorJitter` adds brightness (a shift) where
torchvision multiplies, and applies its parts in a fixed order; and the
layers draw from a seed state rather than a seed per image, which is what
made parallel maps repeat transforms. Keras has no TrivialAugment.

Differences from the references, on purpose:
- Pixels stay float between operations; PIL rounds to uint8 after each
  (posterize and equalize, which need whole numbers, round first).
- Geometric ops resample bilinear (timm picks bilinear or bicubic at random;
  TrivialAugmentWide's default is nearest, kept) about pixel centres at
  integer coordinates (PIL's are at half-integers: a half-pixel shift at most).
"""

from __future__ import annotations

import tensorflow as tf

from registry.training.augment_ops import coin, fold, randint, rotation_matrix, uniform, warp

# timm's RandAugment fill: the ImageNet mean in pixels, round(255 * mean).
TIMM_FILL = (124.0, 116.0, 104.0)


# ---- colour operations (PIL's) ----


def grey(image: tf.Tensor) -> tf.Tensor:
    """ITU-R 601 grey, as many channels as `image`."""
    if image.shape[-1] == 1:
        return image
    weights = tf.constant([0.299, 0.587, 0.114])
    g = tf.reduce_sum(image * weights, axis=-1, keepdims=True)
    return tf.broadcast_to(g, tf.shape(image))


def blend(degenerate: tf.Tensor, image: tf.Tensor, factor) -> tf.Tensor:
    """PIL's ImageEnhance: `degenerate + factor * (image - degenerate)`, clipped to [0, 255]."""
    return tf.clip_by_value(degenerate + factor * (image - degenerate), 0.0, 255.0)


def brightness(image, factor):
    return blend(tf.zeros_like(image), image, factor)


def saturation(image, factor):
    """PIL's ImageEnhance.Color, torchvision's adjust_saturation."""
    return blend(grey(image), image, factor)


def contrast(image, factor):
    """Blend with the mean grey of the image (PIL, torchvision's adjust_contrast)."""
    return blend(tf.reduce_mean(grey(image)) * tf.ones_like(image), image, factor)


def sharpness(image, factor):
    """Blend with PIL's SMOOTH filter ([[1,1,1],[1,5,1],[1,1,1]] / 13); the border stays."""
    channels = image.shape[-1]
    kernel = tf.constant([[1.0, 1.0, 1.0], [1.0, 5.0, 1.0], [1.0, 1.0, 1.0]]) / 13.0
    kernel = tf.tile(kernel[:, :, None, None], [1, 1, channels, 1])
    smooth = tf.nn.depthwise_conv2d(image[None], kernel, [1, 1, 1, 1], "VALID")[0]
    smooth = tf.pad(smooth, [[1, 1], [1, 1], [0, 0]])
    height, width = tf.shape(image)[0], tf.shape(image)[1]
    rows = tf.range(height)[:, None, None]
    cols = tf.range(width)[None, :, None]
    inner = (rows > 0) & (rows < height - 1) & (cols > 0) & (cols < width - 1)
    return blend(tf.where(inner, smooth, image), image, factor)


def invert(image):
    return 255.0 - image


def solarize(image, threshold):
    """Pixels at or above `threshold` inverted (PIL's ImageOps.solarize)."""
    return tf.where(image >= threshold, 255.0 - image, image)


def solarize_add(image, addition, threshold=128.0):
    """timm's solarize_add: `addition` added to pixels below `threshold`, capped at 255."""
    return tf.where(image < threshold, tf.minimum(255.0, image + addition), image)


def posterize(image, bits):
    """Keep the `bits` high bits of each (rounded) pixel; 8 keeps all, 0 gives black."""
    shift = 8 - tf.cast(bits, tf.int32)
    pixels = tf.cast(tf.clip_by_value(tf.round(image), 0.0, 255.0), tf.int32)
    kept = tf.bitwise.left_shift(tf.bitwise.right_shift(pixels, shift), shift)
    return tf.cast(kept, tf.float32)


def autocontrast(image):
    """Each channel stretched to [0, 255] (PIL's ImageOps.autocontrast, no cutoff)."""
    low = tf.reduce_min(image, axis=[0, 1], keepdims=True)
    high = tf.reduce_max(image, axis=[0, 1], keepdims=True)
    scale = tf.where(high > low, 255.0 / tf.maximum(high - low, 1e-6), 1.0)
    offset = tf.where(high > low, low, 0.0)
    return tf.clip_by_value((image - offset) * scale, 0.0, 255.0)


def equalize(image):
    """PIL's ImageOps.equalize, channel by channel, on the rounded pixels."""
    pixels = tf.cast(tf.clip_by_value(tf.round(image), 0.0, 255.0), tf.int32)

    def channel(values):
        histogram = tf.math.bincount(values, minlength=256, maxlength=256)
        last = tf.gather(histogram, tf.reduce_max(values))  # the last non-empty bin
        step = (tf.reduce_sum(histogram) - last) // 255
        lut = (tf.cumsum(histogram) + step // 2) // tf.maximum(step, 1)
        lut = tf.clip_by_value(tf.concat([[0], lut[:-1]], 0), 0, 255)
        return tf.where(step == 0, values, tf.gather(lut, values))

    channels = tf.unstack(pixels, axis=-1)
    return tf.cast(tf.stack([channel(c) for c in channels], axis=-1), tf.float32)


# ---- geometric operations ----


def _matrix(a, b, c, d, e, f):
    """PIL's affine data (output (x, y) reads input (a x + b y + c, d x + e y + f))."""
    zero, one = tf.constant(0.0), tf.constant(1.0)
    return tf.stack(
        [tf.stack([a, b, c]), tf.stack([d, e, f]), tf.stack([zero, zero, one])],
    )


def shear_x(image, amount, fill, interpolation):
    zero, one = tf.constant(0.0), tf.constant(1.0)
    return warp(image, _matrix(one, amount, zero, zero, one, zero), "CONSTANT", fill, interpolation)


def shear_y(image, amount, fill, interpolation):
    zero, one = tf.constant(0.0), tf.constant(1.0)
    return warp(image, _matrix(one, zero, zero, amount, one, zero), "CONSTANT", fill, interpolation)


def translate_x(image, pixels, fill, interpolation):
    zero, one = tf.constant(0.0), tf.constant(1.0)
    return warp(image, _matrix(one, zero, pixels, zero, one, zero), "CONSTANT", fill, interpolation)


def translate_y(image, pixels, fill, interpolation):
    zero, one = tf.constant(0.0), tf.constant(1.0)
    return warp(image, _matrix(one, zero, zero, zero, one, pixels), "CONSTANT", fill, interpolation)


def rotate(image, degrees, fill, interpolation):
    height, width = tf.shape(image)[0], tf.shape(image)[1]
    return warp(image, rotation_matrix(degrees, height, width), "CONSTANT", fill, interpolation)


# ---- timm's RandAugment ----

# timm's _RAND_TRANSFORMS, in its order.
RAND_OPS = (
    "AutoContrast",
    "Equalize",
    "Invert",
    "Rotate",
    "Posterize",
    "Solarize",
    "SolarizeAdd",
    "Color",
    "Contrast",
    "Brightness",
    "Sharpness",
    "ShearX",
    "ShearY",
    "TranslateXRel",
    "TranslateYRel",
)


def _timm_op(name: str, image, level, sign, fill):
    """One of timm's ops at `level` (0 to 10), `sign` +1 or -1 (timm's _randomly_negate).

    The level-to-argument rules are timm's `_*_level_to_arg` (its defaults,
    not the `Increasing` variants): rotate 30 * level / 10 degrees; posterize
    keeps int(4 * level / 10) bits; solarize at threshold
    min(256, int(256 * level / 10)); solarize_add adds min(128, int(110 * level / 10));
    colour, contrast, brightness and sharpness blend at 1.8 * level / 10 + 0.1;
    shear 0.3 * level / 10; translate 0.45 * level / 10 of the side.
    """
    fraction = level / 10.0
    enhance = fraction * 1.8 + 0.1
    height = tf.cast(tf.shape(image)[0], tf.float32)
    width = tf.cast(tf.shape(image)[1], tf.float32)
    bilinear = "BILINEAR"
    ops = {
        "AutoContrast": lambda: autocontrast(image),
        "Equalize": lambda: equalize(image),
        "Invert": lambda: invert(image),
        "Rotate": lambda: rotate(image, sign * 30.0 * fraction, fill, bilinear),
        "Posterize": lambda: posterize(image, tf.cast(tf.floor(fraction * 4.0), tf.int32)),
        "Solarize": lambda: solarize(image, tf.minimum(256.0, tf.floor(fraction * 256.0))),
        "SolarizeAdd": lambda: solarize_add(image, tf.minimum(128.0, tf.floor(fraction * 110.0))),
        "Color": lambda: saturation(image, enhance),
        "Contrast": lambda: contrast(image, enhance),
        "Brightness": lambda: brightness(image, enhance),
        "Sharpness": lambda: sharpness(image, enhance),
        "ShearX": lambda: shear_x(image, sign * 0.3 * fraction, fill, bilinear),
        "ShearY": lambda: shear_y(image, sign * 0.3 * fraction, fill, bilinear),
        "TranslateXRel": lambda: translate_x(image, sign * 0.45 * fraction * width, fill, bilinear),
        "TranslateYRel": lambda: translate_y(
            image, sign * 0.45 * fraction * height, fill, bilinear
        ),
    }
    return ops[name]()


def _maybe_timm_op(image, apply, which, level, sign, fill):
    """Op `which` of RAND_OPS when `apply`, else the image as it is."""
    branches = [(lambda name=name: _timm_op(name, image, level, sign, fill)) for name in RAND_OPS]
    out = tf.cond(apply, lambda: tf.switch_case(which, branches), lambda: image)
    out.set_shape(image.shape)
    return out


def rand_augment(
    image: tf.Tensor,
    seed: tf.Tensor,
    num_ops: int = 2,
    magnitude: float = 9.0,
    magnitude_std: float = 0.0,
) -> tf.Tensor:
    """timm's `rand_augment_transform("rand-m{magnitude}-n{num_ops}-mstd{magnitude_std}")`.

    `num_ops` ops drawn with replacement from the 15 of `RAND_OPS`, each
    applied with probability 1/2 at a magnitude of `magnitude` plus normal
    noise of `magnitude_std` (redrawn per op), clipped to [0, 10]; geometric
    ops fill with the ImageNet mean colour, as timm's `img_mean`.
    """
    channels = image.shape[-1]
    fill = TIMM_FILL if channels == 3 else (sum(TIMM_FILL) / 3,)
    for k in range(num_ops):
        step = fold(seed, 100 + k)
        which = randint(fold(step, 0), 0, len(RAND_OPS))
        level = tf.constant(float(magnitude))
        if magnitude_std > 0:
            level = level + magnitude_std * tf.random.stateless_normal((), fold(step, 1))
        level = tf.clip_by_value(level, 0.0, 10.0)
        sign = tf.where(coin(fold(step, 2)), -1.0, 1.0)
        # timm's AugmentOp skips with probability 1 - prob (0.5); skipped ops cost nothing.
        image = _maybe_timm_op(image, coin(fold(step, 3), 0.5), which, level, sign, fill)
    return image


# ---- torchvision's TrivialAugmentWide ----

BINS = 31
# torchvision's TrivialAugmentWide._augmentation_space(31): name, largest
# magnitude (linspace(0, largest, 31)), whether the sign is drawn.
TRIVIAL_OPS = (
    ("Identity", 0.0, False),
    ("ShearX", 0.99, True),
    ("ShearY", 0.99, True),
    ("TranslateX", 32.0, True),
    ("TranslateY", 32.0, True),
    ("Rotate", 135.0, True),
    ("Brightness", 0.99, True),
    ("Color", 0.99, True),
    ("Contrast", 0.99, True),
    ("Sharpness", 0.99, True),
    ("Posterize", None, False),
    ("Solarize", None, False),
    ("AutoContrast", 0.0, False),
    ("Equalize", 0.0, False),
)


def _trivial_op(name: str, image, bin_index, sign):
    """One TrivialAugmentWide op at magnitude bin `bin_index` of 31, torchvision's _apply_op."""
    fraction = tf.cast(bin_index, tf.float32) / (BINS - 1)
    nearest, black = "NEAREST", 0.0
    largest = {n: m for n, m, _ in TRIVIAL_OPS}
    m = sign * fraction * (largest[name] or 0.0)
    ops = {
        "Identity": lambda: image,
        # torchvision shears by atan(m) degrees, that is by m.
        "ShearX": lambda: shear_x(image, m, black, nearest),
        "ShearY": lambda: shear_y(image, m, black, nearest),
        # torchvision translates by int(magnitude) pixels.
        "TranslateX": lambda: translate_x(image, tf.sign(m) * tf.floor(tf.abs(m)), black, nearest),
        "TranslateY": lambda: translate_y(image, tf.sign(m) * tf.floor(tf.abs(m)), black, nearest),
        "Rotate": lambda: rotate(image, m, black, nearest),
        "Brightness": lambda: brightness(image, 1.0 + m),
        "Color": lambda: saturation(image, 1.0 + m),
        "Contrast": lambda: contrast(image, 1.0 + m),
        "Sharpness": lambda: sharpness(image, 1.0 + m),
        # 8 - round(bin / 5): 8 bits (no change) down to 2.
        "Posterize": lambda: posterize(
            image, 8 - tf.cast(tf.round(tf.cast(bin_index, tf.float32) / 5.0), tf.int32)
        ),
        # threshold linspace(255, 0, 31).
        "Solarize": lambda: solarize(image, 255.0 * (1.0 - fraction)),
        "AutoContrast": lambda: autocontrast(image),
        "Equalize": lambda: equalize(image),
    }
    return ops[name]()


def trivial_augment(image: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    """torchvision's TrivialAugmentWide(): one of 14 ops, a magnitude bin uniform of 31.

    The sign of signed ops is drawn with probability 1/2; geometric ops fill
    with black and resample nearest, torchvision's defaults.
    """
    which = randint(fold(seed, 0), 0, len(TRIVIAL_OPS))
    bin_index = randint(fold(seed, 1), 0, BINS)
    sign = tf.where(coin(fold(seed, 2)), -1.0, 1.0)
    branches = [
        (lambda name=name: _trivial_op(name, image, bin_index, sign)) for name, _, _ in TRIVIAL_OPS
    ]
    out = tf.switch_case(which, branches)
    out.set_shape(image.shape)
    return out


# ---- torchvision's ColorJitter ----


def _jitter_step(image, which, factors):
    """Brightness, contrast or saturation (`which`), each at its own factor."""
    ops = (brightness, contrast, saturation)
    branches = [(lambda op=op, i=i: op(image, factors[i])) for i, op in enumerate(ops)]
    out = tf.switch_case(which, branches)
    out.set_shape(image.shape)
    return out


def color_jitter(image: tf.Tensor, seed: tf.Tensor, strength: float) -> tf.Tensor:
    """torchvision's ColorJitter(strength, strength, strength) (hue 0), as timm's `color_jitter`.

    Brightness, contrast and saturation factors each uniform in
    [max(0, 1 - strength), 1 + strength], applied in a random order
    (torchvision's randperm).
    """
    low, high = max(0.0, 1.0 - strength), 1.0 + strength
    factors = uniform(fold(seed, 0), (3,), low, high)
    order = tf.argsort(uniform(fold(seed, 1), (3,)))
    for position in range(3):
        image = _jitter_step(image, order[position], factors)
    return image
