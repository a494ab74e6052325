"""`make run`'s job, `resblocks demo`, reaches 95% on the digits it writes, from an empty folder."""

import re

import pytest
from helpers import run_registry


@pytest.mark.slow
def test_demo_reaches_95_percent_validation_accuracy(tmp_path):
    result = run_registry("demo", cwd=tmp_path, timeout=900, env={"CUDA_VISIBLE_DEVICES": ""})
    assert result.returncode == 0, result.stderr
    accuracy = float(
        re.search(
            r"Validation accuracy of \S+: ([0-9.]+) on 359 held-out digits", result.stdout
        ).group(1)
    )
    assert accuracy >= 0.95
    predictions = [line for line in result.stdout.splitlines() if "(true: " in line]
    assert len(predictions) == 5
    for name in ("model.keras", "last.keras", "history.csv", "curves.png", "confusion_val.png"):
        assert (tmp_path / "runs" / "digits_demo" / name).is_file()
