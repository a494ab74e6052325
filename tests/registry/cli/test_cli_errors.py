"""The command line prints a bad input's error as one paragraph and exits 2.

--debug shows the traceback.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from registry import RecipeError
from registry.cli import main

ROOT = Path(__file__).resolve().parents[3]
BAD = (
    "name: bad\ninput_shape: [32, 32, 3]\nstem: {block: cifar_stem}\n"
    "stages:\n  - {block: bottlenek, filters: 8}\n"
)


@pytest.fixture
def bad_recipe(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(BAD)
    return str(path)


def test_validate_prints_the_error_and_exits_2(bad_recipe, capsys):
    assert main(["validate", bad_recipe]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(
        f"error: Invalid recipe {bad_recipe}: stages[0].block: unknown block 'bottlenek'"
    )
    assert "Did you mean 'bottle_neck' or " in captured.err  # the closest first
    assert "Traceback" not in captured.err


@pytest.mark.parametrize("argv", [["--debug", "validate"], ["validate", "--debug"]])
def test_debug_raises_for_the_traceback(bad_recipe, argv):
    with pytest.raises(RecipeError, match="unknown block 'bottlenek'"):
        main([*argv, bad_recipe])


def test_validate_stops_at_the_first_bad_file(bad_recipe, capsys):
    assert main(["validate", "recipes/resnet18.yaml", bad_recipe, "recipes/resnet34.yaml"]) == 2
    captured = capsys.readouterr()
    assert "recipes/resnet18.yaml: ok (resnet18, 4 stages)" in captured.out
    assert "resnet34" not in captured.out


def test_validate_build_reports_a_composition_error(tmp_path, capsys):
    path = tmp_path / "small.yaml"
    path.write_text("base: resnet50\nname: small\ninput_shape: [16, 16, 3]\n")
    assert main(["validate", str(path), "--build"]) == 2
    assert "The smallest input that works is 17x17" in capsys.readouterr().err


def test_show_reports_an_input_too_small(capsys):
    assert main(["show", "resnet50", "--input-shape", "16,16,3"]) == 2
    assert "input_shape: a 16x16 input is too small" in capsys.readouterr().err


def test_a_missing_file_exits_2(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "nope.yaml")]) == 2
    assert "no such file" in capsys.readouterr().err


@pytest.mark.slow  # a fresh interpreter imports TensorFlow: seconds
def test_the_installed_command_prints_no_traceback(bad_recipe):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run(
        [sys.executable, "-m", "registry", "validate", bad_recipe],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )
    assert result.returncode == 2
    assert "unknown block 'bottlenek'" in result.stderr
    assert "Traceback" not in result.stderr
