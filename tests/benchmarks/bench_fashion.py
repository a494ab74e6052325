"""Fashion-MNIST with ResNet-20: resblocks `train` against a plain `fit` and a PyTorch loop.

    python tests/benchmarks/bench_fashion.py                          # 10,000 images, 1 epoch
    python tests/benchmarks/bench_fashion.py --images 60000 --epochs 3 --repeats 2

The same network (He et al. 2015's ResNet-20 for CIFAR, sec. 4.2: a 3x3
conv of 16, three stages of three basic blocks of 16, 32 and 64 filters,
zero-padding shortcuts, global average pooling, 10 classes), the same
images (the first --images of Fashion-MNIST's training split, 28x28x1),
batch, optimizer (SGD, learning rate 0.1, momentum 0.9) and epochs, and
the same validation after each epoch (the first --test-images of the test
split), three ways:

a. resblocks: `registry.train` on the images as arrays, which go through
   the pipeline a named set goes through (`ImageArrays`, tf.data, the run
   folder's per-epoch commit, curves and TensorBoard scalars);
b. plain Keras, the way a Keras user writes it: a functional
   `keras.Model` of Conv2D / BatchNormalization / ReLU blocks built by
   hand, pixels / 255 in numpy, `model.fit(x, y, validation_data=...)`;
c. plain PyTorch (CPU): the same network as an `nn.Module`, a loop of
   `optimizer.step()` over shuffled index batches;

and a'. the network of (a) (`registry.build`, its rescaling inside) trained
as (b) trains: `fit` on the uint8 arrays. Between (a) and (b) it tells the
network's share of a difference from the pipeline's and the run folder's.

Each side runs in a process of its own (one at a time, so they do not
share the cores), in the order b, a, c, --repeats times. It prints images
per second and seconds per epoch (each epoch's wall time, validation
included, as `fit` reports it) with their ratio to (b), and the accuracy
on the test images after the last epoch; for (a) also where its time goes
outside the epochs (building, the data pipeline, saving). The goal of
issue #22: resblocks at 1.0x plain `fit` or faster.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SIDES = {
    "keras": "b. plain keras.Model + fit",
    "resblocks": "a. resblocks train",
    "build_fit": "a'. resblocks build + plain fit",
    "torch": "c. plain PyTorch loop",
}
ORDER = ("keras", "resblocks", "build_fit", "torch")  # the reference first
LEARNING_RATE = 0.1
MOMENTUM = 0.9
STAGES = ((16, 1), (32, 2), (64, 2))  # (filters, stride of the first block)
BLOCKS = 3  # per stage: ResNet-20 is 6n+2 with n = 3


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench_fashion", description=__doc__.split("\n")[0])
    p.add_argument("--images", type=int, default=10_000, help="training images (at most 60000)")
    p.add_argument("--epochs", type=int, default=1, help="epochs each side trains")
    p.add_argument("--batch", type=int, default=128, help="images per step")
    p.add_argument("--test-images", type=int, default=2_000, help="test images validated on")
    p.add_argument("--repeats", type=int, default=1, help="runs of each side, alternating")
    p.add_argument(
        "--sides", default=",".join(ORDER), help="comma-separated: keras,resblocks,torch"
    )
    p.add_argument("--worker", choices=ORDER, help=argparse.SUPPRESS)  # internal: one side
    return p.parse_args(argv)


def load(images: int, test_images: int):
    """Fashion-MNIST as keras.datasets gives it: uint8 (n, 28, 28) and int labels."""
    import numpy as np

    from registry.training.named_sets import find

    found = find("fashion_mnist")
    train, test = found.load("train"), found.load("test")
    return (
        train.images[:images, ..., 0],
        np.asarray(train.labels[:images]),
        test.images[:test_images, ..., 0],
        np.asarray(test.labels[:test_images]),
        list(train.class_names),
    )


# --- (a) resblocks ---------------------------------------------------------------


def resblocks_recipe(batch: int, epochs: int) -> dict:
    """resnet20_cifar at 28x28x1 (the grayscale images as they are, like (b) and (c)), trained
    as (b) and (c) train."""
    from registry.recipe.files import read_recipe

    recipe, _ = read_recipe("resnet20_cifar")
    recipe["input_shape"] = [28, 28, 1]
    recipe["train"] = {
        "image_size": 28,
        "batch_size": batch,
        "epochs": epochs,
        "optimizer": {"name": "sgd", "learning_rate": LEARNING_RATE, "momentum": MOMENTUM},
    }
    return recipe


def run_resblocks(args, x, y, x_test, y_test, class_names) -> dict:
    from registry.training.run import train
    from registry.training.rundir import read_history_csv

    recipe = resblocks_recipe(args.batch, args.epochs)
    with tempfile.TemporaryDirectory(prefix="bench-fashion-") as out:
        start = time.perf_counter()
        train(
            recipe,
            data=(x, y),
            val=(x_test, y_test),
            class_names=class_names,
            out=out,
            verbose=0,
        )
        wall = time.perf_counter() - start
        history = read_history_csv(Path(out) / "history.csv")
    epochs = [row["seconds"] for row in history]
    return {
        "epoch_seconds": epochs,
        "wall": wall,
        "accuracy": history[-1]["val_accuracy"],
        "outside_epochs": wall - sum(epochs),
    }


# --- (b) plain Keras --------------------------------------------------------------


def plain_keras_model():
    """ResNet-20 as a Keras user writes it: conv/BN/ReLU blocks, option A shortcuts."""
    import keras
    from keras import layers

    def conv_bn(x, filters, strides=1, relu=True):
        x = layers.Conv2D(
            filters, 3, strides, padding="same", use_bias=False, kernel_initializer="he_normal"
        )(x)
        x = layers.BatchNormalization(momentum=0.9, epsilon=1e-5)(x)
        return layers.ReLU()(x) if relu else x

    def shortcut(x, filters, strides):
        """Option A: every other pixel, the new channels zeros (a Lambda, as users write it)."""
        if strides == 1 and x.shape[-1] == filters:
            return x
        pad = [[0, 0], [0, 0], [0, 0], [0, filters - x.shape[-1]]]
        return layers.Lambda(lambda t: keras.ops.pad(t[:, ::strides, ::strides, :], pad))(x)

    inputs = keras.Input((28, 28, 1))
    x = conv_bn(inputs, 16)
    for filters, stride in STAGES:
        for block in range(BLOCKS):
            strides = stride if block == 0 else 1
            branch = conv_bn(conv_bn(x, filters, strides), filters, relu=False)
            x = layers.ReLU()(layers.Add()([branch, shortcut(x, filters, strides)]))
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(10, activation="softmax")(x)
    return keras.Model(inputs, outputs)


def run_keras(args, x, y, x_test, y_test, class_names) -> dict:
    pixels, test_pixels = (a[..., None].astype("float32") / 255 for a in (x, x_test))
    return fit_numpy(args, plain_keras_model, pixels, y, test_pixels, y_test)


def run_build_fit(args, x, y, x_test, y_test, class_names) -> dict:
    from registry import build

    def model():
        return build(resblocks_recipe(args.batch, args.epochs), include_preprocessing=True)

    return fit_numpy(args, model, x[..., None], y, x_test[..., None], y_test)


def fit_numpy(args, make_model, x, y, x_test, y_test) -> dict:
    """`fit` on numpy arrays, as a Keras user trains: the model made by `make_model`."""
    import keras

    start = time.perf_counter()
    model = make_model()
    model.compile(
        optimizer=keras.optimizers.SGD(LEARNING_RATE, momentum=MOMENTUM),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    times = epoch_times()
    history = model.fit(
        x,
        y,
        batch_size=args.batch,
        epochs=args.epochs,
        validation_data=(x_test, y_test),
        callbacks=[times],
        verbose=0,
    )
    wall = time.perf_counter() - start
    return {
        "epoch_seconds": times.seconds,
        "wall": wall,
        "accuracy": history.history["val_accuracy"][-1],
        "outside_epochs": wall - sum(times.seconds),
    }


def epoch_times():
    """A callback that keeps each epoch's wall time (made here: Keras is imported late)."""
    import keras

    class Times(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seconds: list[float] = []

        def on_epoch_begin(self, epoch, logs=None):
            self._start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self._start)

    return Times()


