"""`make run`'s .venv is what README says: at most 2.1 GB (slow: it installs TensorFlow)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 2.1e9


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


@pytest.mark.slow
def test_make_run_installs_at_most_2_1_gb(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    extras = next(
        line.split(":=", 1)[1].strip()
        for line in (ROOT / "Makefile").read_text().splitlines()
        if line.startswith("RUN_EXTRAS :=")
    ).replace("$(TF)", "cpu")
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--quiet", "-e", f"{ROOT}[{extras}]"],
        check=True,
        timeout=1800,
    )
    size = _size(venv)
    shutil.rmtree(venv)
    assert size <= LIMIT, f"{size / 1e9:.2f} GB"
