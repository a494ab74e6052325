"""predict(): class labels and probabilities for image files, from a trained model alone.

Images are decoded and resized exactly as in training (the same tf.data
decoder), then fitted to the input size by the run's `train.eval` rule
(squashed by default), and the model carries its own preprocessing and
class names.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from typing import Any, NamedTuple

import keras
import numpy as np

from registry.errors import MissingFileError
from registry.recipe.train_spec import EvalSpec
from registry.training import saved
from registry.training.data import DataError, ImageFolder, image_dataset
from registry.training.eval_transform import predict_scores, resolve


class Ranked(NamedTuple):
    """One class of a prediction.

    Attributes:
        index: int. The class's position in the model's outputs.
        name: str. Its label: the model's class name, an ImageNet name for
            1000-class models without names, else the index as text.
        score: float. The model's probability for it.
        class_id: str or None. The WordNet id of an ImageNet class.
    """

    index: int
    name: str
    score: float
    class_id: str | None = None


@dataclasses.dataclass(frozen=True)
class Prediction:
    """The top classes of one image.

    Args:
        path: str. The image file.
        top: list of `Ranked`, most probable first.
    """

    path: str
    top: list[Ranked]

    @property
    def label(self) -> str:
        return self.top[0].name

    @property
    def probability(self) -> float:
        return self.top[0].score

    def line(self) -> str:
        """`path  label  probability`, then any further label-probability pairs."""
        return "  ".join([self.path, *(f"{r.name}  {r.score:.4f}" for r in self.top)])

    def to_json(self) -> dict:
        return {"image": self.path, "predictions": [r._asdict() for r in self.top]}


def image_paths(images: Sequence[str | os.PathLike]) -> list[str]:
    """The image paths as strings, or a MissingFileError naming the ones that do not exist."""
    paths = [os.fspath(path) for path in images]
    missing = [path for path in paths if not os.path.isfile(path)]
    if missing:
        raise MissingFileError(
            "Image file(s) not found: "
            f"{', '.join(missing[:5])}{', ...' if len(missing) > 5 else ''}."
        )
    return paths


def predict(
    model: str | os.PathLike | keras.Model,
    images: Sequence[str | os.PathLike],
    *,
    top: int = 1,
    batch_size: int = 32,
    image_size: int | Sequence[int] | None = None,
    class_names: Sequence[str] | None = None,
    allow_plugins: bool = False,
    eval_transform: EvalSpec | dict[str, Any] | None = None,
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
        allow_plugins: bool. Import the plugins of the run's recipe.yaml
            first, for a model made of custom blocks.
        eval_transform: EvalSpec, mapping or None. How each image is fitted
            to the input size (a recipe's `train.eval`); None uses the
            `recipe.yaml` of the run `model` is in, else squashes.

    Returns:
        One `Prediction` per image, in the order given.

    Raises:
        FileNotFoundError: an image does not exist.
        DataError: an image cannot be read.
    """
    fit = resolve(model, eval_transform)
    model = saved.load_trained(model, allow_plugins=allow_plugins)
    names = list(class_names) if class_names is not None else saved.class_names(model)
    class_ids = saved.imagenet_ids(model) if class_names is None else None
    paths = image_paths(images)
    if not paths:
        raise DataError("No images to predict. Pass one or more image files.")
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise ValueError(f"Argument `top` must be a positive int. Received: top={top!r}")
    top = min(top, len(names))
    # The training pipeline's decoder, fed a folder of one anonymous class.
    folder = ImageFolder(
        root=".", class_names=("images",), paths=tuple(paths), labels=(0,) * len(paths)
    )
    dataset = image_dataset(
        folder,
        image_size=saved.image_size(model, image_size),
        batch_size=batch_size,
        shuffle=False,
        fit=fit,
    )
    probabilities = predict_scores(model, saved.model_inputs(model, dataset), fit)
    order = np.argsort(-probabilities, axis=1, kind="stable")[:, :top]
    return [
        Prediction(
            path,
            [
                Ranked(int(j), names[j], float(row[j]), class_ids[j] if class_ids else None)
                for j in best
            ],
        )
        for path, row, best in zip(paths, probabilities, order)
    ]
