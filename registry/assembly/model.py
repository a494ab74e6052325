"""build(): a recipe in, a built keras.Model out."""

import inspect
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import keras

from registry.assembly.input_size import EMPTY_OUTPUT, LARGEST, first_misfit, smallest_input
from registry.assembly.network_keys import network_block_args, stem_stride
from registry.errors import ArgumentNameError, Problem, RecipeError, short_repr
from registry.names import did_you_mean
from registry.pretrained.keras_files import imagenet_weights
from registry.pretrained.weights import load_weights
from registry.recipe import Recipe, load_recipe
from resblocks import Network, Preprocess
from resblocks.checks import ArgumentError, choices_text
from resblocks.heads import POOLINGS
from resblocks.network import LayerInputError

_UNSET = object()  # classifier_activation not given (None is a value: logits)


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
    allow_plugins: bool = False,
    drop_path_rate: float | None = None,
    zero_init_last: bool | None = None,
    output_stride: int | None = None,
    classes: int | None = None,
    classifier_activation: "str | None | object" = _UNSET,
    input_tensor: Any = None,
    **unexpected: Any,
) -> keras.Model:
    """Builds the network a recipe describes.

    keras.applications' names work too: `classes` (num_classes),
    `classifier_activation` (the head's activation; None for logits),
    `input_tensor` and `weights="imagenet"`.

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
            resnet101, resnet152, their v2 and inception_resnet_v2, or a
            torchvision `.pth` / timm `.safetensors` checkpoint for the
            recipes with a PyTorch counterpart (resnet18, resnet34, the `_tv`
            ResNets, ResNeXts, Wide ResNets, resnet50d, seresnet50), or
            facenet-pytorch's VGGFace2 / CASIA-WebFace `.pt` file for
            facenet_inception_resnet_v1 (its `logits` classifier is left
            out). With
            num_classes other than the file's, everything but the classifier
            loads; with other than 3 input channels, the first convolution is
            adapted (timm's `adapt_input_conv`).
        include_preprocessing: bool. Put the recipe's `preprocessing` inside
            the model, so it takes raw 0-255 RGB pixels.
        allow_plugins: bool. Import the recipe's `plugins:` (Python modules
            with custom blocks); False refuses a recipe that has any.
        drop_path_rate: float in [0, 1) or None. Replaces the recipe's
            `drop_path_rate`: stochastic depth, rising linearly to this rate
            at the last residual block.
        zero_init_last: bool or None. Replaces the recipe's `zero_init_last`.
        output_stride: 8, 16, 32 or None. Replaces the recipe's
            `output_stride`: the last stages dilate instead of striding.
        classes: int or None. keras.applications' name for num_classes.
        classifier_activation: str or None. The head's activation
            (default: the recipe's, "softmax" in the shipped ones); None
            or "linear" returns logits, as in keras.applications.
        input_tensor: a Keras tensor (`keras.Input(...)`) or None. The
            network is called on it and the model returned starts there,
            as keras.applications' models do.

    Returns:
        A built `resblocks.Network` (a functional `keras.Model`).

    Raises:
        RecipeError: the recipe is invalid or its blocks do not fit together.
        WeightsError: the weights file does not fit the network (it is then
            left as built), or `weights="imagenet"` has no file.
        ArgumentNameError: a keyword build() does not take (a ResblocksError
            and a TypeError), with the closest names.
    """
    if unexpected:
        _refuse_keywords(unexpected)
    num_classes = _one_of("num_classes", num_classes, "classes", classes)
    if classifier_activation is not _UNSET:
        overrides = {**(overrides or {}), "head.activation": classifier_activation}
    if input_tensor is not None:
        input_shape = _shape_of(input_tensor, input_shape)
    recipe = load_recipe(
        recipe,
        overrides=overrides,
        num_classes=num_classes,
        input_shape=input_shape,
        allow_plugins=allow_plugins,
        drop_path_rate=drop_path_rate,
        zero_init_last=zero_init_last,
        output_stride=output_stride,
    )
    model = model_from_recipe(
        recipe,
        include_top=include_top,
        pooling=pooling,
        features=features,
        include_preprocessing=include_preprocessing,
    )
    if isinstance(weights, str) and weights == "imagenet":
        weights = imagenet_weights(recipe.name, include_top)
    if weights is not None:
        # An explicit num_classes asks for a new head: a classifier that does
        # not fit the file's is then left out of loading, not an error.
        load_weights(model, weights, allow_new_head=num_classes is not None)
    if input_tensor is not None:
        return _on_tensor(model, input_tensor)
    return model


