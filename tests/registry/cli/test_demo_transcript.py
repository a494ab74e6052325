"""`resblocks demo` (make run) prints what README shows, and writes it to the run folder."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tests" / "docs"))

from test_docs_claims import readme_sample, sample_matches  # noqa: E402


@pytest.mark.slow
def test_demo_prints_readmes_sample_and_keeps_a_transcript(tmp_path):
    # As `make run` runs it: .venv/bin/python in the folder that holds .venv.
    (tmp_path / ".venv").symlink_to(sys.prefix)
    done = subprocess.run(
        [".venv/bin/python", "-m", "registry", "demo", "--epochs", "4"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "PYTHONPATH": str(ROOT), "CUDA_VISIBLE_DEVICES": ""},
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # no absl, oneDNN or setuptools lines
    transcript = (tmp_path / "runs" / "digits_demo" / "transcript.txt").read_text()
    assert transcript == done.stdout
    assert sample_matches(readme_sample(), transcript.splitlines())
