"""What a user does, on whichever Keras backend this process runs.

`make test` runs this file (with tests/resblocks) on JAX and PyTorch, each
in its own environment: the demo (train from a folder, evaluate, predict)
and a resumed run, the weights loaders, `.keras` round trips with feature
taps, show / profile / diagrams, an exercise checker, which strategies each
backend runs, `--backend`, and export's refusal. On TensorFlow, where the
rest of the suite covers the others, only the last ones run.
"""

import contextlib
import csv
import importlib.util
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import h5py
import keras
import numpy as np
import pytest
from helpers import built, write_image_folder
from keras.src.legacy.saving import legacy_h5_format

from registry import build, preprocess_input, profile, torch_state_dict
from registry.cli import main

ROOT = Path(__file__).resolve().parents[2]
BACKEND = keras.config.backend()
# A strategy each backend refuses, whose message names the backend Keras runs on.
REFUSED = {"tensorflow": "data_parallel", "jax": "mirrored", "torch": "data_parallel"}


def run_cli(*args, env: dict | None = None, cwd: Path | None = None):
    """`python -m registry ARGS` in a fresh process: (exit code, stdout, stderr)."""
    result = subprocess.run(
        [sys.executable, "-m", "registry", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
    )
    return result.returncode, result.stdout, result.stderr


def run_here(*args, cwd: Path | None = None):
    """`resblocks ARGS` in this process, in `cwd`: (exit code, stdout, stderr).

    For the commands whose process is not what is tested: no interpreter
    and backend to start again (seconds each on 2 cores).
    """
    out, err, before = io.StringIO(), io.StringIO(), Path.cwd()
    try:
        os.chdir(cwd or before)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main([str(arg) for arg in args])
    finally:
        os.chdir(before)
    return code, out.getvalue(), err.getvalue()


def history(run: Path) -> list[dict]:
    with (run / "history.csv").open() as f:
        return list(csv.DictReader(f))


def write_folder(root: Path, counts: dict[str, int]) -> Path:
    """Class folders of 32x32 PNGs, one colour per class with noise: quick to learn."""
    return write_image_folder(root, counts, variants=(("png", "RGB"),))


# On TensorFlow the rest of the suite covers these (tests/registry).
off_tensorflow = pytest.mark.skipif(
    BACKEND == "tensorflow", reason="the TensorFlow suite covers it"
)


@off_tensorflow
def test_demo_trains_evaluates_and_predicts(tmp_path):
    root = tmp_path
    code, out, err = run_here(
        "demo", "--epochs", 1, "--out", "run", "--data-dir", "digits", "--verbose", 2, cwd=root
    )
    assert code == 0, err[-3000:]
    assert re.search(r"Validation accuracy of \S+: [0-9.]+ on 359 held-out digits", out), out
    assert len([line for line in out.splitlines() if "(true: " in line]) == 5
    for name in ("model.keras", "last.keras", "history.csv", "curves.png"):
        assert (root / "run" / name).is_file()


# The augmentation runs in tf.data whatever the backend; JAX checks it feeds a step
# (PyTorch's fit reads the same tf.data pipeline through the same adapter).
@pytest.mark.skipif(BACKEND != "jax", reason="TensorFlow's suite covers it; one other suffices")
@pytest.mark.slow  # a run: about 65 s on a busy CPU
def test_an_epoch_trains_with_every_augmentation(tmp_path):
    from helpers import training_recipe

    from registry.training.run import train

    augment = {
        "horizontal_flip": True,
        "random_resized_crop": True,
        "random_crop": {"padding": 4},
        "rand_augment": {"num_ops": 2, "magnitude": 9, "magnitude_std": 0.5},
        "color_jitter": 0.4,
        "random_erasing": True,
        "mixup": 0.2,
        "cutmix": 1.0,
    }
    data = write_folder(tmp_path / "data", {"a": 4, "b": 4, "c": 4})
    recipe = training_recipe(epochs=1, label_smoothing=0.1, augment=augment)
    result = train(recipe, data=data, out=tmp_path / "run", verbose=0)
    assert np.isfinite(result.history["loss"][0])


# On JAX, test_multi_host.py resumes a run (killed, then launched again) through the same
# load of last.keras; the 48 s this takes there are CI's to spend on that test.
@pytest.mark.skipif(BACKEND != "torch", reason="TensorFlow's suite and test_multi_host cover it")
def test_a_run_resumes_where_it_stopped(tmp_path):
    train = write_folder(tmp_path / "train", {"a": 10, "b": 10, "c": 10})
    val = write_folder(tmp_path / "val", {"a": 4, "b": 4, "c": 4})
    command = ["train", "digits_demo", "--data", train, "--val", val, "--batch-size", 8]
    command += ["--out", tmp_path / "run", "--verbose", 2]
    code, _, err = run_here(*command, "--epochs", 1)
    assert code == 0, err[-3000:]
    first = history(tmp_path / "run")
    code, out, err = run_here(*command, "--epochs", 2)
    assert code == 0, err[-3000:]
    assert re.search(r"Resuming '\S*run' after epoch 1 of 2", out), out
    rows = history(tmp_path / "run")
    assert [row["epoch"] for row in rows] == ["1", "2"]
    assert rows[0] == first[0]  # the committed epoch is kept as it was


@off_tensorflow
def test_keras_round_trip_with_feature_taps(tmp_path):
    model = build(
        "resnet18", input_shape=(64, 64, 3), include_top=False, features=["c2", "c3", "c4", "c5"]
    )
    x = np.random.default_rng(0).uniform(0, 1, (2, 64, 64, 3)).astype("float32")
    expected = {k: keras.ops.convert_to_numpy(v) for k, v in model(x).items()}
    assert {k: v.shape[1:3] for k, v in expected.items()} == {
        "c2": (16, 16),
        "c3": (8, 8),
        "c4": (4, 4),
        "c5": (2, 2),
    }
    model.save(tmp_path / "features.keras")
    loaded = keras.saving.load_model(tmp_path / "features.keras", safe_mode=True)
    for key, value in loaded(x).items():
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(value), expected[key])


