"""int8 post-training quantization for LiteRT and OpenVINO, calibrated on the validation folder.

The export reports its top-1 agreement with float32 Keras on the
calibration images; the file is smaller (LiteRT) or holds quantize ops
(OpenVINO), and `resblocks predict` runs it.
"""

import re

import pytest

from registry.cli import main
from registry.deploy.predict import predict_exported


@pytest.mark.parametrize("fmt, suffix", [("litert", ".tflite"), ("openvino", ".xml")])
def test_int8_export_reports_its_agreement_with_float32(
    fmt, suffix, digits_run, exported, tmp_path, capsys
):
    model, val_dir = digits_run
    out = tmp_path / f"int8{suffix}"
    argv = ["export", str(model), "--format", fmt, "--out", str(out)]
    assert main([*argv, "--int8", "--calibration", str(val_dir)]) == 0
    summary = capsys.readouterr().out
    agreement = float(re.search(r"top-1 agreement with float32 Keras ([0-9.]+)%", summary)[1])
    assert agreement >= 80
    if fmt == "litert":
        assert out.stat().st_size < exported("litert").stat().st_size / 2
    else:
        assert "FakeQuantize" in out.read_text() or "FakeConvert" in out.read_text()
    images = sorted(str(p) for p in val_dir.rglob("*.png"))[::40]
    assert len(predict_exported(out, images)) == len(images)