# --- (c) plain PyTorch ------------------------------------------------------------


def torch_model():
    """ResNet-20 as a PyTorch user writes it: an nn.Module per block, option A shortcuts."""
    import torch
    from torch import nn
    from torch.nn import functional as F

    class Block(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.stride, self.extra = stride, cout - cin

        def forward(self, x):
            out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
            skip = x[:, :, :: self.stride, :: self.stride] if self.stride > 1 else x
            if self.extra:
                skip = F.pad(skip, (0, 0, 0, 0, 0, self.extra))
            return F.relu(out + skip)

    torch.manual_seed(0)
    layers, cin = [nn.Conv2d(1, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU()], 16
    for filters, stride in STAGES:
        for block in range(BLOCKS):
            layers.append(Block(cin, filters, stride if block == 0 else 1))
            cin = filters
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10)]
    net = nn.Sequential(*layers)
    for module in net.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
    return net


def run_torch(args, x, y, x_test, y_test, class_names) -> dict:
    import torch
    from torch.nn import functional as F

    start = time.perf_counter()
    net = torch_model()
    optimizer = torch.optim.SGD(net.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM)
    images = torch.from_numpy(x[:, None].astype("float32") / 255)
    labels = torch.from_numpy(y.astype("int64"))
    test_images = torch.from_numpy(x_test[:, None].astype("float32") / 255)
    test_labels = torch.from_numpy(y_test.astype("int64"))
    seconds, accuracy = [], 0.0
    for _ in range(args.epochs):
        epoch_start = time.perf_counter()
        net.train()
        for batch in torch.randperm(len(images)).split(args.batch):
            optimizer.zero_grad()
            F.cross_entropy(net(images[batch]), labels[batch]).backward()
            optimizer.step()
        net.eval()
        with torch.no_grad():
            correct = sum(
                int((net(xs).argmax(1) == ys).sum())
                for xs, ys in zip(test_images.split(256), test_labels.split(256))
            )
        accuracy = correct / len(test_images)
        seconds.append(time.perf_counter() - epoch_start)
    wall = time.perf_counter() - start
    return {
        "epoch_seconds": seconds,
        "wall": wall,
        "accuracy": accuracy,
        "outside_epochs": wall - sum(seconds),
    }


