"""A `.keras` file of a model with a user's block, loaded where the block is not imported:
one line that names the class and the module to import (or list under `plugins:`)."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image
from plugin_files import block_source, forgetting_plugins

from registry import build

ROOT = Path(__file__).resolve().parents[3]

RECIPE = """\
name: plugnet
input_shape: [16, 16, 3]
plugins: [unregistered_blocks]
stem: {block: cifar_stem, filters: 4}
stages:
  - {block: unregistered_conv, filters: 4}
head: {block: classifier, num_classes: 2}
"""


def _saved_model(folder: Path, monkeypatch) -> Path:
    (folder / "unregistered_blocks.py").write_text(
        block_source("unregistered_conv"), encoding="utf-8"
    )
    (folder / "net.yaml").write_text(RECIPE, encoding="utf-8")
    monkeypatch.syspath_prepend(str(folder))
    with forgetting_plugins():
        build(str(folder / "net.yaml"), allow_plugins=True).save(folder / "net.keras")
    sys.modules.pop("unregistered_blocks", None)
    return folder / "net.keras"


def test_a_new_process_is_told_which_module_to_import(tmp_path, monkeypatch):
    model = _saved_model(tmp_path, monkeypatch)
    image = tmp_path / "a.png"
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(image)
    done = subprocess.run(
        [sys.executable, "-m", "registry", "predict", str(model), str(image)],
        cwd=tmp_path.parent,  # not where the module is: it cannot be imported by chance
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "the class 'PluginConv'" in lines[0]
    assert "Its module is 'unregistered_blocks'" in lines[0]
    assert "`import unregistered_blocks`" in lines[0]
    assert "plugins:" in lines[0] and "--allow-plugins" in lines[0]
