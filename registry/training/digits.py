"""Write scikit-learn's handwritten digits as a class-per-subfolder PNG folder: real images for the demo, with no download.

`sklearn.datasets.load_digits` ships inside scikit-learn: 1797 scans of
handwritten digits, 8x8 pixels, grey levels 0 to 16 (UCI "Optical
Recognition of Handwritten Digits"). Written as ordinary image files, they go
through exactly the pipeline a user's own folder does.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from pathlib import Path

import numpy as np
from PIL import Image

from registry.training.split import stratified_split

_MANIFEST = "digits-manifest.json"
_SOURCE = "sklearn.datasets.load_digits"


def write_digits_folder(
    out_dir: str | os.PathLike,
    *,
    image_size: int = 32,
    val_fraction: float = 0.2,
    seed: int = 0,
) -> tuple[Path, Path]:
    """Write the digits as `out_dir/train/<0..9>/*.png` and `out_dir/val/<0..9>/*.png`.

    Images are grey PNGs (mode "L", white digit on black, 0..16 scaled to
    0..255), upscaled from 8x8 with bicubic interpolation: it draws smooth
    strokes, closer to a real scan at that size, where nearest-neighbour
    would draw blocks whose hard edges come from the upscaling, not the
    digit (and uneven blocks at a size that is not a multiple of 8). The
    split is stratified by digit and fixed by `seed`.

    Idempotent: when `out_dir` already holds exactly the files these
    arguments give (checked by name against a manifest), it is reused as
    is. Otherwise everything is written to a temporary folder next to
    `out_dir` and renamed into place, so an interrupted run never leaves a
    half-written folder behind.

    Args:
        out_dir: str or path. Folder to write; created if missing. If it
            exists, it must be empty or a folder this function wrote.
        image_size: int. Side of the square images, at least 8.
        val_fraction: float. Fraction of each digit held out for validation.
        seed: int. Seed of the split.

    Returns:
        A tuple `(train_dir, val_dir)` of `pathlib.Path`.
    """
    if isinstance(image_size, bool) or not isinstance(image_size, int) or image_size < 8:
        raise ValueError(
            "Argument `image_size` must be an int of at least 8 (the digits are "
            f"8x8 scans). Received: image_size={image_size!r}"
        )
    out_dir = Path(out_dir)
    images, labels = _load_digits()
    train, val = stratified_split(labels, val_fraction, seed)
    files = {
        f"{split}/{labels[i]}/{i:04d}.png": i
        for split, indices in (("train", train), ("val", val))
        for i in indices
    }
    manifest = {
        "source": _SOURCE,
        "image_size": image_size,
        "val_fraction": float(val_fraction),
        "seed": seed,
        "num_files": len(files),
    }
    result = (out_dir / "train", out_dir / "val")
    if _holds_exactly(out_dir, manifest, files):
        return result
    if out_dir.exists() and any(out_dir.iterdir()) and not (out_dir / _MANIFEST).is_file():
        raise FileExistsError(
            f"`out_dir` already holds files that write_digits_folder did not write. "
            f"Received: out_dir='{out_dir}'. Pass an empty or new folder; nothing "
            "was changed."
        )

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        for relative, index in files.items():
            path = staging / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            _upscale(images[index], image_size).save(path, "PNG")
        # The manifest goes last: its presence marks a complete folder.
        (staging / _MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        _move_into_place(staging, out_dir, manifest, files)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return result


def _load_digits() -> tuple[np.ndarray, np.ndarray]:
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ImportError(
            "write_digits_folder needs scikit-learn, whose package holds the digits. "
            "Install it with `pip install scikit-learn` (or the `test` extra of "
            "resblocks)."
        ) from None
    digits = load_digits()
    return digits.images, digits.target.astype(int)


def _upscale(digit: np.ndarray, image_size: int) -> Image.Image:
    """One 8x8 digit (0..16) -> a grey `image_size` square PNG image."""
    grey = np.round(digit * (255.0 / 16.0)).astype(np.uint8)
    return Image.fromarray(grey).resize((image_size, image_size), Image.Resampling.BICUBIC)


def _holds_exactly(out_dir: Path, manifest: dict, files: dict[str, int]) -> bool:
    """Whether `out_dir` has this manifest and exactly these image files."""
    try:
        if json.loads((out_dir / _MANIFEST).read_text()) != manifest:
            return False
    except (OSError, ValueError):
        return False
    found = {
        path.relative_to(out_dir).as_posix()
        for path in out_dir.rglob("*")
        if path.is_file() and path.name != _MANIFEST
    }
    return found == set(files)


def _move_into_place(staging: Path, out_dir: Path, manifest: dict, files: dict[str, int]) -> None:
    """Rename the finished `staging` folder to `out_dir`, replacing a stale one of ours.

    Each rename is atomic, so `out_dir` is always either absent, the old
    complete folder, or the new complete folder. If another process got
    there first with the same content, its folder is kept.
    """
    retired = None
    if out_dir.exists():
        if any(out_dir.iterdir()):
            retired = out_dir.with_name(f".{out_dir.name}.old-{uuid.uuid4().hex[:8]}")
            os.rename(out_dir, retired)
        else:
            out_dir.rmdir()
    try:
        os.rename(staging, out_dir)
    except OSError:
        if not _holds_exactly(out_dir, manifest, files):
            raise
    if retired is not None:
        shutil.rmtree(retired, ignore_errors=True)
