"""A trained model read back: loaded safely, with its class names and input size.

Both come from the model itself (the head's `class_names`, the input
layer's shape), so `evaluate` and `predict` need only the `.keras` file.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import keras

from registry.errors import MissingFileError, ResblocksError
from registry.pretrained.weights import load_model


def load_trained(
    model: str | os.PathLike | keras.Model, *, allow_plugins: bool = False
) -> keras.Model:
    """The model itself, or the `.keras` file loaded with `safe_mode=True` (no optimizer).

    A model made of a recipe's plugin blocks loads only once their modules
    are imported: `allow_plugins=True` imports the plugins named by the
    run's `recipe.yaml` beside the file first (they are code: trust them).
    """
    if isinstance(model, keras.Model):
        return model
    path = Path(model)
    if path.is_dir() and (path / "model.keras").is_file():
        path = path / "model.keras"  # a run folder stands for its best model
    if not path.is_file():
        raise MissingFileError(
            f"Model file not found: '{path}'. Give a .keras file (or a run folder "
            "holding model.keras) written by `resblocks train`."
        )
    if path.suffix != ".keras":
        raise ResblocksError(f"A model must be a .keras file. Received: '{path}'")
    if allow_plugins:
        import_run_plugins(path.parent)
    # Through registry.pretrained.weights: a cut or damaged file is a WeightsError that says so.
    return load_model(path, safe_mode=True, compile=False)


def import_run_plugins(run: Path) -> None:
    """Imports the plugins of the run folder's recipe.yaml, so its custom blocks are registered."""
    from registry.recipe import load_recipe
    from registry.training.rundir import RECIPE

    if (run / RECIPE).is_file():
        load_recipe(str(run / RECIPE), allow_plugins=True)


def class_names(model: keras.Model) -> list[str]:
    """The labels of the model's outputs: the head's `class_names`, else "0", "1", ..."""
    head = model.get_layer("head") if "head" in [layer.name for layer in model.layers] else None
    names = getattr(head, "class_names", None)
    if names:
        return list(names)
    if imagenet_ids(model):
        from registry.pretrained.imagenet import imagenet_class_names

        return imagenet_class_names()
    return [str(i) for i in range(int(model.output_shape[-1]))]


def imagenet_ids(model: keras.Model) -> list[str] | None:
    """WordNet ids of the outputs of a 1000-class model without class names, else None."""
    head = model.get_layer("head") if "head" in [layer.name for layer in model.layers] else None
    if getattr(head, "class_names", None) or int(model.output_shape[-1]) != 1000:
        return None
    from registry.pretrained.imagenet import imagenet_class_index

    index = imagenet_class_index()
    return [index[i][0] for i in range(1000)]


def model_inputs(model: keras.Model, dataset):
    """The images of a `(images, labels)` dataset as the model takes them.

    A model trained by `resblocks train` holds its preprocessing and takes
    raw pixels; a Network built without it (`build(...)` alone) is given
    its recipe's convention here, as `registry.preprocess_input` would.
    A 1-channel model is given the images' luma, as in training.
    """
    from registry.pretrained.preprocessing import input_convention
    from registry.training.decode import to_channels
    from resblocks import Preprocess

    if model.input_shape[-1] == 1:
        dataset = dataset.map(lambda images, labels: (to_channels(images, 1), labels))

    try:
        mode = input_convention(model)
    except TypeError:  # not built by resblocks: take it as it is
        mode = "none"
    if mode == "none":
        return dataset.map(lambda images, labels: images)
    preprocess = Preprocess(mode)
    return dataset.map(lambda images, labels: preprocess(images))


def image_size(model: keras.Model, given: int | Sequence[int] | None = None) -> tuple[int, int]:
    """(height, width) the model takes: `given` if set, else its input shape.

    Raises:
        ValueError: the model takes any size and none was given.
    """
    if given is not None:
        return (given, given) if isinstance(given, int) else (int(given[0]), int(given[1]))
    height, width = model.input_shape[1:3]
    if height is None or width is None:
        raise ResblocksError(
            f"The model '{model.name}' takes images of any size; say which with --image-size N."
        )
    return (int(height), int(width))
