"""The per-image ops against torchvision's and timm's rules, and PIL's colour operations."""

from __future__ import annotations

import math

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image, ImageEnhance, ImageOps

from registry.training import augment_ops as ops
from registry.training import augment_policies as policies


def _seeds(count: int) -> tf.Tensor:
    """Seeds as the pipeline makes them: a random 64-bit number, and the stream."""
    numbers = np.random.default_rng(0).integers(-(2**62), 2**62, count)
    return tf.constant(np.stack([numbers, np.zeros(count, np.int64)], 1))


def _boxes(height, width, scale, ratio, count=10_000) -> np.ndarray:
    draw = tf.function(
        lambda seeds: tf.map_fn(
            lambda s: ops.resized_crop_box(s, height, width, scale, ratio),
            seeds,
            fn_output_signature=tf.int32,
            parallel_iterations=64,
        )
    )
    return draw(_seeds(count)).numpy()


def _ks_uniform(samples: np.ndarray, low: float, high: float) -> float:
    """Kolmogorov-Smirnov p-value of `samples` against uniform on [low, high]."""
    try:
        from scipy import stats
    except ImportError:  # the statistic by hand, with the asymptotic p-value
        x = np.sort((samples - low) / (high - low))
        n = len(x)
        d = max(np.max(np.arange(1, n + 1) / n - x), np.max(x - np.arange(n) / n))
        t = (math.sqrt(n) + 0.12 + 0.11 / math.sqrt(n)) * d
        return float(2 * sum((-1) ** (k - 1) * math.exp(-2 * k * k * t * t) for k in range(1, 100)))
    return float(stats.kstest(samples, stats.uniform(low, high - low).cdf).pvalue)


def test_resized_crop_area_in_scale_and_log_ratio_uniform():
    # A large image, so rounding the sides to whole pixels hardly moves the
    # ratio, and scale at most 0.5, so the first try always fits and the
    # accepted crops are the draws themselves.
    side, scale, ratio = 4096, (0.08, 0.5), (3 / 4, 4 / 3)
    boxes = _boxes(side, side, scale, ratio)
    top, left, h, w = boxes.T
    area = h * w / side**2
    assert area.min() >= scale[0] * 0.999 and area.max() <= scale[1] * 1.001
    assert _ks_uniform(area, *scale) > 0.01  # area uniform in scale
    log_ratio = np.log(w / h)
    assert _ks_uniform(log_ratio, math.log(ratio[0]), math.log(ratio[1])) > 0.01
    assert (top >= 0).all() and (top + h <= side).all() and (left + w <= side).all()
    # A placement uniform over where the crop fits.
    assert _ks_uniform(top / (side - h), 0.0, 1.0) > 0.001


def test_resized_crop_default_scale_keeps_crops_inside_and_not_always_whole():
    boxes = _boxes(32, 32, (0.08, 1.0), (3 / 4, 4 / 3), count=2000)
    top, left, h, w = boxes.T
    assert (h >= 1).all() and (top + h <= 32).all() and (left + w <= 32).all()
    assert 0.08 * 0.9 <= (h * w / 1024).min() and (h * w).max() <= 1024
    assert len(set(map(tuple, boxes))) > 500


@pytest.mark.parametrize(
    "height, width, ratio, box",
    [
        # in_ratio 1 < min(ratio) 4: whole width, h = round(w / 4), centred.
        (40, 40, (4.0, 5.0), (15, 0, 10, 40)),
        # in_ratio 1 > max(ratio) 0.2: whole height, w = round(h * 0.2), centred.
        (40, 40, (0.1, 0.2), (0, 16, 40, 8)),
    ],
)
def test_resized_crop_falls_back_to_torchvisions_centre_crop(height, width, ratio, box):
    # Areas of 90% to 100% of the image at these ratios never fit: every try fails.
    boxes = _boxes(height, width, (0.9, 1.0), ratio, count=50)
    assert {tuple(b) for b in boxes} == {box}


def test_resized_crop_resizes_back_to_the_image_size():
    image = tf.random.stateless_uniform((20, 30, 3), (1, 2), 0, 255)
    out = ops.random_resized_crop(image, tf.constant([3, 4], tf.int64), (0.1, 0.5), (0.5, 2.0))
    assert out.shape == (20, 30, 3)


