"""A model's evaluation transform (a recipe's `train.eval`): which one applies, and its TTA.

`evaluate`, `predict` and `export` fit each image to the input size the
same way: the rule given, else the one in the `recipe.yaml` of the run the
model was saved in, else `squash` (the whole image resized, what every
recipe without `train.eval` has always done). The crop itself is
`decode.fit_uint8`, inside the tf.data pipeline; test-time flipping is
`predict_scores` here.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf
import yaml
from pydantic import ValidationError

from registry.errors import RecipeError
from registry.recipe.messages import problems_of
from registry.recipe.train_spec import EvalSpec
from registry.training.rundir import RECIPE


def run_eval_spec(model: str | os.PathLike | keras.Model) -> EvalSpec | None:
    """The `train.eval` of the run a `.keras` file (or run folder) belongs to, or None.

    None for a model object, a file outside a run folder, or a run whose
    recipe.yaml predates the key (those evaluated by squashing).

    Raises:
        RecipeError: the run's `train.eval` is not valid, located in its file.
    """
    if isinstance(model, keras.Model):
        return None
    path = Path(model)
    recipe = (path if path.is_dir() else path.parent) / RECIPE
    if not recipe.is_file():
        return None
    try:
        raw = yaml.safe_load(recipe.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return None  # not ours to judge here: the model file itself is what is loaded
    section = (raw.get("train") or {}).get("eval") if isinstance(raw, dict) else None
    if section is None:
        return None
    return eval_spec(section, where=str(recipe))


def eval_spec(value: EvalSpec | dict[str, Any] | None, where: str = "eval") -> EvalSpec | None:
    """`value` as an `EvalSpec` (a mapping is validated), or None.

    Raises:
        RecipeError: a mapping that is not a valid `train.eval`, each problem located.
    """
    if value is None or isinstance(value, EvalSpec):
        return value
    try:
        return EvalSpec.model_validate(value)
    except ValidationError as error:
        raise RecipeError(where, problems_of(error, "train.eval", EvalSpec)) from None


def resolve(
    model: str | os.PathLike | keras.Model, given: EvalSpec | dict[str, Any] | None
) -> EvalSpec | None:
    """The transform to evaluate `model` with: `given`, else its run's, else None (squash)."""
    return eval_spec(given, where="argument `eval_transform`") or run_eval_spec(model)


def with_tta(model: str | os.PathLike | keras.Model, tta: str | None) -> EvalSpec | None:
    """The evaluation transform `model` was trained with, its `tta` replaced when `tta` is given.

    For the command line's `--tta none|flip`: what test-time flips add is
    measured by evaluating one model both ways.
    """
    fit = run_eval_spec(model)
    if tta is None:
        return fit
    return (fit or EvalSpec()).model_copy(update={"tta": tta})


def predict_scores(model: keras.Model, inputs: tf.data.Dataset, fit: EvalSpec | None) -> np.ndarray:
    """The model's outputs on a dataset of image batches; `tta: flip` averages in the mirror's.

    The mirror is taken left-right on the batch's width axis, before the
    model's own preprocessing (which works pixel by pixel, so the order does
    not matter). The outputs averaged are the model's (its softmax).
    """
    scores = model.predict(inputs, verbose=0)
    if fit is None or fit.tta == "none":
        return scores
    mirrored = model.predict(inputs.map(lambda images: tf.reverse(images, axis=[2])), verbose=0)
    return (scores + mirrored) / 2.0
