"""predict(): class labels and probabilities for image files, from a trained model alone.

Images are decoded and resized exactly as in training (the same tf.data
decoder), and the model carries its own preprocessing and class names.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence

import keras
import numpy as np

from registry.training import saved
from registry.training.data import DataError, ImageFolder, image_dataset


@dataclasses.dataclass(frozen=True)
class Prediction:
    """The top classes of one image.

    Args:
        path: str. The image file.
        top: list of (label, probability), most probable first.
    """

    path: str
    top: list[tuple[str, float]]

    @property
    def label(self) -> str:
        return self.top[0][0]

    @property
    def probability(self) -> float:
        return self.top[0][1]

    def line(self) -> str:
        """`path  label  probability`, then any further label-probability pairs."""
        return "  ".join([self.path, *(f"{label}  {p:.4f}" for label, p in self.top)])

    def to_json(self) -> dict:
        return {"path": self.path, "predictions": [{"label": label, "probability": p} for label, p in self.top]}


def predict(
    model: str | os.PathLike | keras.Model,
    images: Sequence[str | os.PathLike],
    *,
    top: int = 1,
    batch_size: int = 32,
    image_size: int | Sequence[int] | None = None,
    class_names: Sequence[str] | None = None,
) -> list[Prediction]:
    """The `top` most probable classes of each image.

    Args:
        model: a `.keras` file, a run folder (its `model.keras`), or a model.
        images: list of image file paths (jpg, png, bmp, gif; any colour mode).
        top: int. How many classes to give per image.
        batch_size: int. Images per forward pass.
        image_size: int, (height, width) or None for the model's input size.
        class_names: list of str or None. Labels of the outputs; default the
            model's own (its head's `class_names`).

    Returns:
        One `Prediction` per image, in the order given.

    Raises:
        FileNotFoundError: an image does not exist.
        DataError: an image cannot be read.
    """
    model = saved.load_trained(model)
    names = list(class_names) if class_names is not None else saved.class_names(model)
    paths = [os.fspath(path) for path in images]
    missing = [path for path in paths if not os.path.isfile(path)]
    if missing:
        raise FileNotFoundError(f"Image file(s) not found: {', '.join(missing[:5])}{', ...' if len(missing) > 5 else ''}.")
    if not paths:
        raise DataError("No images to predict. Pass one or more image files.")
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise ValueError(f"Argument `top` must be a positive int. Received: top={top!r}")
    top = min(top, len(names))
    # The training pipeline's decoder, fed a folder of one anonymous class.
    folder = ImageFolder(root=".", class_names=("images",), paths=tuple(paths), labels=(0,) * len(paths))
    dataset = image_dataset(folder, image_size=saved.image_size(model, image_size), batch_size=batch_size, shuffle=False)
    probabilities = model.predict(dataset.map(lambda images, labels: images), verbose=0)
    order = np.argsort(-probabilities, axis=1, kind="stable")[:, :top]
    return [
        Prediction(path, [(names[j], float(row[j])) for j in best])
        for path, row, best in zip(paths, probabilities, order)
    ]
