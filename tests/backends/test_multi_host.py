"""--strategy multi_host with real processes: `resblocks launch` on loopback, gloo between them.

Runs in the JAX backend suite (`make test-jax`); the settings' errors that
need no JAX are in tests/registry/training/test_strategy.py.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import keras
import pytest
import yaml
from helpers import ROOT
from launching import assert_trained_alike, history, launch, multi_host_recipe, two_runs

from registry.training.digits import write_digits_folder

pytestmark = pytest.mark.skipif(
    keras.config.backend() != "jax", reason="multi_host is keras.distribution on JAX"
)

# Small enough that the two runs agree to float32 rounding (see launching.py).
RECIPE = multi_host_recipe("tiny_digits")


@pytest.fixture(scope="module")
def digits(tmp_path_factory) -> Path:
    """The real digits at 16x16, as written by the demo."""
    return write_digits_folder(tmp_path_factory.mktemp("digits") / "all", image_size=16)[0].parent


def subset(digits: Path, split: str, per_class: int, out: Path) -> Path:
    """The first `per_class` images of each digit of `split`."""
    for folder in sorted((digits / split).iterdir()):
        (out / folder.name).mkdir(parents=True)
        for image in sorted(folder.iterdir())[:per_class]:
            shutil.copy(image, out / folder.name / image.name)
    return out


def test_two_processes_train_as_one_process_would(digits, tmp_path):
    # 130 training images in batches of 64: the last batch (2 images)
    # splits evenly, so both runs see exactly the same batches.
    data = subset(digits, "train", 13, tmp_path / "train")
    val = subset(digits, "val", 4, tmp_path / "val")
    recipe = tmp_path / "tiny.yaml"
    recipe.write_text(yaml.safe_dump(RECIPE))
    flags = ("--data", data, "--val", val, "--epochs", 2, "--batch-size", 64, "--seed", 3)
    out = two_runs(recipe, flags, tmp_path)
    assert "[1] Process 1 of 2" in out
    assert "global batch 64, 32 per process on 1 local device, 2 devices in all" in out

    two = tmp_path / "two"
    assert [row["epoch"] for row in history(two)] == ["1", "2"]
    # Process 0 wrote the run folder, and nothing else is in it.
    assert sorted(p.name for p in two.iterdir()) == sorted(
        p.name for p in (tmp_path / "one").iterdir()
    )
    assert_trained_alike(two, tmp_path / "one", steps=6)


def lines_of(process: subprocess.Popen) -> queue.Queue:
    """The process's output lines, read by a thread as they come."""
    lines: queue.Queue = queue.Queue()

    def read():
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    return lines


def test_a_killed_process_stops_the_job_and_the_same_launch_resumes_it(digits, tmp_path):
    data = subset(digits, "train", 33, tmp_path / "train")  # 330 images: 42 steps of 8
    val = subset(digits, "val", 2, tmp_path / "val")
    recipe = tmp_path / "tiny.yaml"
    recipe.write_text(yaml.safe_dump(RECIPE))
    run = tmp_path / "run"
    # Two epochs: killed in the second, which the same launch then trains.
    command = ("train", recipe, "--data", data, "--val", val, "--epochs", 2)
    command += ("--batch-size", 8, "--out", run)

    job = launch(*command)
    lines, seen, killed = lines_of(job), [], None
    while (line := lines.get(timeout=600)) is not None:
        seen.append(line)
        if match := re.search(r"process 1 pid (\d+)", line):
            victim = int(match.group(1))
        if line.startswith("[1] Epoch 2/2") and killed is None:
            os.kill(victim, signal.SIGKILL)
            killed = time.monotonic()
    job.wait(timeout=60)
    stopped_after = time.monotonic() - killed
    out = "".join(seen)
    assert killed is not None, out[-4000:]
    assert job.returncode == 128 + signal.SIGKILL, out[-4000:]
    assert stopped_after < 60
    assert "[launch] process 1 was killed by SIGKILL; stopping the other processes." in out
    # The survivor says so itself, naming the lost process and what is kept.
    survivor = [line for line in seen if line.startswith("[0] error:")]
    assert len(survivor) == 1, out[-4000:]
    assert "Process 0 lost process 1 of the 2" in survivor[0]
    assert "during epoch 2 of 2" in survivor[0]
    assert "Epoch 1 is saved in" in survivor[0] and "resume from epoch 2" in survivor[0]
    first = history(run)
    assert [row["epoch"] for row in first] == ["1"]
    assert not (run / ".staging").exists() and not (run / ".commit").exists()

    again = launch(*command)
    out, _ = again.communicate(timeout=600)
    assert again.returncode == 0, out[-4000:]
    assert "[1] Resuming" in out  # process 1 resumed from what process 0 sent it
    rows = history(run)
    assert [row["epoch"] for row in rows] == ["1", "2"]
    assert rows[0] == first[0]
    model = keras.saving.load_model(run / "last.keras", safe_mode=True)
    assert int(model.optimizer.iterations) == 2 * 42  # as an uninterrupted run's


def test_a_coordinator_port_in_use_is_one_error(tmp_path):
    with socket.socket() as taken:
        taken.bind(("", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "registry", "train", "digits_demo", "--data", tmp_path]
            + ["--out", str(tmp_path / "run"), "--strategy", "multi_host"]
            + ["--coordinator", f"127.0.0.1:{port}", "--num-processes", "2", "--process-id", "0"],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=ROOT,
        )
    assert result.returncode == 2, result.stderr[-3000:]
    assert f"--coordinator 127.0.0.1:{port}: port {port} is already in use" in result.stderr
    assert "Traceback" not in result.stderr
