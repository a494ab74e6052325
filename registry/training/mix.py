"""Mixup and CutMix of whole batches, with timm's targets (`timm.data.Mixup`, mode "batch").

Each image is mixed with the image at the mirrored place of the batch (the
batch reversed, timm's `x.flip(0)`), with one lambda per batch:

- mixup (Zhang et al. 2018): `lam * x + (1 - lam) * x_reversed`, lam ~ Beta(alpha, alpha);
- cutmix (Yun et al. 2019): a box of `x_reversed` pasted into `x`, the box
  from timm's `rand_bbox` and lam recomputed from its clipped area
  (timm's `correct_lam`).

Targets are timm's `mixup_target`: one-hot smoothed to `smoothing / classes`
off and `1 - smoothing + smoothing / classes` on, then
`lam * y + (1 - lam) * y_reversed`; so with mixing on, label smoothing lives
here and the loss takes the soft targets as they are.

Images in [0, 255] mix as normalised ones would: normalisation is affine,
so it commutes with a convex combination.
"""

from __future__ import annotations

import tensorflow as tf

from registry.training.augment_ops import coin, fold, randint


def smoothed(one_hot: tf.Tensor, smoothing: float) -> tf.Tensor:
    """timm's one_hot(on_value=1 - smoothing + off, off_value=smoothing / classes)."""
    one_hot = tf.convert_to_tensor(one_hot)
    classes = tf.cast(tf.shape(one_hot)[-1], one_hot.dtype)
    off = smoothing / classes
    return one_hot * (1.0 - smoothing) + off


def mix_target(one_hot: tf.Tensor, lam, smoothing: float = 0.0) -> tf.Tensor:
    """timm's `mixup_target`: `lam * y + (1 - lam) * y_reversed`, y smoothed."""
    y = smoothed(tf.cast(tf.convert_to_tensor(one_hot), tf.float32), smoothing)
    return lam * y + (1.0 - lam) * y[::-1]


def mixup_images(images: tf.Tensor, lam) -> tf.Tensor:
    """`lam * x + (1 - lam) * x_reversed` (timm's `x.mul_(lam).add_(x.flip(0) * (1 - lam))`)."""
    images = tf.convert_to_tensor(images)
    return lam * images + (1.0 - lam) * images[::-1]


def cutmix_box(seed: tf.Tensor, height, width, lam) -> tuple[tf.Tensor, tf.Tensor]:
    """timm's `rand_bbox` and `correct_lam`: ((top, bottom, left, right), corrected lam).

    cut side `int(side * sqrt(1 - lam))`, centre uniform over the image
    (numpy's randint, high exclusive), the box `centre -+ cut // 2` clipped
    to the image; lam is then `1 - box area / image area`.
    """
    ratio = tf.sqrt(1.0 - lam)
    cut_h = tf.cast(tf.floor(tf.cast(height, tf.float32) * ratio), tf.int32)
    cut_w = tf.cast(tf.floor(tf.cast(width, tf.float32) * ratio), tf.int32)
    cy = randint(fold(seed, 0), 0, height)
    cx = randint(fold(seed, 1), 0, width)
    top = tf.clip_by_value(cy - cut_h // 2, 0, height)
    bottom = tf.clip_by_value(cy + cut_h // 2, 0, height)
    left = tf.clip_by_value(cx - cut_w // 2, 0, width)
    right = tf.clip_by_value(cx + cut_w // 2, 0, width)
    area = tf.cast((bottom - top) * (right - left), tf.float32)
    corrected = 1.0 - area / tf.cast(height * width, tf.float32)
    return tf.stack([top, bottom, left, right]), corrected


def cutmix_images(images: tf.Tensor, box: tf.Tensor) -> tf.Tensor:
    """`x[:, top:bottom, left:right] = x_reversed[:, top:bottom, left:right]` (NHWC)."""
    images = tf.convert_to_tensor(images)
    top, bottom, left, right = tf.unstack(box)
    shape = tf.shape(images)
    rows = tf.range(shape[1])[:, None, None]
    cols = tf.range(shape[2])[None, :, None]
    inside = (rows >= top) & (rows < bottom) & (cols >= left) & (cols < right)
    return tf.where(inside[None], images[::-1], images)


def beta(seed: tf.Tensor, alpha: float) -> tf.Tensor:
    """A draw of Beta(alpha, alpha), as X / (X + Y) of two Gamma(alpha) draws."""
    x = tf.random.stateless_gamma((), fold(seed, 0), alpha=alpha)
    y = tf.random.stateless_gamma((), fold(seed, 1), alpha=alpha)
    return x / tf.maximum(x + y, 1e-12)


def mix_batch(
    images: tf.Tensor,
    one_hot: tf.Tensor,
    seed: tf.Tensor,
    *,
    mixup: float,
    cutmix: float,
    probability: float = 1.0,
    switch_probability: float = 0.5,
    smoothing: float = 0.0,
) -> tuple[tf.Tensor, tf.Tensor]:
    """timm's `Mixup(mode="batch")` on a batch: (mixed images, soft targets).

    As timm's `_params_per_batch`: with probability `probability` the batch
    is mixed, by cutmix with probability `switch_probability` when both
    alphas are on, else by the one that is; otherwise lam = 1 (targets
    smoothed only).
    """
    images = tf.convert_to_tensor(images)
    mixed = coin(fold(seed, 0), probability)
    if mixup > 0 and cutmix > 0:
        use_cutmix = coin(fold(seed, 1), switch_probability)
    else:
        use_cutmix = tf.constant(cutmix > 0)
    alpha_mix = mixup if mixup > 0 else cutmix
    alpha_cut = cutmix if cutmix > 0 else mixup
    lam_mixup = beta(fold(seed, 2), alpha_mix)
    lam_cutmix = beta(fold(seed, 3), alpha_cut)
    shape = tf.shape(images)
    box, lam_box = cutmix_box(fold(seed, 4), shape[1], shape[2], lam_cutmix)

    def do_cutmix():
        return cutmix_images(images, box), lam_box

    def do_mixup():
        return mixup_images(images, lam_mixup), lam_mixup

    def as_is():
        return images, tf.constant(1.0)

    out, lam = tf.cond(mixed, lambda: tf.cond(use_cutmix, do_cutmix, do_mixup), as_is)
    out.set_shape(images.shape)
    return out, mix_target(one_hot, lam, smoothing)
