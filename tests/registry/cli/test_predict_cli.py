"""`resblocks predict` answers every readable image, says why for the others, and ends quietly
when its reader closes the pipe; `evaluate` names a model path that does not exist."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from registry import build
from registry.cli import main

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("model") / "tiny.keras"
    build("resnet20_cifar", num_classes=2).save(path)
    yield path
    path.unlink()


def _png(path: Path, value: int) -> str:
    Image.fromarray(np.full((32, 32, 3), value, np.uint8)).save(path)
    return str(path)


def test_predict_goes_past_an_unreadable_and_a_missing_image(saved_model, tmp_path, capsys):
    good = [_png(tmp_path / "a.png", 10), _png(tmp_path / "b.png", 200)]
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png at all")
    missing = [str(tmp_path / "gone.png"), str(tmp_path / "lost.jpg")]
    code = main(["predict", str(saved_model), good[0], str(broken), *missing, good[1]])
    out, err = capsys.readouterr()
    assert code == 1
    assert [line.split("  ")[0] for line in out.splitlines()] == good
    assert f"{broken}: cannot read it:" in err
    # The missing ones named together, in one line.
    assert f"no such image file(s): {missing[0]}, {missing[1]}" in err
    assert len([line for line in err.splitlines() if "no such image" in line]) == 1
    assert "scan_image_folder" not in err  # CLI hints name flags, not Python functions


def test_predict_of_only_unreadable_images_is_a_usage_error(saved_model, tmp_path, capsys):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 cut")
    assert main(["predict", str(saved_model), str(broken)]) == 2
    assert "none of the images can be read" in capsys.readouterr().err


def test_all_good_images_exit_0(saved_model, tmp_path, capsys):
    assert main(["predict", str(saved_model), _png(tmp_path / "a.png", 1)]) == 0
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("reader_closes", ["before", "after one line"])
def test_a_closed_pipe_ends_quietly(saved_model, tmp_path, reader_closes):
    images = [_png(tmp_path / f"{i}.png", i) for i in range(3)]
    command = [sys.executable, "-m", "registry", "predict", str(saved_model), *images]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    reader = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    if reader_closes == "after one line":
        reader.stdout.readline()
    reader.stdout.close()  # what `| head -1` does
    err = reader.stderr.read().decode()
    code = reader.wait(timeout=300)
    assert "Traceback" not in err and "BrokenPipeError" not in err and "Exception" not in err
    # 128 + SIGPIPE, as `yes | head` ends; after one line the rest may have fitted the pipe.
    assert code == 141 if reader_closes == "before" else code in (0, 141)


def test_evaluate_names_a_missing_model_before_asking_for_data(capsys):
    assert main(["evaluate", "runs/none"]) == 2
    err = capsys.readouterr().err
    assert "No model at 'runs/none'" in err


def test_evaluate_without_data_says_so(saved_model, capsys):
    assert main(["evaluate", str(saved_model)]) == 2
    assert f"--data DIR|NAME is required: the images or data set to evaluate '{saved_model}'" in (
        capsys.readouterr().err
    )
