"""Fixtures that write small image folders in every format and colour mode the pipeline accepts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from image_files import BLUE, COLOUR_CASES, GREEN, RED, write_image

# Before any test module imports TensorFlow: keep its C++ start-up logs quiet.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture
def colour_folder(tmp_path: Path) -> Path:
    """Class `red` holds one image per colour case; class `other` one green PNG."""
    root = tmp_path / "colours"
    for name, kind, _ in COLOUR_CASES:
        write_image(root / "red" / name, kind)
    write_image(root / "other" / "green.png", "RGB", rgb=GREEN)
    return root


@pytest.fixture
def three_class_folder(tmp_path: Path) -> Path:
    """Classes `blue`, `green`, `red` (solid images of that colour), mixed formats and sizes.

    Also holds what a scan must leave out: a text file, a hidden file, a
    hidden folder with an image, a `__MACOSX` folder, and a nested subfolder
    (which counts).
    """
    root = tmp_path / "three"
    colours = {"red": RED, "green": GREEN, "blue": BLUE}
    formats = ["png", "jpg", "bmp", "gif", "jpeg", "png"]
    for name, rgb in colours.items():
        for i, ext in enumerate(formats):
            size = (32, 32) if i % 2 == 0 else (60, 45)
            write_image(root / name / f"{i}.{ext}", "RGB", size=size, rgb=rgb)
    write_image(root / "red" / "nested" / "deep.png", "RGB", rgb=RED)
    (root / "red" / "notes.txt").write_text("not an image")
    (root / "green" / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    write_image(root / ".ipynb_checkpoints" / "x.png", "RGB")
    write_image(root / "green" / ".hidden" / "x.png", "RGB", rgb=RED)
    # What macOS' zip adds: AppleDouble "._" files, which are not images.
    (root / "__MACOSX" / "red").mkdir(parents=True)
    (root / "__MACOSX" / "red" / "._0.png").write_bytes(b"\0\5\26\7 AppleDouble")
    return root


@pytest.fixture
def truncate():
    """Cut a file to a fraction of its bytes, as an interrupted copy does."""

    def cut(path: Path, keep: float = 0.6) -> Path:
        data = path.read_bytes()
        path.write_bytes(data[: int(len(data) * keep)])
        return path

    return cut
