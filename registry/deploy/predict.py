"""predict_exported(): the top classes of image files, from an exported model in its runtime.

The same `Prediction` lines as `registry.training.predict` gives for a
`.keras` file: class names and input size come from the export's metadata,
images are decoded by the training pipeline's decoder and fitted to the
input size by the metadata's `eval` (the run's `train.eval`; an export
without it squashes), test-time flipping included.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from registry.deploy import images as image_sources
from registry.deploy.errors import ExportError
from registry.deploy.formats import FORMATS, format_of
from registry.deploy.runtimes import load
from registry.errors import MissingFileError
from registry.training.eval_transform import eval_spec
from registry.training.predict import Prediction, Ranked, image_paths


def is_exported(path: str | os.PathLike) -> bool:
    """Whether `path` is a file or folder of an export format (by suffix, or saved_model.pb)."""
    return format_of(path) is not None


def predict_exported(
    model: str | os.PathLike,
    images: Sequence[str | os.PathLike],
    *,
    top: int = 1,
    batch_size: int = 32,
) -> list[Prediction]:
    """The `top` most probable classes of each image, by the exported model at `model`.

    Raises:
        ExportError: `model` is not an exported model (or has no metadata).
        MissingFileError: an image or the model does not exist.
    """
    if not os.path.exists(model):
        raise MissingFileError(f"Exported model not found: '{os.fspath(model)}'.")
    fmt = format_of(model)
    if fmt is None:
        raise ExportError(
            f"'{os.fspath(model)}' is not an exported model: give a SavedModel folder or a "
            f"{', '.join(f.suffix for f in FORMATS.values() if f.suffix)} file written by "
            "`resblocks export`."
        )
    paths = image_paths(images)
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise ValueError(f"Argument `top` must be a positive int. Received: top={top!r}")
    runner = load(fmt, model)
    names = runner.metadata["class_names"]
    fit = eval_spec(runner.metadata.get("eval"), where=f"the metadata of '{os.fspath(model)}'")
    batch = image_sources.files_images(paths, tuple(runner.metadata["image_size"]), fit)

    def scores(images: np.ndarray) -> np.ndarray:
        return np.concatenate(
            [
                runner.run(images[start : start + batch_size])
                for start in range(0, len(paths), batch_size)
            ]
        )

    probabilities = scores(batch.images)
    if fit is not None and fit.tta == "flip":
        probabilities = (probabilities + scores(batch.images[:, :, ::-1])) / 2.0
    order = np.argsort(-probabilities, axis=1, kind="stable")[:, : min(top, len(names))]
    return [
        Prediction(path, [Ranked(int(j), names[j], float(row[j])) for j in best])
        for path, row, best in zip(paths, probabilities, order)
    ]
