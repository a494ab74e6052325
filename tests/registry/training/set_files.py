"""Tiny copies of the classic data sets' files, written in their exact formats, and a tiny recipe.

IDX (LeCun's MNIST format, gzipped or raw), keras' `mnist.npz`, and the
CIFAR-10 / CIFAR-100 python pickles (dicts with bytes keys, as Python 2
wrote them), so the readers and the search are tested on real layouts.
"""

from __future__ import annotations

import gzip
import pickle
import struct
from pathlib import Path

import helpers
import numpy as np
from helpers import image_recipe

# A 28x28-input network small enough to train in a test.
TINY28 = image_recipe(
    name="tiny28",
    input_shape=[28, 28, 3],
    train={"batch_size": 16, "epochs": 1, "val_split": 0.25},
    **{"head.num_classes": 10},
)


def write_recipe(path: Path, **train) -> Path:
    return helpers.write_recipe(path, {**TINY28, "train": {**TINY28["train"], **train}})


def idx_bytes(array: np.ndarray) -> bytes:
    """An IDX file's bytes: two zero bytes, type 0x08 (ubyte), the rank, sizes big-endian, data."""
    header = b"\x00\x00\x08" + bytes([array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_idx(path: Path, array: np.ndarray, *, gz: bool = True) -> Path:
    data = idx_bytes(array)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def class_images(n: int, size: int, classes: int = 10, seed: int = 0, channels: int = 0):
    """(images, labels): n images per class, each class a different brightness, plus noise."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(classes), n).astype(np.uint8)
    shape = (len(labels), size, size) + ((channels,) if channels else ())
    noise = rng.integers(0, 20, shape)
    level = (labels * (230 // classes)).reshape((-1,) + (1,) * (len(shape) - 1))
    return (level + noise).astype(np.uint8), labels


def write_idx_set(folder: Path, train: int = 3, test: int = 1, *, gz: bool = True, seed=0) -> Path:
    """The four IDX files of (Fashion-)MNIST in `folder`: `train`/`test` images per class."""
    suffix = ".gz" if gz else ""
    for split, n in (("train", train), ("t10k", test)):
        x, y = class_images(n, 28, seed=seed + (split == "t10k"))
        write_idx(folder / f"{split}-images-idx3-ubyte{suffix}", x, gz=gz)
        write_idx(folder / f"{split}-labels-idx1-ubyte{suffix}", y, gz=gz)
    return folder


def write_mnist_npz(path: Path, train: int = 3, test: int = 1) -> Path:
    x_train, y_train = class_images(train, 28)
    x_test, y_test = class_images(test, 28, seed=1)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    return path


def cifar_batch(n: int, classes: int, label_key: bytes, seed: int = 0) -> dict:
    """One CIFAR batch dict: `data` (n, 3072) uint8 in planes R, G, B; labels a list of ints."""
    images, labels = class_images(n, 32, classes, seed, channels=3)
    planes = images.transpose(0, 3, 1, 2).reshape(len(images), 3072)
    return {
        b"batch_label": b"batch",
        label_key: [int(v) for v in labels],
        b"data": planes,
        b"filenames": [f"{i}.png".encode() for i in range(len(images))],
    }


def write_pickle(path: Path, value, protocol: int = 2) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(value, protocol=protocol))
    return path


CIFAR10_NAMES = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
]


def write_cifar10(folder: Path, per_class: int = 1, protocol: int = 2) -> Path:
    for i in range(1, 6):
        write_pickle(folder / f"data_batch_{i}", cifar_batch(per_class, 10, b"labels", i), protocol)
    write_pickle(folder / "test_batch", cifar_batch(per_class, 10, b"labels", 9), protocol)
    meta = {b"label_names": [name.encode() for name in CIFAR10_NAMES], b"num_vis": 3072}
    write_pickle(folder / "batches.meta", meta, protocol)
    return folder


def write_cifar100(folder: Path, per_class: int = 1) -> Path:
    for name, seed in (("train", 0), ("test", 1)):
        batch = cifar_batch(per_class, 100, b"fine_labels", seed)
        batch[b"coarse_labels"] = [label // 5 for label in batch[b"fine_labels"]]
        write_pickle(folder / name, batch)
    names = [f"class_{i:02d}".encode() for i in range(100)]
    write_pickle(folder / "meta", {b"fine_label_names": names, b"coarse_label_names": names[:20]})
    return folder
