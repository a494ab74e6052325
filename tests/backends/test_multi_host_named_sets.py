"""--strategy multi_host on a named data set: two processes shard its arrays as one would read them.

The same check as test_multi_host.py's for image folders, on MNIST-format
files in a `fashion-mnist` folder given as --data (the arrays path of the
pipeline). In `make test-slow`, on JAX.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import keras
import numpy as np
import pytest
import yaml
from launching import assert_trained_alike, history, multi_host_recipe, two_runs

import resblocks  # noqa: F401 - registers the layers that load_model reads back

pytestmark = [
    pytest.mark.skipif(
        keras.config.backend() != "jax", reason="multi_host is keras.distribution on JAX"
    ),
    pytest.mark.slow,  # about 3 minutes on 2 cores: see docs/architecture.md
]

RECIPE = multi_host_recipe("tiny_fashion")


def write_idx(path: Path, array: np.ndarray) -> None:
    header = b"\x00\x00\x08" + bytes([array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(gzip.compress(header + array.astype(np.uint8).tobytes()))


def write_fashion(folder: Path) -> Path:
    """13 training and 4 test images of each of 10 classes, each class its own brightness."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for split, per_class in (("train", 13), ("t10k", 4)):
        labels = np.repeat(np.arange(10), per_class)
        images = labels[:, None, None] * 23 + rng.integers(0, 30, (len(labels), 28, 28))
        write_idx(folder / f"{split}-images-idx3-ubyte.gz", images)
        write_idx(folder / f"{split}-labels-idx1-ubyte.gz", labels)
    return folder


def test_two_processes_train_on_a_named_set_as_one_process_would(tmp_path):
    data = write_fashion(tmp_path / "fashion-mnist")
    recipe = tmp_path / "tiny.yaml"
    recipe.write_text(yaml.safe_dump(RECIPE))
    # 130 training images in batches of 64: the last batch (2 images) splits evenly.
    flags = ("--data", data, "--val", "test", "--epochs", 2, "--batch-size", 64, "--seed", 3)
    out = two_runs(recipe, flags, tmp_path)
    assert "130 training and 40 validation images (from the test split of fashion_mnist" in out
    assert "global batch 64, 32 per process on 1 local device, 2 devices in all" in out

    two = tmp_path / "two"
    assert [row["epoch"] for row in history(two)] == ["1", "2"]
    assert_trained_alike(two, tmp_path / "one", steps=6)
