"""Training augmentation in the tf.data pipeline: per image in parallel, then mixes per batch.

Where it runs: in `tf.data`, on CPU, not as layers at the front of the
network. Why: the saved `.keras` model then holds the network alone, so
evaluation, prediction and export need no care about a training flag, and
the file reloads with `safe_mode=True` like any other; `prefetch` overlaps
the work with the training step.

Randomness that repeats and differs: each image is paired, before it is
mapped, with a number from `tf.data.Dataset.random(seed,
rerandomize_each_iteration=True)`, and every draw for it is a stateless op
(`tf.random.stateless_*`) seeded from that number. So images can be mapped
in parallel (`num_parallel_calls=AUTOTUNE`, order kept) without two of them
reading one seed state (Keras' layers share a state, and parallel batch maps
once drew the same transform twice); the same seed gives the same images;
each pass over the data (each epoch) draws new numbers. A resumed run starts
from `seed + initial_epoch`, as the shuffle does.

Order, as timm's `transforms_imagenet_train` then its `Mixup`: crop
(random_resized_crop, random_crop), flips, rotation / shifts / zoom, the
policy (trivial_augment or rand_augment), color_jitter, random_erasing; then
batching; then mixup / cutmix of each batch with soft targets
(`registry.training.mix`). Images stay float32 in [0, 255] throughout.

The ops: `registry.training.augment_ops` (geometry, crops, erasing) and
`registry.training.augment_policies` (RandAugment, TrivialAugmentWide,
ColorJitter).
"""

from __future__ import annotations

from collections.abc import Callable

import tensorflow as tf

from registry.recipe.train_spec import AugmentSpec
from registry.training import augment_ops as ops
from registry.training import augment_policies as policies
from registry.training.mix import mix_batch

ImageAugment = Callable[[tf.Tensor, tf.Tensor], tf.Tensor]

# Streams of `seed`: one for the images, one for the batches' mixes.
_IMAGES, _BATCHES = 0, 1


def image_augment(spec: AugmentSpec) -> ImageAugment | None:
    """The per-image function `(image, seed) -> image` of `spec`, or None when it changes nothing.

    `image` is float32 `(height, width, channels)` in [0, 255]; `seed` an
    int64 tensor of shape (2,). Each step draws from its own fold of the seed.
    """
    steps: list[Callable[[tf.Tensor, tf.Tensor], tf.Tensor]] = []
    crop = spec.random_resized_crop
    if crop is not None:
        steps.append(
            lambda x, s: tf.clip_by_value(
                ops.random_resized_crop(
                    x, s, tuple(crop.scale), tuple(crop.ratio), crop.interpolation
                ),
                0.0,
                255.0,
            )
        )
    if spec.random_crop is not None:
        padding = spec.random_crop.padding
        steps.append(lambda x, s: ops.random_crop(x, s, padding))
    if spec.horizontal_flip or spec.vertical_flip:
        steps.append(lambda x, s: ops.flip(x, s, spec.horizontal_flip, spec.vertical_flip))
    if spec.rotation or spec.width_shift or spec.height_shift or spec.zoom:
        steps.append(
            lambda x, s: ops.affine(
                x, s, spec.rotation, spec.width_shift, spec.height_shift, spec.zoom
            )
        )
    if spec.trivial_augment:
        steps.append(policies.trivial_augment)
    if spec.rand_augment is not None:
        rand = spec.rand_augment
        steps.append(
            lambda x, s: policies.rand_augment(
                x, s, rand.num_ops, rand.magnitude, rand.magnitude_std
            )
        )
    if spec.color_jitter:
        steps.append(lambda x, s: policies.color_jitter(x, s, spec.color_jitter))
    erasing = spec.random_erasing
    if erasing is not None:
        steps.append(
            lambda x, s: ops.random_erasing(
                x,
                s,
                erasing.probability,
                tuple(erasing.scale),
                tuple(erasing.ratio),
                erasing.value,
            )
        )
    if not steps:
        return None

    def augment(image: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
        shape = image.shape
        image = tf.cast(image, tf.float32)
        for i, step in enumerate(steps):
            image = step(image, ops.fold(seed, i))
            image.set_shape(shape)
        return image

    return augment


def _keyed(dataset: tf.data.Dataset, seed: int, stream: int) -> tf.data.Dataset:
    """`dataset` zipped with one stateless seed (int64, shape (2,)) per element, new each pass."""
    numbers = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
    keys = numbers.map(lambda n: tf.stack([n, tf.constant(stream, tf.int64)]))
    return tf.data.Dataset.zip(dataset, keys)


def augment_images(
    spec: AugmentSpec, seed: int
) -> Callable[[tf.data.Dataset], tf.data.Dataset] | None:
    """A transformation of an unbatched `(image, label)` dataset, or None when nothing is on.

    For `image_dataset(augment=...)`: maps `image_augment(spec)` over the
    images in parallel, order kept, each image with its own seed.
    """
    augment = image_augment(spec)
    if augment is None:
        return None

    def apply(dataset: tf.data.Dataset) -> tf.data.Dataset:
        return _keyed(dataset, seed, _IMAGES).map(
            lambda element, key: (augment(element[0], key), *element[1:]),
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True,
        )

    return apply


def mix_batches(
    dataset: tf.data.Dataset, spec: AugmentSpec, seed: int, smoothing: float = 0.0
) -> tf.data.Dataset:
    """Mixup / cutmix over a batched `(images, one_hot)` dataset; targets become soft (timm).

    `smoothing` is the recipe's label smoothing, composed into the targets
    as timm's `mixup_target` does (so the loss must not smooth again).
    Returned as is when neither mixup nor cutmix is on.
    """
    if not spec.mixes:
        return dataset

    def mix(element, key):
        images, one_hot = element
        return mix_batch(
            images,
            one_hot,
            key,
            mixup=spec.mixup,
            cutmix=spec.cutmix,
            probability=spec.mix_probability,
            switch_probability=spec.mix_switch_probability,
            smoothing=smoothing,
        )

    return _keyed(dataset, seed, _BATCHES).map(
        mix, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
    )
