"""A training process stopped by SIGTERM, killed by SIGKILL mid-epoch, resumes to the right end."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import keras
from helpers import training_recipe, write_image_folder, write_recipe

from registry.training.rundir import read_history_csv

SCRIPT = Path(__file__).with_name("train_process.py")


def start(*args, **popen):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}
    return subprocess.Popen(
        [sys.executable, str(SCRIPT), *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        **popen,
    )


def wait_for(marker: Path, process: subprocess.Popen) -> None:
    """Until the process writes `marker`; fails if it ends first."""
    while not marker.exists():
        if process.poll() is not None:
            out, err = process.communicate()
            raise AssertionError(
                f"the training process ended early ({process.returncode}):\n{out}\n{err}"
            )
        time.sleep(0.05)


def epochs_of(run: Path) -> list[int]:
    return [row["epoch"] for row in read_history_csv(run / "history.csv")]


def test_sigterm_then_sigkill_mid_epoch_then_resume(tmp_path):
    data = write_image_folder(tmp_path / "data", 8, seed=4)  # 18 training images: 3 steps of 6
    recipe = write_recipe(tmp_path / "tiny.yaml", training_recipe(epochs=3))
    run = tmp_path / "run"
    train = ["--", "train", recipe, "--data", data, "--out", run, "--verbose", "2"]

    # 1. SIGTERM during epoch 2: the epoch is abandoned, epoch 1 kept.
    marker, release = tmp_path / "paused-1", tmp_path / "release-1"
    process = start("--pause-at", "2:2", "--marker", marker, "--release", release, *train)
    wait_for(marker, process)
    process.send_signal(signal.SIGTERM)
    release.touch()
    out, err = process.communicate(timeout=300)
    assert process.returncode == 143, err
    assert "Training stopped by SIGTERM during epoch 2 of 3. Epoch 1 is saved in" in err
    assert "Run the same command again to resume from epoch 2." in err
    assert json.loads((run / "state.json").read_text())["epoch"] == 1
    first = read_history_csv(run / "history.csv")
    assert epochs_of(run) == [1]

    # 2. SIGKILL during epoch 3, after resuming at 2: epochs 1-2 kept.
    marker = tmp_path / "paused-2"
    process = start("--pause-at", "3:1", "--marker", marker, *train)
    wait_for(marker, process)
    process.kill()
    out, _ = process.communicate(timeout=300)
    assert process.returncode == -signal.SIGKILL
    assert "Resuming" in out and "after epoch 1 of 3" in out
    assert epochs_of(run) == [1, 2]
    second = read_history_csv(run / "history.csv")
    assert second[0] == first[0]

    # 3. The same command again finishes the run.
    process = start(*train)
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    assert "after epoch 2 of 3" in out
    history = read_history_csv(run / "history.csv")
    assert [row["epoch"] for row in history] == [1, 2, 3]
    assert history[:2] == second
    for name in ("model.keras", "last.keras"):
        keras.saving.load_model(run / name, safe_mode=True)
    last = keras.saving.load_model(run / "last.keras", safe_mode=True)
    # The optimizer went on from where it was saved: 3 epochs of 3 steps in all.
    assert int(last.optimizer.iterations.numpy()) == 9
    assert not (run / ".staging").exists() and not (run / ".commit").exists()
