"""build(): a recipe in, a built keras.Model out."""

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import keras

from registry.errors import Problem, RecipeError
from registry.keras_applications import is_legacy_keras_h5, load_keras_applications_weights
from registry.recipe import Recipe, load_recipe
from resblocks import Network, Preprocess


def build(
    recipe: "str | Path | Mapping | Recipe",
    *,
    num_classes: int | None = None,
    input_shape: Sequence[int | None] | None = None,
    include_top: bool = True,
    pooling: str | None = None,
    features: Sequence[str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    weights: "str | Path | None" = None,
    include_preprocessing: bool = False,
) -> keras.Model:
    """Builds the network a recipe describes.

    Args:
        recipe: a recipe name (`"resnet50"`, see `list_models()`), a path to
            a YAML file, a mapping, or a loaded `Recipe`.
        num_classes: int or None. Replaces the head's number of classes.
        input_shape: [height, width, channels] or None for the recipe's.
        include_top: bool. False drops the head (a feature extractor).
        pooling: "avg", "max" or None. Without top: pool the last map.
        features: list of tap names (`["c2", "c3", "c4", "c5"]`). The model
            then returns a dict of those feature maps.
        overrides: dotted paths to values applied to the recipe first,
            e.g. `{"stages.0.block": "res_block"}`.
        weights: path or None. A weights file saved by resblocks
            (`model.save_weights`), a `.keras` model of the same recipe, or
            a keras.applications ImageNet file (`resnet50_weights_tf_dim_
            ordering_tf_kernels[_notop].h5` and the like) for resnet50,
            resnet101, resnet152 and inception_resnet_v2. With num_classes
            other than the file's, everything but the classifier loads.
        include_preprocessing: bool. Put the recipe's `preprocessing` inside
            the model, so it takes raw 0-255 RGB pixels.

    Returns:
        A built `resblocks.Network` (a functional `keras.Model`).

    Raises:
        RecipeError: the recipe is invalid or its blocks do not fit together.
        WeightsError: the weights file does not fit the network.
    """
    recipe = load_recipe(recipe, overrides=overrides, num_classes=num_classes, input_shape=input_shape)
    model = model_from_recipe(
        recipe,
        include_top=include_top,
        pooling=pooling,
        features=features,
        include_preprocessing=include_preprocessing,
    )
    if weights is not None:
        # An explicit num_classes asks for a new head: a classifier that does
        # not fit the file's is then left out of loading, not an error.
        load_weights(model, weights, allow_new_head=num_classes is not None)
    return model


def model_from_recipe(
    recipe: Recipe,
    *,
    include_top: bool = True,
    pooling: str | None = None,
    features: Sequence[str] | None = None,
    include_preprocessing: bool = False,
) -> keras.Model:
    """Instantiates the recipe's layers and wires them into a Network."""
    where: dict[str, str] = {}  # layer name -> recipe location, for errors

    def make(call, name, **args):
        where[name] = call.location
        try:
            return call.cls(**{**call.args, **args}, name=name)
        except (ValueError, TypeError) as error:
            raise RecipeError(recipe.source, Problem(call.location, str(error))) from None

    body = [make(recipe.stem, "stem")]
    for stage in recipe.stages:
        for j, name in enumerate(stage.layer_names):
            # The stage's stride belongs to its first block only.
            later = {"strides": 1} if j > 0 and "strides" in stage.call.args else {}
            body.append(make(stage.call, name, **later))
    head = make(recipe.head, "head") if include_top and recipe.head else None
    if include_top and recipe.head is None and features is None:
        raise RecipeError(recipe.source, Problem("head", "include_top=True, but the recipe has no head. Add `head: {block: classifier, num_classes: N}` or build with include_top=False."))

    taps = recipe.taps
    for name in features or ():
        if name not in taps:
            raise RecipeError(recipe.source, Problem("features", f"unknown feature {name!r}. This recipe taps: {', '.join(taps) or 'nothing'} (set `tap:` on a stage)."))
    try:
        return Network(
            body,
            head,
            image_shape=recipe.input_shape,
            taps=taps,
            features=features,
            pooling=pooling,
            preprocessing=Preprocess(recipe.preprocessing, name="preprocess") if include_preprocessing else None,
            input_convention=recipe.preprocessing,
            name=recipe.name,
        )
    except ValueError as error:
        location = next((loc for name, loc in where.items() if f"Layer '{name}'" in str(error)), "")
        raise RecipeError(recipe.source, Problem(location, _shape_hint(str(error)))) from None


def _shape_hint(message: str) -> str:
    if "negative" in message or "must be > 0" in message or "0 or negative" in message:
        return f"{message} The input is too small for this network's downsampling; use a larger input_shape."
    return message


def load_weights(model: keras.Model, path: "str | Path", *, allow_new_head: bool = False) -> None:
    """Loads weights saved by resblocks, or a keras.applications file, into `model`.

    Args:
        model: the model to fill.
        path: a `.weights.h5` or `.keras` file saved by resblocks, or a
            keras.applications (Keras-2 HDF5) weights file.
        allow_new_head: bool. For keras.applications files: a classifier that
            does not fit the file's keeps its initialization (with a warning).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Weights file not found: {path}. Give the path of a .weights.h5 or .keras file saved by resblocks, or of a keras.applications .h5 file.")
    own_h5 = path.name.endswith(".weights.h5")
    if is_legacy_keras_h5(path) or (path.suffix == ".h5" and not own_h5):
        load_keras_applications_weights(model, path, allow_new_head=allow_new_head)
    elif path.suffix == ".keras":
        model.set_weights(keras.saving.load_model(path, safe_mode=True).get_weights())
    else:
        model.load_weights(path)
