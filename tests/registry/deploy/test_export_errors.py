"""Bad input to `resblocks export`: one clear error, exit 2, and nothing written.

An unknown format, a missing runtime, a model that is not a resblocks
model, an existing output (refused unless --force), and an export that
disagrees with Keras (a runtime made to drift by 1e-3).
"""

import importlib.util

import keras
import numpy as np
import pytest

from registry.cli import main
from registry.deploy import exporting
from registry.deploy.formats import FORMATS
from registry.deploy.runtimes import Runner


def _export(model, out, fmt="onnx", *extra):
    return main(["export", str(model), "--format", fmt, "--out", str(out), *extra])


def _error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and len(err.splitlines()) == 1, err
    return err


def test_unknown_format_names_the_formats(digits_run, tmp_path, capsys):
    assert _export(digits_run[0], tmp_path / "m", "onx") == 2
    assert "unknown export format 'onx'. Did you mean 'onnx'?" in _error(capsys)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "fmt, module, pip",
    [(fmt.name, module, pip) for fmt in FORMATS.values() for module, pip in fmt.packages],
)
def test_missing_runtime_names_the_package_to_install(
    fmt, module, pip, digits_run, tmp_path, capsys, monkeypatch
):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == module else real(name, *a)
    )
    code = main(["export", str(digits_run[0]), "--format", fmt, "--out", str(tmp_path / "m")])
    assert code == 2
    assert f"`pip install {pip}`" in _error(capsys)
    assert list(tmp_path.iterdir()) == []


def test_a_keras_model_not_made_by_resblocks_is_refused(tmp_path, capsys):
    plain = keras.Sequential(
        [keras.Input((8, 8, 3)), keras.layers.Flatten(), keras.layers.Dense(2)]
    )
    plain.save(tmp_path / "plain.keras")
    assert _export(tmp_path / "plain.keras", tmp_path / "out", "savedmodel") == 2
    assert "is not a resblocks model (it is a Sequential)" in _error(capsys)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain.keras"]


def test_existing_output_is_refused_unless_force(digits_run, tmp_path, capsys):
    out = tmp_path / "m.onnx"
    out.write_bytes(b"keep me")
    assert _export(digits_run[0], out) == 2
    assert "exists. Pass --force" in _error(capsys)
    assert out.read_bytes() == b"keep me"
    assert _export(digits_run[0], out, "onnx", "--force") == 0
    assert out.read_bytes() != b"keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx"]  # no staging left


def test_an_export_that_disagrees_with_keras_writes_nothing(
    digits_run, tmp_path, capsys, monkeypatch
):
    real_load = exporting.load

    def drifting(fmt, path):
        runner = real_load(fmt, path)
        return Runner(lambda x: runner.run(x) + np.float32(1e-3), runner.metadata, runner.runtime)

    monkeypatch.setattr(exporting, "load", drifting)
    assert _export(digits_run[0], tmp_path / "sub" / "m", "litert") == 2
    message = _error(capsys)
    assert "disagrees with Keras" in message and "largest difference 0.001" in message
    assert "Nothing was written" in message
    assert list(tmp_path.iterdir()) == []  # not even the folder --out named


@pytest.mark.parametrize(
    "extra, wanted",
    [
        (["--int8", "--calibration", "."], "--int8 is offered for LiteRT and OpenVINO, not ONNX"),
        (["--int8"], "--int8 needs --calibration DIR"),
    ],
)
def test_int8_options_that_do_not_apply(digits_run, tmp_path, capsys, extra, wanted):
    assert _export(digits_run[0], tmp_path / "m.onnx", "onnx", *extra) == 2
    assert wanted in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_a_wrong_suffix_names_the_right_one(digits_run, tmp_path, capsys):
    assert _export(digits_run[0], tmp_path / "m.onnx", "openvino") == 2
    message = _error(capsys)
    assert "OpenVINO files end in .xml" in message and f"Give --out {tmp_path / 'm.xml'}" in message
    assert list(tmp_path.iterdir()) == []


def test_predict_with_a_damaged_or_missing_export_exits_2(digits_run, tmp_path, capsys):
    image = str(next(digits_run[1].rglob("*.png")))
    damaged = tmp_path / "damaged.onnx"
    damaged.write_bytes(b"not a model")
    assert main(["predict", str(damaged), image]) == 2
    assert "cannot be loaded by onnxruntime" in _error(capsys)
    assert main(["predict", str(tmp_path / "missing.tflite"), image]) == 2
    assert "Exported model not found" in _error(capsys)