def _refuse_keywords(unexpected: dict[str, Any]) -> None:
    known = [name for name in inspect.signature(build).parameters if name not in ("unexpected",)]
    name = sorted(unexpected)[0]
    raise ArgumentNameError(
        f"build() got an unexpected keyword argument {name!r}.{did_you_mean(name, known)} "
        f"build() takes: {', '.join(known[1:])}."
    )


def _one_of(name: str, value: Any, alias: str, alias_value: Any) -> Any:
    """`num_classes` or keras.applications' `classes`: one of them, or both equal."""
    if alias_value is None:
        return value
    if value is not None and value != alias_value:
        raise ArgumentNameError(
            f"build() got {name}={value!r} and {alias}={alias_value!r}; {alias} is "
            f"keras.applications' name for {name}. Give one of them."
        )
    return alias_value


def _shape_of(tensor: Any, input_shape: Any) -> list:
    """input_tensor's [height, width, channels]; input_shape, if also given, must agree."""
    shape = getattr(tensor, "shape", None)
    if shape is None or len(shape) != 4:
        raise ArgumentNameError(
            "Argument `input_tensor` must be a Keras tensor of images, such as "
            f"keras.Input((224, 224, 3)). Received: input_tensor={short_repr(tensor)}"
        )
    found = list(shape[1:])
    if input_shape is not None and list(input_shape) != found:
        raise ArgumentNameError(
            f"input_shape={list(input_shape)} and input_tensor (shape {found}) disagree. "
            "Give one of them."
        )
    return found


def _on_tensor(model: keras.Model, tensor: Any) -> keras.Model:
    """The model called on `tensor`, from the inputs `tensor` comes from (keras.applications)."""
    inputs = keras.utils.get_source_inputs(tensor)
    return keras.Model(inputs, model(tensor), name=model.name)


def model_from_recipe(
    recipe: Recipe,
    *,
    include_top: bool = True,
    pooling: str | None = None,
    features: Sequence[str] | None = None,
    include_preprocessing: bool = False,
) -> keras.Model:
    """Instantiates the recipe's layers and wires them into a Network.

    Raises:
        RecipeError: the blocks do not fit together (an identity shortcut
            where the shape changes, an input too small for the network's
            downsampling, ...), located at the stage at fault.
    """
    where: dict[str, str] = {}  # layer name -> recipe location, for errors

    def make(call, name, **args):
        where[name] = call.location
        try:
            return call.cls(**{**call.args, **args}, name=name)
        except (ValueError, TypeError) as error:
            problem = Problem(_argument_at(call, error), str(error))
            raise RecipeError(recipe.source, problem) from None

    _check_outputs(recipe, include_top, pooling, features)
    body = [make(recipe.stem, "stem")]
    # drop_path_rate, zero_init_last, output_stride: one value per block.
    network_args = network_block_args(recipe, stem_stride(body[0], recipe.input_shape[2]))
    for stage, per_block in zip(recipe.stages, network_args):
        for j, name in enumerate(stage.layer_names):
            # The stage's stride belongs to one block only: the first, or
            # the last with `stride_at_block: last`; output_stride may trade
            # it for dilation (per_block).
            others = {"strides": 1} if "strides" in stage.call.args else {}
            stride = {} if j == stage.strided_block else others
            body.append(make(stage.block_call(j), name, **{**stride, **per_block[j]}))
    head = make(recipe.head, "head") if include_top and recipe.head else None
    _check_input_size(recipe, body, where)
    try:
        return Network(
            body,
            head,
            image_shape=recipe.input_shape,
            taps=recipe.taps,
            features=features,
            pooling=pooling,
            preprocessing=Preprocess(recipe.preprocessing, name="preprocess")
            if include_preprocessing
            else None,
            input_convention=recipe.preprocessing,
            name=recipe.name,
        )
    except LayerInputError as error:
        raise RecipeError(
            recipe.source, Problem(where.get(error.layer.name, ""), _shape_hint(str(error)))
        ) from None
    except (ValueError, TypeError) as error:
        raise RecipeError(recipe.source, Problem("", _shape_hint(str(error)))) from None


