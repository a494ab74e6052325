"""preprocess_input(): raw pixels to the input convention a recipe's weights expect.

The convention is data: a recipe's `preprocessing:` field, kept on every
Network built from it as `input_convention`, so the same call serves a
recipe name and a built model, as keras.applications' per-model
`preprocess_input` functions do.
"""

from collections.abc import Mapping
from pathlib import Path

import keras
import numpy as np

from registry.recipe import Recipe, load_recipe
from resblocks import Network, Preprocess


def input_convention(name_or_model: "str | Path | Mapping | Recipe | keras.Model") -> str:
    """The `Preprocess` mode a recipe or a built Network expects its pixels in.

    A Network that carries its preprocessing inside takes raw pixels, so its
    convention is "none".

    Raises:
        TypeError: a model that resblocks did not build (it keeps no convention).
        RecipeError: an unknown recipe name or an invalid recipe.
    """
    if isinstance(name_or_model, keras.Model):
        if not isinstance(name_or_model, Network):
            raise TypeError(
                "preprocess_input needs a recipe name or a model built by resblocks, which "
                f"knows its input convention. Received: a {type(name_or_model).__name__} "
                f"named {name_or_model.name!r}. For a keras.applications model use its module's "
                "preprocess_input, e.g. keras.applications.resnet.preprocess_input."
            )
        return "none" if name_or_model.preprocessing is not None else name_or_model.input_convention
    return load_recipe(name_or_model).preprocessing


def preprocess_input(name_or_model, images) -> np.ndarray:
    """Prepares raw RGB images (0-255) for a recipe's network, as its weights expect.

    `registry.preprocess_input("resnet50", x)` equals
    `keras.applications.resnet50.preprocess_input(x)` (BGR, ImageNet mean
    subtracted); for `"inception_resnet_v2"` it scales to [-1, 1], as
    `keras.applications.inception_resnet_v2.preprocess_input` does.

    Args:
        name_or_model: a recipe name, path, mapping or `Recipe`, or a
            Network built by resblocks.
        images: array-like of shape `(..., height, width, 3)` in 0-255, RGB.

    Returns:
        A float32 numpy array of the same shape. The input is not changed.
    """
    mode = input_convention(name_or_model)
    images = np.asarray(images, dtype="float32")
    if mode == "none":
        return images.copy()
    return keras.ops.convert_to_numpy(Preprocess(mode)(images))