def test_erasing_replaces_one_rectangle_within_scale():
    white = tf.fill((40, 40, 3), 255.0)
    fractions = []
    for i in range(40):
        seed = tf.constant([i, 9], tf.int64)
        out = ops.random_erasing(white, seed, 1.0, (0.02, 1 / 3), (0.3, 1 / 0.3), 0.0).numpy()
        erased = np.all(out == 0.0, axis=-1)
        rows, cols = np.nonzero(erased.any(1))[0], np.nonzero(erased.any(0))[0]
        assert erased.sum() == len(rows) * len(cols)  # a rectangle
        assert rows.size < 40 and cols.size < 40  # timm's h < height, w < width
        fractions.append(erased.mean())
    assert 0.02 * 0.8 <= min(fractions) and max(fractions) <= 1 / 3 * 1.2


def test_erasing_noise_is_imagenet_normal_in_pixels():
    noise = ops.erasing_noise(tf.constant([0, 1], tf.int64), (200, 200, 3), 3).numpy()
    mean = noise.reshape(-1, 3).mean(0) / 255
    std = noise.reshape(-1, 3).std(0) / 255
    np.testing.assert_allclose(mean, ops.IMAGENET_MEAN, atol=0.01)
    np.testing.assert_allclose(std, ops.IMAGENET_STD, atol=0.01)


def test_erasing_probability_zero_changes_nothing_in_effect():
    image = tf.random.stateless_uniform((16, 16, 3), (1, 2), 0, 255)
    out = ops.random_erasing(image, tf.constant([1, 1], tf.int64), 1e-9, (0.02, 0.3), (0.3, 3.3))
    np.testing.assert_array_equal(out, image)


def _photo(seed=0, size=24) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.integers(30, 200, (size, size, 3))
    ramp = np.linspace(0, 50, size)[None, :, None].astype(int)
    return np.clip(base + ramp, 0, 255).astype(np.uint8)


@pytest.mark.parametrize(
    "ours, pils",
    [
        (policies.autocontrast, ImageOps.autocontrast),
        (policies.equalize, ImageOps.equalize),
        (policies.invert, ImageOps.invert),
        (lambda x: policies.posterize(x, 3), lambda im: ImageOps.posterize(im, 3)),
        (lambda x: policies.posterize(x, 1), lambda im: ImageOps.posterize(im, 1)),
        (lambda x: policies.solarize(x, 128.0), lambda im: ImageOps.solarize(im, 128)),
    ],
)
def test_pixel_operations_equal_pils(ours, pils):
    image = _photo()
    expected = np.asarray(pils(Image.fromarray(image)), np.float32)
    got = ours(tf.constant(image, tf.float32)).numpy()
    np.testing.assert_allclose(got, expected, atol=1.0)


@pytest.mark.parametrize(
    "ours, enhancer",
    [
        (policies.brightness, ImageEnhance.Brightness),
        (policies.saturation, ImageEnhance.Color),
        (policies.contrast, ImageEnhance.Contrast),
        (policies.sharpness, ImageEnhance.Sharpness),
    ],
)
@pytest.mark.parametrize("factor", [0.1, 1.72])
def test_blends_equal_pils_imageenhance(ours, enhancer, factor):
    image = _photo(1)
    expected = np.asarray(enhancer(Image.fromarray(image)).enhance(factor), np.float32)
    got = ours(tf.constant(image, tf.float32), factor).numpy()
    # PIL rounds to uint8 (and its grey and mean to whole numbers) on the way.
    np.testing.assert_allclose(got, expected, atol=2.0)


def test_shear_and_translate_follow_pils_affine_data():
    image = _photo(2)
    pil = Image.fromarray(image)
    shifted = np.asarray(pil.transform(pil.size, Image.AFFINE, (1, 0, 3, 0, 1, 0)), np.float32)
    ours = policies.translate_x(tf.constant(image, tf.float32), 3.0, 0.0, "NEAREST").numpy()
    np.testing.assert_array_equal(ours, shifted)
