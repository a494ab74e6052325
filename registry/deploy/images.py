"""The images an export is checked (or calibrated) on: a folder's, decoded as in training, or made.

A folder's images go through the training pipeline's decoder, the one
`predict` uses, so an exported file is checked on exactly what it will be
given. Without a folder, smooth random colour images stand in: random
noise would make every class nearly equally likely, and a check of top-1
labels on near-ties says little.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from registry.recipe.train_spec import EvalSpec
from registry.training import rundir
from registry.training.data import (
    DataError,
    ImageFolder,
    image_dataset,
    scan_image_folder,
    split_folder,
)
from registry.training.sources import TEST, open_source

GENERATED = 16  # made images when no folder is given


@dataclass(frozen=True)
class Batch:
    """Images to run, with where they came from.

    Attributes:
        images: float32 array (n, height, width, 3) of 0-255 pixels.
        paths: list of str. The file of each image; "generated #i" for made ones.
        source: str. The folder, or "generated images", for messages.
    """

    images: np.ndarray
    paths: list[str]
    source: str


def folder_images(
    root: str | os.PathLike,
    image_size: tuple[int, int],
    *,
    limit: int | None = None,
    fit: EvalSpec | None = None,
) -> Batch:
    """Up to `limit` images of a class-per-subfolder folder, spread over its classes."""
    folder = scan_image_folder(root)
    indices = _spread(len(folder.paths), limit if limit is not None else len(folder.paths))
    return decode(folder.subset(indices), image_size, f"'{os.fspath(root)}'", fit)


def run_validation_images(
    model: str | os.PathLike,
    image_size: tuple[int, int],
    *,
    limit: int,
    fit: EvalSpec | None = None,
) -> Batch | None:
    """Up to `limit` validation images of the run `model` was trained in, or None.

    The run folder's `data.json` says where they are: the `--val` folder (or
    a named set's test split), or the part of `--data` that the run held
    out. None if `model` is not in a run folder, or the images are gone
    (a run on arrays keeps none).
    """
    run = Path(model) if Path(model).is_dir() else Path(model).parent
    try:
        where = json.loads((run / rundir.DATA).read_text(encoding="utf-8"))
        if where["val"] == TEST:
            folder = open_source(where["data"], TEST)
        elif where["val"] is not None:
            folder = open_source(where["val"], TEST)
        else:
            _, folder = split_folder(
                open_source(where["data"], "train"), where["val_split"], where["seed"]
            )
    except (OSError, ValueError, KeyError, TypeError, DataError):
        return None
    indices = _spread(len(folder.paths), limit)
    source = f"validation images of the run ({folder.where})"
    return decode(folder.subset(indices), image_size, source, fit)


def _spread(n: int, limit: int) -> list[int]:
    """At most `limit` indices of 0..n-1, evenly spread (so every class is in)."""
    if n <= limit:
        return list(range(n))
    return [int(i) for i in np.linspace(0, n - 1, limit).round()]


def files_images(
    paths: list[str], image_size: tuple[int, int], fit: EvalSpec | None = None
) -> Batch:
    """The given image files, in order, decoded as `resblocks predict` decodes them."""
    folder = ImageFolder(
        root=".", class_names=("images",), paths=tuple(paths), labels=(0,) * len(paths)
    )
    return decode(folder, image_size, "the images given", fit)


def decode(
    folder: ImageFolder, image_size: tuple[int, int], source: str, fit: EvalSpec | None = None
) -> Batch:
    """The folder's images as a float32 batch, fitted to `image_size` by `fit` (None squashes)."""
    dataset = image_dataset(
        folder, image_size=image_size, batch_size=64, shuffle=False, cache=False, fit=fit
    )
    images = np.concatenate([np.asarray(batch) for batch, _ in dataset])
    return Batch(images.astype("float32"), list(folder.paths), source)


def generated_images(image_size: tuple[int, int], count: int = GENERATED, seed: int = 0) -> Batch:
    """`count` smooth random RGB images: 4x4 colour grids upscaled bicubically."""
    rng = np.random.default_rng(seed)
    height, width = image_size
    images = [
        np.asarray(
            Image.fromarray(rng.integers(0, 256, (4, 4, 3), dtype=np.uint8)).resize(
                (width, height), Image.BICUBIC
            )
        )
        for _ in range(count)
    ]
    return Batch(
        np.stack(images).astype("float32"),
        [f"generated #{i}" for i in range(count)],
        "generated images",
    )
