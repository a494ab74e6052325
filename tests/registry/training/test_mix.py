"""Mixup and cutmix: images and targets as timm's Mixup (batch reversed), lam fitted to the box."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from registry.recipe.train_spec import AugmentSpec
from registry.training.augment import mix_batches
from registry.training.mix import (
    cutmix_box,
    cutmix_images,
    mix_batch,
    mix_target,
    mixup_images,
    smoothed,
)


def _batch(n=6, size=8, classes=5, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.uniform(0, 1, (n, size, size, 3)).astype(np.float32)
    labels = rng.integers(0, classes, n)
    return images, np.eye(classes, dtype=np.float32)[labels]


def _timm_target(one_hot, lam, smoothing):
    classes = one_hot.shape[-1]
    off = smoothing / classes
    on = 1.0 - smoothing + off
    y = np.where(one_hot == 1, on, off)
    return y * lam + y[::-1] * (1.0 - lam)


def test_mixup_images_and_targets_equal_the_formulas():
    images, one_hot = _batch()
    lam = 0.3
    np.testing.assert_allclose(
        mixup_images(images, lam).numpy(), lam * images + (1 - lam) * images[::-1], atol=1e-6
    )
    np.testing.assert_allclose(
        mix_target(one_hot, lam, 0.1).numpy(), _timm_target(one_hot, lam, 0.1), atol=1e-6
    )


def test_label_smoothing_composes_as_timm():
    _, one_hot = _batch(classes=10)
    y = smoothed(tf.constant(one_hot), 0.1).numpy()
    np.testing.assert_allclose(np.unique(y), [0.01, 0.91], atol=1e-7)
    # lam = 1 (a batch left unmixed): the smoothed one-hot alone.
    np.testing.assert_allclose(mix_target(one_hot, 1.0, 0.1).numpy(), y, atol=1e-7)


def test_cutmix_pastes_the_reversed_batch_in_the_box():
    images, _ = _batch(size=10)
    box = tf.constant([2, 7, 3, 9])
    expected = images.copy()
    expected[:, 2:7, 3:9] = images[::-1][:, 2:7, 3:9]
    np.testing.assert_allclose(cutmix_images(images, box).numpy(), expected, atol=1e-6)


@pytest.mark.parametrize("lam", [0.1, 0.5, 0.9])
def test_cutmix_box_is_timms_rand_bbox_with_lam_corrected(lam):
    height, width = 20, 30
    cut_h, cut_w = int(height * np.sqrt(1 - lam)), int(width * np.sqrt(1 - lam))
    for i in range(30):
        box, corrected = cutmix_box(tf.constant([i, 3], tf.int64), height, width, lam)
        top, bottom, left, right = box.numpy()
        assert 0 <= top <= bottom <= height and 0 <= left <= right <= width
        # centre +- cut // 2, clipped: never larger than 2 * (cut // 2).
        assert bottom - top <= 2 * (cut_h // 2) and right - left <= 2 * (cut_w // 2)
        area = (bottom - top) * (right - left)
        assert float(corrected) == pytest.approx(1 - area / (height * width), abs=1e-6)


def test_mix_batch_images_and_targets_agree_on_one_lambda():
    images, one_hot = _batch(n=8, classes=8)
    one_hot = np.eye(8, dtype=np.float32)  # every image its own class
    seen = set()
    for i in range(20):
        out, target = mix_batch(
            images, one_hot, tf.constant([i, 0], tf.int64), mixup=0.4, cutmix=1.0, smoothing=0.1
        )
        out, target = out.numpy(), target.numpy()
        on = 1 - 0.1 + 0.1 / 8
        lam = (target[0, 0] - 0.1 / 8) / (on - 0.1 / 8)
        np.testing.assert_allclose(target, _timm_target(one_hot, lam, 0.1), atol=1e-6)
        mixed = lam * images + (1 - lam) * images[::-1]
        if np.allclose(out, mixed, atol=1e-6):
            seen.add("mixup")
        else:  # cutmix: each pixel from the image or the reversed one; the box's share is 1 - lam
            from_other = np.all(out == images[::-1], axis=-1) & ~np.all(out == images, axis=-1)
            assert np.all((out == images) | (out == images[::-1]))
            assert from_other[0].mean() == pytest.approx(1 - lam, abs=1e-6)
            seen.add("cutmix")
    assert seen == {"mixup", "cutmix"}


def test_mix_probability_zero_leaves_images_and_smooths_targets():
    images, one_hot = _batch()
    out, target = mix_batch(
        images,
        one_hot,
        tf.constant([1, 1], tf.int64),
        mixup=1.0,
        cutmix=1.0,
        probability=0.0,
        smoothing=0.2,
    )
    np.testing.assert_array_equal(out.numpy(), images)
    np.testing.assert_allclose(target.numpy(), _timm_target(one_hot, 1.0, 0.2), atol=1e-7)


def test_mix_batches_repeats_from_the_seed():
    images, one_hot = _batch(n=4)
    dataset = tf.data.Dataset.from_tensors((images, one_hot)).repeat(5)
    spec = AugmentSpec(mixup=0.2, cutmix=1.0)
    first = [x.numpy() for x, _ in mix_batches(dataset, spec, seed=3)]
    again = [x.numpy() for x, _ in mix_batches(dataset, spec, seed=3)]
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert len({x.tobytes() for x in first}) == 5
