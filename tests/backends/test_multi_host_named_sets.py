"""--strategy multi_host on a named data set: two processes shard its arrays as one would read them.

The same check as test_multi_host.py's for image folders, on MNIST-format
files in a `fashion-mnist` folder given as --data (the arrays path of the
pipeline). In `make test-slow`, on JAX.
"""

from __future__ import annotations

import csv
import gzip
import os
import struct
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import yaml

import resblocks  # noqa: F401 - registers the layers that load_model reads back

pytestmark = [
    pytest.mark.skipif(
        keras.config.backend() != "jax", reason="multi_host is keras.distribution on JAX"
    ),
    pytest.mark.slow,  # about 3 minutes on 2 cores: see docs/architecture.md
]

ROOT = Path(__file__).resolve().parents[2]
RECIPE = {
    "name": "tiny_fashion",
    "input_shape": [16, 16, 3],
    "preprocessing": "rescale",
    "stem": {"block": "cifar_stem", "filters": 8},
    "stages": [
        {"name": "conv2", "block": "res_block", "filters": 8},
        {"name": "conv3", "block": "res_block", "filters": 16, "strides": 2},
    ],
    "head": {"block": "classifier", "num_classes": 10},
    # No augmentation: each process draws its own, which one process would not.
    "train": {"image_size": 16, "optimizer": {"name": "sgd", "learning_rate": 0.01}},
}


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


def history(run: Path) -> list[dict]:
    with (run / "history.csv").open() as f:
        return list(csv.DictReader(f))


def test_two_processes_train_on_a_named_set_as_one_process_would(tmp_path):
    data = write_fashion(tmp_path / "fashion-mnist")
    recipe = tmp_path / "tiny.yaml"
    recipe.write_text(yaml.safe_dump(RECIPE))
    # 130 training images in batches of 64: the last batch (2 images) splits evenly.
    flags = ("--data", data, "--val", "test", "--epochs", 2, "--batch-size", 64, "--seed", 3)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    job = subprocess.Popen(
        [sys.executable, "-m", "registry", "launch", "--processes", "2", "--", "train"]
        + [str(arg) for arg in (recipe, *flags, "--out", tmp_path / "two")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
        env=env,
    )
    alone = subprocess.run(
        [sys.executable, "-m", "registry", "train", str(recipe), "--out", str(tmp_path / "one")]
        + [str(flag) for flag in flags],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
        env=env,
    )
    out, _ = job.communicate(timeout=600)
    assert alone.returncode == 0, alone.stderr[-4000:]
    assert job.returncode == 0, out[-4000:]
    assert "130 training and 40 validation images (from the test split of fashion_mnist" in out
    assert "global batch 64, 32 per process on 1 local device, 2 devices in all" in out

    two = tmp_path / "two"
    assert [row["epoch"] for row in history(two)] == ["1", "2"]
    model = keras.saving.load_model(two / "last.keras", safe_mode=True)
    one = keras.saving.load_model(tmp_path / "one" / "last.keras", safe_mode=True)
    assert int(model.optimizer.iterations) == int(one.optimizer.iterations) == 6
    for mine, theirs in zip(model.weights, one.weights):
        np.testing.assert_allclose(
            np.asarray(mine), np.asarray(theirs), rtol=0, atol=1e-5, err_msg=mine.path
        )