def _argument_at(call, error: Exception) -> str:
    """`stages[1].groups` where a block refused one of the recipe's arguments, else the stage."""
    if isinstance(error, ArgumentError) and error.argument in call.args:
        return call.location_of(error.argument)
    return call.location


def _shape_hint(message: str) -> str:
    if "negative" in message or "must be > 0" in message or "0 or negative" in message:
        return (
            f"{message} The input is too small for this network's downsampling; "
            "use a larger input_shape."
        )
    return message


def _check_outputs(recipe: Recipe, include_top: bool, pooling, features) -> None:
    """The arguments of model_from_recipe that choose the outputs, checked against the recipe."""
    if include_top and recipe.head is None and features is None:
        raise RecipeError(
            recipe.source,
            Problem(
                "head",
                (
                    "include_top=True, but the recipe has no head. Add `head: {block: classifier, "
                    "num_classes: N}` "
                    "or build with include_top=False."
                ),
            ),
        )
    if pooling not in (None, *POOLINGS):
        raise RecipeError(
            recipe.source,
            Problem(
                "pooling",
                (
                    f"must be {choices_text((None, *POOLINGS))}. Received: "
                    f"pooling={short_repr(pooling)}"
                ),
            ),
        )
    if features is None:
        return
    if isinstance(features, str) or not all(isinstance(name, str) for name in features):
        raise RecipeError(
            recipe.source,
            Problem(
                "features",
                (
                    "must be a list of tap names, e.g. ['c2', 'c3']. Received: "
                    f"features={short_repr(features)}"
                ),
            ),
        )
    taps = recipe.taps
    for name in features:
        if name not in taps:
            raise RecipeError(
                recipe.source,
                Problem(
                    "features",
                    (
                        f"unknown feature {short_repr(name)}. This recipe taps: "
                        f"{', '.join(taps) or 'nothing'}. "
                        f"Ask for one of those, or set `tap: {name}` on a stage to add it."
                    ),
                ),
            )


def _check_input_size(recipe: Recipe, body: list, where: dict[str, str]) -> None:
    """Refuses an input too small for the network's downsampling.

    Names the stage and the smallest input that works.
    """
    misfit = first_misfit(body, recipe.input_shape)
    if misfit is None:
        return
    channels = recipe.input_shape[2]
    smallest = smallest_input(body, channels)
    if smallest is None and misfit.kind == EMPTY_OUTPUT:
        return  # not a size problem after all: let the build report the layer's own error
    layer = misfit.layer
    stage = where.get(layer.name, "")
    h, w = recipe.input_shape[:2]
    given = f"{'any' if h is None else h}x{'any' if w is None else w}"
    got = "x".join("?" if d is None else str(d) for d in misfit.size)
    if smallest is None:
        fix = f"No input up to {LARGEST}x{LARGEST} is large enough: remove strided stages."
    else:
        fix = (
            f"The smallest input that works is {smallest}x{smallest}: "
            f"use input_shape: [{smallest}, {smallest}, {channels}] or larger."
        )
    raise RecipeError(
        recipe.source,
        Problem(
            "input_shape",
            (
                f"a {given} input is too small for this network's downsampling: at "
                f"{stage or 'the stem'} "
                f"(layer '{layer.name}', {type(layer).__name__}) the map is {got}, "
                f"{misfit.reason}. {fix}"
            ),
        ),
    )
