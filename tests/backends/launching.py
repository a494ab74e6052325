"""What the multi-host tests share: a tiny recipe, `resblocks launch`, comparing two runs."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
from helpers import ROOT, run_registry, training_recipe

import registry.training.optim  # noqa: F401 - registers the optimizers that load_model reads back


def multi_host_recipe(name: str) -> dict:
    """A 16x16, ten-class network small enough that two processes agree to float32 rounding."""
    return training_recipe(
        {
            "name": name,
            "input_shape": [16, 16, 3],
            "head.num_classes": 10,
            # No augmentation: each process draws its own, which one process would not.
            "train": {"image_size": 16, "optimizer": {"name": "sgd", "learning_rate": 0.01}},
        }
    )


def launch(*args, processes: int = 2) -> subprocess.Popen:
    """`resblocks launch --processes N -- *args`, its output (stderr too) on stdout."""
    return subprocess.Popen(
        [sys.executable, "-m", "registry", "launch", "--processes", str(processes), "--"]
        + [str(arg) for arg in args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def two_runs(recipe: Path, flags: tuple, out: Path) -> str:
    """Trains `recipe` with `flags` in two launched processes (out/two) and alone (out/one).

    Both must succeed; returns the launch's output.
    """
    job = launch("train", recipe, *flags, "--out", out / "two")
    alone = run_registry("train", recipe, "--out", out / "one", *flags)
    output, _ = job.communicate(timeout=600)
    assert alone.returncode == 0, alone.stderr[-4000:]
    assert job.returncode == 0, output[-4000:]
    return output


def history(run: Path) -> list[dict]:
    with (run / "history.csv").open() as f:
        return list(csv.DictReader(f))


def assert_trained_alike(two: Path, one: Path, steps: int) -> None:
    """Both runs' last.keras took `steps` steps and hold the same weights to 1e-5.

    Measured: 2.4e-7. A batch's gradient is summed over two devices, not
    one, so float32 rounds differently; at learning rate 0.05 an early
    step amplifies that to 4e-4 in 6 steps (and 5e-3 in 46), at 0.01 not.
    """
    model = keras.saving.load_model(two / "last.keras", safe_mode=True)
    alone = keras.saving.load_model(one / "last.keras", safe_mode=True)
    assert int(model.optimizer.iterations) == int(alone.optimizer.iterations) == steps
    for mine, theirs in zip(model.weights, alone.weights):
        np.testing.assert_allclose(
            np.asarray(mine), np.asarray(theirs), rtol=0, atol=1e-5, err_msg=mine.path
        )