@off_tensorflow
def test_keras_applications_file_loads(tmp_path):
    """A keras.applications ResNet-50 file (Keras-2 HDF5) into the recipe, on this backend."""
    reference = keras.applications.ResNet50(weights=None, input_shape=(64, 64, 3))
    path = tmp_path / "resnet50_weights_tf_dim_ordering_tf_kernels.h5"
    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, reference)
    model = build("resnet50", input_shape=(64, 64, 3), weights=path)
    x = preprocess_input("resnet50", np.random.default_rng(0).uniform(0, 255, (2, 64, 64, 3)))
    diff = np.max(np.abs(keras.ops.convert_to_numpy(model(x) - reference(x))))
    assert diff <= 1e-6


@off_tensorflow
def test_timm_safetensors_file_loads(tmp_path):
    """A PyTorch-layout checkpoint (timm's .safetensors) written here loads back here."""
    from safetensors.numpy import save_file

    source = built("resnext50_32x4d")  # only read: its weights are written to the file
    path = tmp_path / "model.safetensors"
    save_file(torch_state_dict(source), path)
    model = build("resnext50_32x4d", input_shape=(64, 64, 3), weights=path)
    x = np.random.default_rng(0).normal(size=(2, 64, 64, 3)).astype("float32")
    diff = np.max(np.abs(keras.ops.convert_to_numpy(model(x) - source(x))))
    assert diff == 0.0


# Each command, and lines of what it prints that the backend could change:
# counts read off the built layers, the output shapes, the diagram's file.
INSPECTION = {
    "show_resnet50": (
        ["show", "resnet50"],
        [
            "conv5  bottle_neck         3    7x7x2048  14,998,528  0.732 G",
            "total params: 25,636,712  (trainable 25,583,592)",
            "total multiply-accumulates: 3.858 G at 224x224x3",
        ],
    ),
    "show_inception_resnet_v2": (
        ["show", "inception_resnet_v2"],
        [
            "block17_1..20  inception_res_block17        20  17x17x1088  22,549,120  6.499 G",
            "total params: 55,873,736  (trainable 55,813,192)",
        ],
    ),
    "show_diagram": (
        ["show", "resnet18", "--diagram", "{tmp}/resnet18.svg"],
        ["total params: 11,699,112  (trainable 11,689,512)", "wrote {tmp}/resnet18.svg (svg)"],
    ),
    "list": (["list"], ["  resnext50_32x4d", "  res_block                block  resblocks"]),
    "validate": (["validate", "recipes/resnext50_32x4d.yaml"], ["ok (resnext50_32x4d, 4 stages)"]),
}


