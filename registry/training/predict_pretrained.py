"""Top-k ImageNet classes of image files, with a recipe and its ImageNet weights.

What `resblocks predict --model NAME --weights FILE` does: build the recipe
with the weights and its preprocessing inside, read the images at the
recipe's input size as keras' `load_img` does (or, when the recipe says
`train.eval`, as its weights were evaluated: torchvision's `Resize` +
`CenterCrop` on PIL images), predict, decode.
"""

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from registry.assembly import build
from registry.errors import MissingFileError, ResblocksError
from registry.pretrained.imagenet import NUM_CLASSES, ImageNetClass, decode_predictions
from registry.recipe import load_recipe
from registry.recipe.train_spec import EvalSpec
from registry.recipe.validate import Recipe
from registry.training.data import DataError


def load_images(
    paths: Sequence["str | Path"],
    size: tuple[int, int],
    interpolation: str = "nearest",
    fit: EvalSpec | None = None,
) -> np.ndarray:
    """Reads image files as an RGB batch `(n, height, width, 3)` of float32 in 0-255.

    Resized like `keras.utils.load_img(path, target_size=size)`, whose
    default interpolation is "nearest", so that predictions match the
    keras.applications examples; with `fit` of `resize: shorter_side`, as
    torchvision's `Resize(int(size / crop_pct))` + `CenterCrop(size)` on a
    PIL image (the shorter side resized with PIL's filter, aspect kept,
    then the centre cut out).

    Raises:
        MissingFileError: a file is missing (a FileNotFoundError too).
        DataError: a file is not an image PIL can read.
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
            raise MissingFileError(f"Image not found: {path}.")
        try:
            with Image.open(path) as image:
                image = image.convert("RGB")
                if fit is not None and fit.resize == "shorter_side":
                    image = _shorter_side_crop(image, size, fit, resample[interpolation])
                elif image.size != (width, height):
                    image = image.resize((width, height), resample[interpolation])
                batch.append(np.asarray(image, dtype="float32"))
        except UnidentifiedImageError:
            raise DataError(
                f"{path} is not an image file PIL can read (JPEG, PNG, BMP, ...)."
            ) from None
    return np.stack(batch)


def _shorter_side_crop(image, size: tuple[int, int], fit: EvalSpec, resample):
    """torchvision's Resize + CenterCrop of a PIL image, the sizes as `decode.shorter_side_crop`."""
    height, width = size
    cover_h, cover_w = fit.resize_size(size)
    if cover_h * image.width >= cover_w * image.height:
        new = (cover_h * image.width // image.height, cover_h)
    else:
        new = (cover_w, cover_w * image.height // image.width)
    if image.size != new:
        image = image.resize(new, resample)
    top = int(round((new[1] - height) / 2.0))
    left = int(round((new[0] - width) / 2.0))
    return image.crop((left, top, left + width, top + height))


def declared_eval(recipe: Recipe) -> EvalSpec | None:
    """The recipe's `train.eval` if it (or its `base:`) writes one, else None."""
    if recipe.train is None or "eval" not in recipe.train.model_fields_set:
        return None
    return recipe.train.eval


def predict_imagenet(
    model_name: str,
    weights: "str | Path",
    image_paths: Sequence["str | Path"],
    top: int = 5,
    interpolation: str | None = None,
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
        interpolation: str or None. How images are resized: "nearest"
            (keras' `load_img` default), "bilinear" or "bicubic"; None: the
            recipe's `train.eval` interpolation, else "nearest".

    The recipe's `train.eval`, when it writes one, says how each image is
    fitted (the torchvision recipes: shorter side 256, centre 224) and
    whether the mirror's softmax is averaged in (`tta: flip`); without it
    the whole image is resized, as keras' `load_img` does.

    Returns:
        One list of `ImageNetClass` rows per image, best first.
    """
    # Read the images and find the weights first: both fail fast, before a build.
    recipe = load_recipe(model_name)
    fit = declared_eval(recipe)
    if interpolation is None:
        interpolation = fit.interpolation if fit is not None else "nearest"
    height, width = recipe.input_shape[:2]
    images = load_images(image_paths, (height or 224, width or 224), interpolation, fit)
    if not Path(weights).is_file():
        raise MissingFileError(
            f"Weights file not found: {weights}. Give a keras.applications .h5 file or a resblocks "
            "one."
        )
    model = build(model_name, weights=weights, include_preprocessing=True)
    if model.output_shape[-1] != NUM_CLASSES:
        raise ResblocksError(
            f"'{model_name}' has {model.output_shape[-1]} classes, not the {NUM_CLASSES} of "
            "ImageNet. "
            "Use a 1000-class recipe."
        )
    preds = model.predict(images, verbose=0, batch_size=8)
    if fit is not None and fit.tta == "flip":
        preds = (preds + model.predict(images[:, :, ::-1], verbose=0, batch_size=8)) / 2
    return decode_predictions(preds, top=top)


def is_embedding_recipe(model_name: str) -> bool:
    """Whether a recipe ends in an `embedding` head (FaceNet's): it gives vectors, not classes."""
    head = load_recipe(model_name).head
    return head is not None and head.block == "embedding"


def embed_images(
    model_name: str,
    weights: "str | Path",
    image_paths: Sequence["str | Path"],
    interpolation: str = "nearest",
) -> np.ndarray:
    """The embedding of each image, with a recipe whose head is `embedding` and its weights.

    What `resblocks predict --model facenet_inception_resnet_v1 --weights
    FILE` does: build the recipe with the weights and its preprocessing
    inside, read the images at the recipe's input size (already cropped to
    the face: nothing here finds one), embed.

    Args:
        model_name: a recipe name or file, e.g. "facenet_inception_resnet_v1".
        weights: a facenet-pytorch `.pt` state dict (VGGFace2 or
            CASIA-WebFace), its `.safetensors` conversion, or a resblocks
            weights file of that recipe.
        image_paths: image files.
        interpolation: str. How images are resized: "nearest", "bilinear"
            or "bicubic".

    Returns:
        float32 array `(images, dimensions)`; with the head's L2
        normalisation on (FaceNet's), each row has norm 1, so the cosine
        similarity of two images is the dot product of their rows.
    """
    height, width = load_recipe(model_name).input_shape[:2]
    images = load_images(image_paths, (height or 160, width or 160), interpolation)
    if not Path(weights).is_file():
        raise MissingFileError(
            f"Weights file not found: {weights}. Give a facenet-pytorch .pt file, its "
            ".safetensors conversion, or a resblocks one."
        )
    model = build(model_name, weights=weights, include_preprocessing=True)
    return np.asarray(model.predict(images, verbose=0, batch_size=8), dtype="float32")
