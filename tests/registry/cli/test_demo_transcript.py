"""`resblocks demo` (make run) prints what README shows, and writes it to the run folder."""

import sys

import pytest
from helpers import ROOT, run_registry

sys.path.insert(0, str(ROOT / "tests" / "docs"))

from test_docs_claims import readme_sample, sample_matches


@pytest.mark.slow
def test_demo_prints_readmes_sample_and_keeps_a_transcript(tmp_path):
    # As `make run` runs it: .venv/bin/python in the folder that holds .venv.
    (tmp_path / ".venv").symlink_to(sys.prefix)
    done = run_registry(
        "demo",
        "--epochs",
        4,
        cwd=tmp_path,
        python=".venv/bin/python",
        timeout=900,
        env={"CUDA_VISIBLE_DEVICES": ""},
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # no absl, oneDNN or setuptools lines
    transcript = (tmp_path / "runs" / "digits_demo" / "transcript.txt").read_text()
    assert transcript == done.stdout
    assert sample_matches(readme_sample(), transcript.splitlines())
