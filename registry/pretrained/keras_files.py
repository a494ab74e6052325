"""`weights="imagenet"`: keras.applications' ImageNet file for a recipe, found as Keras finds it.

keras.applications keeps its weight files in `~/.keras/models/` (or
`$KERAS_HOME/models/`) under standard names, `resnet50_weights_tf_dim_
ordering_tf_kernels.h5` and `..._notop.h5` without the classifier, and
downloads a missing one with `keras.utils.get_file`. The recipes built
exactly as keras.applications builds them carry the same names.
"""

import os
from pathlib import Path

from registry.errors import WeightsError

BASE_URL = "https://storage.googleapis.com/tensorflow/keras-applications"

# recipe name -> the folder of keras-applications' storage that holds its files.
IMAGENET_RECIPES = {
    "resnet50": "resnet",
    "resnet101": "resnet",
    "resnet152": "resnet",
    "resnet50v2": "resnet",
    "resnet101v2": "resnet",
    "resnet152v2": "resnet",
    "inception_resnet_v2": "inception_resnet_v2",
}


def imagenet_file_name(recipe_name: str, include_top: bool) -> str:
    """`resnet50_weights_tf_dim_ordering_tf_kernels.h5`, `..._notop.h5` without the top."""
    return f"{recipe_name}_weights_tf_dim_ordering_tf_kernels{'' if include_top else '_notop'}.h5"


def keras_models_folder() -> Path:
    """Where keras.applications keeps its files: $KERAS_HOME/models, else ~/.keras/models."""
    home = os.environ.get("KERAS_HOME") or Path("~/.keras").expanduser()
    return Path(home) / "models"


def imagenet_weights(recipe_name: str, include_top: bool) -> Path:
    """The keras.applications ImageNet file of `recipe_name`: from the folder, else downloaded.

    Raises:
        WeightsError: the recipe has no keras.applications weights, or the
            file is missing and cannot be downloaded (the message names the
            file, the folder and the address).
    """
    if recipe_name not in IMAGENET_RECIPES:
        raise WeightsError(
            f'weights="imagenet" means keras.applications\' ImageNet file, which exists for '
            f"{', '.join(IMAGENET_RECIPES)}; the recipe '{recipe_name}' is none of them. "
            "Give the path of a weights file instead (a torchvision .pth or timm .safetensors "
            "file for the recipes with a PyTorch counterpart: docs/reference/models.md)."
        )
    name = imagenet_file_name(recipe_name, include_top)
    folder = keras_models_folder()
    if (folder / name).is_file():
        return folder / name
    url = f"{BASE_URL}/{IMAGENET_RECIPES[recipe_name]}/{name}"
    import keras

    try:
        return Path(keras.utils.get_file(name, url, cache_subdir="models"))
    except Exception as error:  # noqa: BLE001  (get_file wraps every network failure in Exception)
        raise WeightsError(
            f'weights="imagenet" needs keras.applications\' file {name} in {folder}/, which is '
            f"not there, and downloading it failed ({type(error).__name__}: {error}). Download "
            f"{url} into {folder}/ on a machine with a network, or give the file's path: "
            f'weights="path/to/{name}".'
        ) from None
