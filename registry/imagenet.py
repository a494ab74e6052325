"""ImageNet class names shipped with the package, decode_predictions, and top-k prediction of image files.

`data/imagenet_class_index.json` is byte for byte the file keras.applications
downloads on first use (md5 c2c37ea517e94d9795004a39431a14cb, the hash in
keras' imagenet_utils): the 1000 ILSVRC-2012 classes as [WordNet id, name],
with keras' spelling. Shipped, so nothing is downloaded.
"""

import functools
import json
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

CLASS_INDEX_FILE = Path(__file__).resolve().parent / "data" / "imagenet_class_index.json"
NUM_CLASSES = 1000


class ImageNetClass(NamedTuple):
    """One row of `decode_predictions`: equal to keras' `(class_id, name, score)` tuple.

    Attributes:
        class_id: str. The WordNet id, e.g. "n02504458".
        name: str. keras.applications' class name, e.g. "African_elephant".
        score: float. The model's score for the class.
    """

    class_id: str
    name: str
    score: float

    @property
    def class_index(self) -> int:
        """The class's position (0-999) in the model's 1000 outputs."""
        return _index_of_wnid()[self.class_id]


@functools.cache
def imagenet_class_index() -> dict[int, tuple[str, str]]:
    """The 1000 ImageNet classes: index -> (WordNet id, name)."""
    with CLASS_INDEX_FILE.open(encoding="utf-8") as f:
        raw = json.load(f)
    return {int(index): (wnid, name) for index, (wnid, name) in raw.items()}


def imagenet_class_names() -> list[str]:
    """The 1000 class names in output order (`[0]` is "tench")."""
    index = imagenet_class_index()
    return [index[i][1] for i in range(NUM_CLASSES)]


@functools.cache
def _index_of_wnid() -> dict[str, int]:
    return {wnid: index for index, (wnid, _) in imagenet_class_index().items()}


def decode_predictions(preds, top: int = 5) -> list[list[ImageNetClass]]:
    """The top-scoring ImageNet classes of each prediction, as keras.applications returns them.

    Args:
        preds: array of shape `(samples, 1000)`: a batch of class scores.
        top: int. How many classes to return per sample.

    Returns:
        One list per sample of `top` rows `(class_id, name, score)`, best
        first; each row is an `ImageNetClass` (a tuple) that also knows its
        `class_index`.

    Raises:
        ValueError: `preds` is not of shape `(samples, 1000)`, or `top` is
            not between 1 and 1000.
    """
    preds = np.asarray(preds)
    if preds.ndim != 2 or preds.shape[1] != NUM_CLASSES:
        raise ValueError(
            "`decode_predictions` expects a batch of ImageNet predictions, a 2D array of shape "
            f"(samples, {NUM_CLASSES}). Received array with shape: {preds.shape}. A model with "
            "another number of classes has its own class names."
        )
    if not 1 <= int(top) <= NUM_CLASSES:
        raise ValueError(
            f"Invalid value received for argument `top`: expected 1 to {NUM_CLASSES}. Received: top={top!r}"
        )
    index = imagenet_class_index()
    results = []
    for pred in preds:
        best = np.argsort(pred, kind="stable")[::-1][:top]
        results.append([ImageNetClass(*index[int(i)], float(pred[i])) for i in best])
    return results


def load_images(paths: Sequence["str | Path"], size: tuple[int, int], interpolation: str = "nearest") -> np.ndarray:
    """Reads image files as an RGB batch `(n, height, width, 3)` of float32 in 0-255.

    Resized like `keras.utils.load_img(path, target_size=size)`, whose
    default interpolation is "nearest", so that predictions match the
    keras.applications examples.

    Raises:
        FileNotFoundError: a file is missing.
        ValueError: a file is not an image PIL can read.
    """
    from PIL import Image, UnidentifiedImageError

    resample = {"nearest": Image.NEAREST, "bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC}
    if interpolation not in resample:
        raise ValueError(
            "Invalid value received for argument `interpolation`: expected one of "
            f"{', '.join(resample)}. Received: {interpolation!r}"
        )
    height, width = size
    batch = []
    for path in paths:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"Image not found: {path}.")
        try:
            with Image.open(path) as image:
                image = image.convert("RGB")
                if image.size != (width, height):
                    image = image.resize((width, height), resample[interpolation])
                batch.append(np.asarray(image, dtype="float32"))
        except UnidentifiedImageError:
            raise ValueError(f"{path} is not an image file PIL can read (JPEG, PNG, BMP, ...).") from None
    return np.stack(batch)


def predict_imagenet(
    model_name: str,
    weights: "str | Path",
    image_paths: Sequence["str | Path"],
    top: int = 5,
    interpolation: str = "nearest",
) -> list[list[ImageNetClass]]:
    """Top-`top` ImageNet classes of each image, with a recipe and its ImageNet weights.

    The article's recipe in one call: build the recipe with the weights and
    its preprocessing inside, read the images at the recipe's input size,
    predict, decode.

    Args:
        model_name: a recipe name or file, e.g. "inception_resnet_v2".
        weights: a keras.applications top-included `.h5` file, or a
            resblocks weights file of a 1000-class model of that recipe.
        image_paths: image files.
        top: int. Classes to return per image.
        interpolation: str. How images are resized: "nearest" (keras'
            `load_img` default), "bilinear" or "bicubic".

    Returns:
        One list of `ImageNetClass` rows per image, best first.
    """
    from registry.build import build
    from registry.recipe import load_recipe

    # Read the images and find the weights first: both fail fast, before a build.
    height, width = load_recipe(model_name).input_shape[:2]
    images = load_images(image_paths, (height or 224, width or 224), interpolation)
    if not Path(weights).is_file():
        raise FileNotFoundError(f"Weights file not found: {weights}. Give a keras.applications .h5 file or a resblocks one.")
    model = build(model_name, weights=weights, include_preprocessing=True)
    if model.output_shape[-1] != NUM_CLASSES:
        raise ValueError(
            f"'{model_name}' has {model.output_shape[-1]} classes, not the {NUM_CLASSES} of ImageNet. "
            "Use a 1000-class recipe."
        )
    preds = model.predict(images, verbose=0, batch_size=8)
    return decode_predictions(preds, top=top)