RUNNERS = {
    "resblocks": run_resblocks,
    "keras": run_keras,
    "build_fit": run_build_fit,
    "torch": run_torch,
}


# --- the driver ---------------------------------------------------------------------


def worker(args) -> None:
    data = load(args.images, args.test_images)
    if args.worker != "torch":
        import keras

        keras.utils.set_random_seed(0)
    result = RUNNERS[args.worker](args, *data)
    print("RESULT " + json.dumps(result), flush=True)


def run_side(side: str, args) -> dict:
    command = [
        sys.executable,
        __file__,
        "--worker",
        side,
        *("--images", str(args.images), "--epochs", str(args.epochs)),
        *("--batch", str(args.batch), "--test-images", str(args.test_images)),
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode or not lines:
        raise RuntimeError(f"{side} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT ") :])


def table(results: dict[str, list[dict]], args) -> str:
    """One line per side: medians over the repeats, ratios against plain fit."""

    def per_epoch(result):
        return statistics.median(result["epoch_seconds"])

    reference = statistics.median(per_epoch(r) for r in results["keras"])
    rows = [
        "| side | images/s | s/epoch | speed vs (b) | outside the epochs | test accuracy |",
        "|---|---|---|---|---|---|",
    ]
    for side in (s for s in ORDER if s in results):
        epoch = statistics.median(per_epoch(r) for r in results[side])
        outside = statistics.median(r["outside_epochs"] for r in results[side])
        accuracy = statistics.median(r["accuracy"] for r in results[side])
        rows.append(
            f"| {SIDES[side]} | {args.images / epoch:.0f} | {epoch:.1f} | "
            f"{reference / epoch:.2f}x | {outside:.1f} s | {accuracy:.3f} |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        worker(args)
        return 0
    sides = [s for s in ORDER if s in args.sides.split(",")]
    if "keras" not in sides:
        raise SystemExit("--sides must include keras: the ratios are against plain fit")
    results: dict[str, list[dict]] = {side: [] for side in sides}
    for repeat in range(args.repeats):
        for side in sides if repeat % 2 == 0 else reversed(sides):
            results[side].append(run_side(side, args))
            print(f"{side}: {json.dumps(results[side][-1])}", flush=True)
    with open("/proc/loadavg") as f:
        load_average = " ".join(f.read().split()[:3])
    print(
        f"\nResNet-20 on Fashion-MNIST: {args.images:,} training images, {args.epochs} "
        f"epoch(s), batch {args.batch}, SGD {LEARNING_RATE} momentum {MOMENTUM}, validated on "
        f"{args.test_images:,} test images; {args.repeats} run(s) of each side, medians; "
        f"{os.cpu_count()} cores, load average {load_average} at the end\n"
    )
    print(table(results, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
