"""`make bench`: the training augmentation pipeline alone against the training step it feeds.

Two settings, each with RandAugment (timm's rand-m9-n2-mstd0.5), mixup 0.2
and cutmix 1.0 on, and printed in one run so the ratios share the
machine's state:

- resnet20_cifar on Fashion-MNIST at 28 px (grey, one channel), random_crop
  (padding 4) and flips: the smallest network, the hardest for the pipeline
  to keep up with;
- resnet50 at 224 px on random images, random_resized_crop and flips: the
  ImageNet recipe's shape (timm's A-recipes' augmentations).

Rates are images per second: the pipeline alone (per-image augmentation
in parallel, batching, one-hot, mixing; from memory) and `fit()` on one
batch held in memory (the step alone). Their ratio above 1 means training
does not wait for its input on this machine. Run:

    python tests/benchmarks/bench_augment.py [--small] [--repeats N]
"""

from __future__ import annotations

import argparse
import gzip
import os
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import tensorflow as tf

POLICY = {
    "horizontal_flip": True,
    "rand_augment": {"num_ops": 2, "magnitude": 9, "magnitude_std": 0.5},
    "mixup": 0.2,
    "cutmix": 1.0,
}
FASHION = Path("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")


def fashion_mnist(n: int) -> np.ndarray:
    """The first `n` Fashion-MNIST training images (uint8, 28x28x1), or random ones if absent."""
    if FASHION.exists():
        with gzip.open(FASHION) as f:
            data = np.frombuffer(f.read(), np.uint8, offset=16)
        return data.reshape(-1, 28, 28, 1)[:n].copy()
    print(f"  ({FASHION} not found: random 28x28 images instead)")
    return np.random.default_rng(0).integers(0, 256, (n, 28, 28, 1), dtype=np.uint8)


def pipeline(images: np.ndarray, batch: int, augment: dict, classes: int = 10) -> tf.data.Dataset:
    """What `train` feeds `fit()`: per-image augmentation, batches, one-hot, mixes."""
    from registry.recipe.train_spec import AugmentSpec
    from registry.training.augment import augment_images, mix_batches

    spec = AugmentSpec.model_validate(augment)
    labels = np.arange(len(images)) % classes
    dataset = tf.data.Dataset.from_tensor_slices((images, labels))
    dataset = augment_images(spec, seed=0)(dataset).batch(batch)

    def one_hot(images, labels):
        return images, tf.one_hot(labels, classes)

    dataset = dataset.map(one_hot, num_parallel_calls=tf.data.AUTOTUNE)
    return mix_batches(dataset, spec, seed=0, smoothing=0.1).prefetch(tf.data.AUTOTUNE)


def pipeline_rate(dataset: tf.data.Dataset, n: int, repeats: int) -> list[float]:
    for _ in dataset:  # traces the functions
        pass
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in dataset:
            pass
        rates.append(n / (time.perf_counter() - start))
    return rates


def step_rate(recipe: str, shape, batch: int, steps: int, repeats: int) -> list[float]:
    from registry import build

    model = build(recipe, num_classes=10, input_shape=shape)
    model.compile(optimizer="sgd", loss=keras.losses.CategoricalCrossentropy())
    x = np.random.default_rng(0).uniform(0, 255, (batch, *shape)).astype("float32")
    y = np.eye(10, dtype="float32")[np.arange(batch) % 10]
    held = tf.data.Dataset.from_tensors((x, y)).repeat()
    model.fit(held, steps_per_epoch=2, epochs=1, verbose=0)  # traces the step
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.fit(held, steps_per_epoch=steps, epochs=1, verbose=0)
        rates.append(steps * batch / (time.perf_counter() - start))
    keras.utils.clear_session()
    return rates


def machine_state() -> str:
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    return f"{os.cpu_count()} CPUs, load average {load}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench_augment", description=__doc__.split("\n")[0])
    p.add_argument("--small", action="store_true", help="few images and steps: a minute or two")
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args(argv)
    small = args.small
    print(f"Augmentation pipeline against the training step ({machine_state()}):")

    settings = [
        (
            "resnet20_cifar, Fashion-MNIST 28 px",
            "resnet20_cifar",
            fashion_mnist(512 if small else 8192),
            {**POLICY, "random_crop": {"padding": 4}},
            64 if small else 128,
            3 if small else 20,
        ),
        (
            "resnet50, 224 px",
            "resnet50",
            np.random.default_rng(1).integers(
                0, 256, (32 if small else 512, 224, 224, 3), dtype=np.uint8
            ),
            {**POLICY, "random_resized_crop": True},
            8 if small else 32,
            2 if small else 10,
        ),
    ]
    for title, recipe, images, augment, batch, steps in settings:
        feed = pipeline_rate(pipeline(images, batch, augment), len(images), args.repeats)
        step = step_rate(recipe, images.shape[1:], batch, steps, args.repeats)
        f, s = float(np.median(feed)), float(np.median(step))
        print(
            f"  {title}, batch {batch}: pipeline alone {f:.0f} img/s "
            f"({min(feed):.0f}-{max(feed):.0f}), training step {s:.1f} img/s "
            f"({min(step):.1f}-{max(step):.1f}); pipeline / step {f / s:.2f}"
        )
    print(f"  (after: {machine_state()})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
