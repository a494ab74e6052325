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
from helpers import training_recipe, write_image_folder, write_recipe

from registry.training.distribution import ProcessGroup
from registry.training.launcher import train_command
from registry.training.rundir import read_history_csv
from registry.training.strategy import STRATEGIES, StrategyError, is_chief, make_strategy

SCRIPT = Path(__file__).with_name("train_process.py")


def test_mirrored_strategy_trains_on_two_logical_cpus(tmp_path):
    data = write_image_folder(tmp_path / "data", 8, seed=5)
    recipe = write_recipe(tmp_path / "tiny.yaml", training_recipe(epochs=1))
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
    assert "On several machines use --strategy multi_host (JAX, keras.distribution)" in message
    assert "mirrored (TensorFlow) or data_parallel (JAX)" in message


def test_multi_host_off_jax_names_the_backend_to_run_on():
    with pytest.raises(StrategyError, match=r"^--strategy multi_host runs on the jax backend"):
        make_strategy("multi_host", ProcessGroup("127.0.0.1:7777", 2, 0))


@pytest.mark.parametrize(
    "settings, message",
    [
        (
            {"coordinator": "10.0.0.1"},
            "--coordinator is '10.0.0.1', which is not HOST:PORT. Give process 0's machine",
        ),
        ({"coordinator": "host:99999"}, "--coordinator is 'host:99999', which is not HOST:PORT"),
        ({"coordinator": ":7777"}, "--coordinator is ':7777', which is not HOST:PORT"),
        (
            {"process_id": 2},
            "--process-id is 2, but the job has 2 processes (--num-processes 2): process ids "
            "are 0 to 1.",
        ),
        ({"process_id": -1}, "--process-id is -1; it must be a whole number of at least 0."),
        ({"num_processes": 0}, "--num-processes is 0; it must be a whole number of at least 1."),
    ],
)
def test_a_wrong_multi_host_setting_is_named(settings, message):
    given = {"coordinator": "127.0.0.1:7777", "num_processes": 2, "process_id": 0, **settings}
    with pytest.raises(StrategyError) as error:
        ProcessGroup.from_settings(**given, environ={})
    assert str(error.value).startswith(message)


def test_multi_host_settings_come_from_keras_variables_and_flags_win():
    environ = {
        "KERAS_DISTRIBUTION_JOB_ADDRESSES": "10.0.0.1:7777,10.0.0.2:7777",
        "KERAS_DISTRIBUTION_NUM_PROCESSES": "2",
        "KERAS_DISTRIBUTION_PROCESS_ID": "1",
    }
    assert ProcessGroup.from_settings(environ=environ) == ProcessGroup("10.0.0.1:7777", 2, 1)
    assert ProcessGroup.from_settings(process_id=0, environ=environ).process_id == 0
    with pytest.raises(StrategyError, match=r"^KERAS_DISTRIBUTION_PROCESS_ID is 'x'"):
        ProcessGroup.from_settings(environ={**environ, "KERAS_DISTRIBUTION_PROCESS_ID": "x"})


def test_missing_multi_host_settings_say_how_to_start_a_job():
    with pytest.raises(StrategyError) as error:
        ProcessGroup.from_settings(coordinator="127.0.0.1:7777", environ={})
    message = str(error.value)
    assert message.startswith("--strategy multi_host needs --num-processes, --process-id")
    assert "resblocks launch --processes 2 -- train" in message


def test_process_flags_without_multi_host_are_a_usage_error(capsys):
    from registry.cli import main

    code = main(["train", "r.yaml", "--data", "d", "--out", "o", "--process-id", "1"])
    assert code == 2
    assert "--process-id go with --strategy multi_host" in capsys.readouterr().err


@pytest.mark.parametrize(
    "command, message",
    [
        (["evaluate", "m.keras"], "resblocks launch runs a training job"),
        (["train", "r", "--strategy", "mirrored"], "train command asks for --strategy mirrored"),
        (["train", "r", "--process-id", "1"], "resblocks launch sets --process-id for each"),
    ],
)
def test_launch_refuses_what_it_cannot_run(command, message):
    with pytest.raises(StrategyError, match=message):
        train_command(command)


def test_launch_adds_the_strategy():
    assert train_command(["train", "r"]) == ["train", "r", "--strategy", "multi_host"]
    assert train_command(["train", "r", "--strategy=multi_host"]) == [
        "train",
        "r",
        "--strategy=multi_host",
    ]


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
