"""Fine-tuning: start from saved weights where they fit, and freeze named stages.

Weights are matched layer by layer by name, so a file trained for another
number of classes still gives its body: the head, whose shape differs,
keeps its fresh initialisation. Freezing sets `trainable = False` on whole
blocks; in Keras 3 that also runs their batch normalization in inference
mode (moving statistics, not the batch's), as fine-tuning wants.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import keras

from registry.assembly import model_from_recipe
from registry.errors import MissingFileError, ResblocksError
from registry.names import unknown_name_message
from registry.pretrained.weights import load_model, load_weights
from registry.recipe import Recipe, load_recipe


class FineTuneError(ResblocksError):
    """Weights that do not fit the network, or unknown names to freeze."""


def freeze(model: keras.Model, recipe: Recipe, names: Sequence[str]) -> list[str]:
    """Sets `trainable = False` on the named stages or layers.

    Args:
        model: keras.Model. Built from `recipe`.
        recipe: Recipe. Gives the stage names (`conv2` means every block
            of stage conv2).
        names: list of str. Stage names, `stem`, `head`, or layer names.

    Returns:
        The names of the layers frozen, in model order.

    Raises:
        FineTuneError: a name is neither a stage nor a layer of the model,
            or nothing would be left to train.
    """
    stages = {"stem": ["stem"], **{stage.name: stage.layer_names for stage in recipe.stages}}
    if recipe.head is not None:
        stages["head"] = ["head"]
    layers = {layer.name for layer in model.layers if layer.weights}
    chosen: set[str] = set()
    for name in names:
        if name in stages:
            chosen.update(stages[name])
        elif name in layers:
            chosen.add(name)
        else:
            message = unknown_name_message(
                "stage or layer", name, list(stages), listed="Valid stages"
            )
            raise FineTuneError(
                f"--freeze: {message}; or a block's layer name, such as "
                f"'{recipe.stages[0].layer_names[0]}'."
            )
    frozen = [layer.name for layer in model.layers if layer.name in chosen]
    for layer in model.layers:
        if layer.name in chosen:
            layer.trainable = False
    if not model.trainable_weights:
        raise FineTuneError(
            f"--freeze {','.join(names)} leaves nothing to train: every layer with "
            "weights is frozen. Leave at least the head trainable."
        )
    return frozen


def load_pretrained(model: keras.Model, recipe: Recipe, path: str | os.PathLike) -> str:
    """Copies the weights of `path` into `model`, layer by layer where they fit.

    Args:
        model: keras.Model. The network to train, built from `recipe`.
        recipe: Recipe. Used to read files that hold weights only.
        path: str or path. A `.keras` model, or a weights file that
            `registry.pretrained.weights.load_weights` reads for this recipe.

    Returns:
        One line saying what was loaded and what was left as initialised.

    Raises:
        FineTuneError: no layer of the file fits the network.
    """
    path = Path(path)
    source = _source_model(recipe, path)
    loaded, skipped = [], []
    targets = {layer.name: layer for layer in model.layers if layer.weights}
    sources = {layer.name: layer for layer in source.layers if layer.weights}
    for name, layer in targets.items():
        other = sources.get(name)
        if other is not None and [w.shape for w in layer.weights] == [
            w.shape for w in other.weights
        ]:
            layer.set_weights(other.get_weights())
            loaded.append(name)
        else:
            skipped.append(name)
    if not loaded:
        raise FineTuneError(
            f"No layer of '{path}' fits this network: its layers are "
            f"{', '.join(list(sources)[:6])}{', ...' if len(sources) > 6 else ''}. "
            "Pass weights saved from a network of the same recipe."
        )
    line = f"Loaded weights from '{path}' into {len(loaded)} of {len(targets)} layers"
    if skipped:
        line += f"; left as initialised: {', '.join(skipped)}"
    return line + "."


def _source_model(recipe: Recipe, path: Path) -> keras.Model:
    """The network the file's weights live in, whatever its head."""
    if not path.is_file():
        raise MissingFileError(
            f"Weights file not found: '{path}'. Give the path of a .keras or .weights.h5 file."
        )
    if path.suffix == ".keras":
        # A damaged file is a WeightsError that says so.
        return load_model(path, safe_mode=True, compile=False)
    # A weights-only file fits one layout exactly. Try this run's network,
    # then the recipe file's own (its head may have other classes, as
    # ImageNet weights have 1000), then no head at all (a "notop" file).
    candidates = [("this run's network", recipe, True)]
    if Path(recipe.source).is_file():
        candidates.append(("the recipe file's network", load_recipe(recipe.source), True))
    candidates.append(("the network without its head", recipe, False))
    errors = []
    for what, candidate_recipe, include_top in candidates:
        if include_top and candidate_recipe.head is None:
            continue
        candidate = model_from_recipe(candidate_recipe, include_top=include_top)
        try:
            load_weights(candidate, path)
            return candidate
        except (ValueError, KeyError) as error:
            errors.append(f"{what}: {error}")
    raise FineTuneError(
        f"The weights in '{path}' fit no layout of '{recipe.name}' ("
        + "; ".join(errors)
        + "). Pass weights saved from this recipe (model.save_weights or a .keras file)."
    )