@off_tensorflow
@pytest.mark.parametrize("case", INSPECTION)
def test_inspection_commands(case, tmp_path, capsys):
    command, lines = INSPECTION[case]
    assert main([word.format(tmp=tmp_path) for word in command]) == 0
    out = capsys.readouterr().out
    for line in lines:
        assert line.format(tmp=tmp_path) in out, f"{line!r} not in:\n{out}"
    if case == "show_diagram":
        svg = (tmp_path / "resnet18.svg").read_text()
        assert svg.startswith("<svg") and "conv5_block2" in svg


@off_tensorflow
def test_profile_counts_the_published_costs():
    assert profile("resnet50").total.params == 25_636_712


@off_tensorflow
@pytest.mark.parametrize("handout, code", [("solution", 0), ("starter", 1)])
def test_an_exercise_checker(handout, code, capsys):
    assert main(["check", "swap_block", f"docs/exercises/swap_block/{handout}.yaml"]) == code
    assert ("PASS" if code == 0 else "FAIL") in capsys.readouterr().out


def test_strategies_of_other_backends_are_refused_in_one_line(tmp_path):
    other = REFUSED[BACKEND]
    code, _, err = run_here(
        "train", "digits_demo", "--data", tmp_path, "--out", tmp_path / "run", "--strategy", other
    )
    assert code == 2
    # One line (TensorFlow's own start-up lines aside), no traceback.
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and f"--strategy {other} runs on the" in errors[0], err
    assert "Traceback" not in err


@pytest.mark.skipif(BACKEND != "jax", reason="data_parallel is keras.distribution on JAX")
def test_data_parallel_trains_on_two_devices(tmp_path):
    train = write_folder(tmp_path / "train", {"a": 10, "b": 10, "c": 11})
    val = write_folder(tmp_path / "val", {"a": 4, "b": 4, "c": 4})
    code, out, err = run_cli(
        *("train", "digits_demo", "--data", train, "--val", val, "--epochs", 1),
        *("--batch-size", 8, "--out", tmp_path / "run", "--strategy", "data_parallel"),
        *("--verbose", 2),
        env={"XLA_FLAGS": "--xla_force_host_platform_device_count=2"},
    )
    assert code == 0, err[-3000:]
    assert "on 2 devices (DataParallel)" in out
    assert "1 of the 31 training images are left out of each epoch" in out
    assert len(history(tmp_path / "run")) == 1


@pytest.mark.skipif(BACKEND != "jax", reason="data_parallel is keras.distribution on JAX")
def test_data_parallel_needs_a_batch_that_splits(tmp_path):
    train = write_folder(tmp_path / "train", {"a": 4, "b": 4})
    code, _, err = run_cli(
        *("train", "digits_demo", "--data", train, "--epochs", 1, "--batch-size", 7),
        *("--out", tmp_path / "run", "--strategy", "data_parallel"),
        env={"XLA_FLAGS": "--xla_force_host_platform_device_count=2"},
    )
    assert code == 2
    assert "the batch size 7 does not split evenly. Use a multiple of 2 (--batch-size 6)" in err


@pytest.mark.parametrize("other", [b for b in REFUSED if b != BACKEND])
def test_backend_option_starts_the_command_on_that_backend(other, tmp_path):
    code, _, err = run_cli(
        *("--backend", other, "train", "digits_demo", "--data", tmp_path),
        *("--out", tmp_path / "run", "--strategy", REFUSED[other]),
    )
    assert code == 2
    if importlib.util.find_spec(other) is None:
        assert f"--backend {other} needs the {other} package" in err, err
    else:
        assert f"Keras runs on {other} here" in err, err


@pytest.mark.skipif(BACKEND == "tensorflow", reason="exporting runs on TensorFlow")
def test_export_off_tensorflow_says_to_run_it_there(tmp_path, capsys):
    model = build("resnet20_cifar")
    model.save(tmp_path / "m.keras")
    words = ["export", str(tmp_path / "m.keras"), "--format", "onnx", "--out", str(tmp_path / "m")]
    assert main(words) == 2
    assert "run `resblocks --backend tensorflow export ...`" in capsys.readouterr().err.lower()
