"""Training via tf.distribute: MirroredStrategy over two logical CPU devices, in its own process.

Logical devices must be set before TensorFlow initialises its runtime,
which the test process has already done; hence the subprocess.
"""

import os
import subprocess
import sys
from pathlib import Path

import keras
import pytest
from tiny_recipe import write_tiny_recipe
from training_folders import write_folder

from registry.training.rundir import read_history_csv
from registry.training.strategy import STRATEGIES, StrategyError, is_chief, make_strategy

SCRIPT = Path(__file__).with_name("train_process.py")


def test_mirrored_strategy_trains_on_two_logical_cpus(tmp_path):
    data = write_folder(tmp_path / "data", 8, seed=5)
    recipe = write_tiny_recipe(tmp_path / "tiny.yaml", epochs=1)
    run = tmp_path / "run"
    result = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--logical-cpus",
            "2",
            "--",
            "train",
            str(recipe),
            "--data",
            str(data),
            "--out",
            str(run),
            "--strategy",
            "mirrored",
            "--verbose",
            "2",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        # oneDNN off: on CPUs with AVX-512 BF16 (this project's machines since
        # 2026-12), TensorFlow 2.21 aborts ("free(): invalid size") training a
        # strided 1x1 Conv2D under MirroredStrategy over logical CPUs; a bare
        # keras Conv2D(16, 1, strides=2) does it. Real mirrored runs are on GPUs.
        env={
            **os.environ,
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "CUDA_VISIBLE_DEVICES": "",
            "TF_ENABLE_ONEDNN_OPTS": "0",
        },
    )
    assert result.returncode == 0, result.stderr
    assert "on 2 devices (MirroredStrategy)" in result.stdout
    assert [row["epoch"] for row in read_history_csv(run / "history.csv")] == [1]
    model = keras.saving.load_model(run / "model.keras", safe_mode=True)
    assert model.get_layer("head").class_names == ["horizontal", "plain", "vertical"]


def test_the_default_strategy_writes_the_run_folder():
    assert is_chief(make_strategy(None))
    assert is_chief(make_strategy("default"))


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_the_command_line_offers_every_strategy(strategy):
    from registry.cli import parser

    words = ["train", "r.yaml", "--data", "d", "--out", "o", "--strategy", strategy]
    assert parser().parse_args(words).strategy == strategy


def test_a_strategy_of_another_backend_names_the_backend_and_the_flag():
    with pytest.raises(StrategyError) as error:
        make_strategy("data_parallel")
    assert str(error.value).startswith(
        "--strategy data_parallel runs on the jax backend, and Keras runs on tensorflow here. "
        "Run with `resblocks --backend jax ...` (or KERAS_BACKEND=jax); on tensorflow use "
        "mirrored."
    )


def test_multi_worker_is_refused_with_the_upstream_bug_and_the_alternatives():
    with pytest.raises(StrategyError) as error:
        make_strategy("multi_worker")
    message = str(error.value)
    assert "keras-team/keras#20585" in message
    assert "--strategy mirrored (TensorFlow) or data_parallel (JAX)" in message


def test_an_unknown_strategy_is_named():
    with pytest.raises(
        ValueError, match=r"Unknown strategy 'mirror'. Use one of: default, mirrored, multi_worker"
    ):
        make_strategy("mirror")


class FakeResolver:
    def __init__(self, task_type, task_id, jobs):
        self.task_type, self.task_id, self.jobs = task_type, task_id, jobs

    def cluster_spec(self):
        return type("Spec", (), {"jobs": self.jobs})()


@pytest.mark.parametrize(
    "task_type, task_id, jobs, chief",
    [
        ("chief", 0, ["chief", "worker"], True),
        ("worker", 0, ["chief", "worker"], False),
        ("worker", 0, ["worker"], True),
        ("worker", 1, ["worker"], False),
    ],
)
def test_only_the_chief_of_a_multi_worker_run_writes(task_type, task_id, jobs, chief):
    strategy = type("Strategy", (), {"cluster_resolver": FakeResolver(task_type, task_id, jobs)})()
    assert is_chief(strategy) is chief
