"""Tests of the digits writer: all 1797 images, stratified, readable, written once, atomically."""

from __future__ import annotations

import collections
import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from registry.training import digits as digits_module
from registry.training.data import scan_image_folder
from registry.training.digits import write_digits_folder


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> tuple[Path, Path, Path]:
    out = tmp_path_factory.mktemp("digits") / "data"
    train, val = write_digits_folder(out)
    return out, train, val


@pytest.fixture
def few_digits(monkeypatch) -> int:
    """Make the writer see only the first 60 digits: enough for behaviour, 30x less to write."""
    images, labels = digits_module._load_digits()
    monkeypatch.setattr(digits_module, "_load_digits", lambda: (images[:60], labels[:60]))
    return 60


def _files(root: Path) -> dict[str, int]:
    return {
        p.relative_to(root).as_posix(): p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()
    }


def test_writes_all_1797_images_in_ten_classes(written):
    out, train, val = written
    assert (train, val) == (out / "train", out / "val")
    train_folder, val_folder = scan_image_folder(train), scan_image_folder(val)
    assert train_folder.class_names == val_folder.class_names == tuple(str(d) for d in range(10))
    assert len(train_folder) + len(val_folder) == 1797
    train_names = set(map(os.path.basename, train_folder.paths))
    assert not train_names & set(map(os.path.basename, val_folder.paths))
    # Stratified: 20% of each digit (each has 174 to 183 images).
    for label, n_val in collections.Counter(val_folder.labels).items():
        n_train = collections.Counter(train_folder.labels)[label]
        assert abs(n_val - 0.2 * (n_val + n_train)) <= 0.5
    assert set(train_folder.formats) == {"PNG"}


def test_images_are_grey_32px_pngs_of_the_real_digits(written):
    from sklearn.datasets import load_digits

    out, _, _ = written
    (path,) = out.glob("*/0/0000.png")  # sample 0 of load_digits is a zero
    image = Image.open(path)
    assert image.mode == "L" and image.size == (32, 32)
    source = load_digits().images[0] * (255 / 16)
    # Downscaled back to 8x8, the image matches its source digit.
    back = np.asarray(image.resize((8, 8), Image.Resampling.BOX), np.float64)
    assert np.abs(back - source).mean() < 20


def test_rerun_reuses_the_folder(written):
    out, _, _ = written
    before = _files(out)
    write_digits_folder(out)
    assert _files(out) == before


def test_other_arguments_rewrite_it_atomically(tmp_path, few_digits):
    out = tmp_path / "data"
    write_digits_folder(out, image_size=8, seed=0)
    first = json.loads((out / "digits-manifest.json").read_text())
    write_digits_folder(out, image_size=12, seed=1)
    second = json.loads((out / "digits-manifest.json").read_text())
    assert (first["image_size"], second["image_size"]) == (8, 12)
    assert Image.open(next((out / "val" / "3").iterdir())).size == (12, 12)
    assert sum(1 for p in out.rglob("*.png")) == few_digits
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]  # no temp or retired folders left


def test_a_missing_file_is_rewritten(tmp_path, few_digits):
    out = tmp_path / "data"
    train, _ = write_digits_folder(out, image_size=8)
    victim = next((train / "5").iterdir())
    victim.unlink()
    write_digits_folder(out, image_size=8)
    assert victim.exists()


def test_an_interrupted_write_leaves_nothing_half_done(tmp_path, monkeypatch, few_digits):
    out = tmp_path / "data"
    calls = {"n": 0}
    real = digits_module._upscale

    def failing(digit, size):
        calls["n"] += 1
        if calls["n"] == 30:
            raise KeyboardInterrupt
        return real(digit, size)

    monkeypatch.setattr(digits_module, "_upscale", failing)
    with pytest.raises(KeyboardInterrupt):
        write_digits_folder(out, image_size=8)
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setattr(digits_module, "_upscale", real)
    write_digits_folder(out, image_size=8)
    assert sum(1 for p in out.rglob("*.png")) == few_digits


def test_refuses_a_folder_it_did_not_write(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("precious")
    match = "did not write.*Received: out_dir=.*Pass an empty or new folder"
    with pytest.raises(FileExistsError, match=match):
        write_digits_folder(out)
    assert (out / "thesis.tex").read_text() == "precious"


def test_an_empty_existing_folder_is_used(tmp_path, few_digits):
    out = tmp_path / "empty"
    out.mkdir()
    write_digits_folder(out, image_size=8)
    assert sum(1 for p in out.rglob("*.png")) == few_digits


@pytest.mark.parametrize("size", [4, 32.0, True])
def test_bad_image_size(tmp_path, size):
    match = f"`image_size` must be an int of at least 8.*Received: image_size={size!r}"
    with pytest.raises(ValueError, match=match):
        write_digits_folder(tmp_path / "d", image_size=size)
