"""A recipe's training pipeline in readable lines: what `resblocks show RECIPE --train` prints.

One line per key of the `train:` section, labelled with the key, in the
order the pipeline runs (data, augmentation, optimizer, schedule, loss,
evaluation, then the machinery), every value filled in with its default
where the recipe says nothing. Keys with a known meaning get words (the
weight decay's kind, the warm-up, the crop); any other key, such as one
added to `TrainSpec` later, is printed from its pydantic model: the
non-default fields of a section, in their declared order. So nothing the
recipe sets is left out.

Pure: reads the validated spec, builds nothing, imports no Keras.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from registry.recipe.train_spec import TrainSpec
from registry.recipe.validate import Recipe

# Keys in pipeline order; a key not listed follows, in TrainSpec's own order.
ORDER = (
    "image_size",
    "val_split",
    "seed",
    "skip_bad_images",
    "augment",
    "batch_size",
    "epochs",
    "optimizer",
    "weight_decay_on_norm_and_bias",
    "global_clipnorm",
    "gradient_accumulation",
    "schedule",
    "ema",
    "loss",
    "label_smoothing",
    "class_weight",
    "early_stopping",
    "eval",
    "weights",
    "freeze",
    "mixed_precision",
    "xla",
)

_DECAY = {
    "sgd": "coupled L2: weight_decay * w added to the gradient before momentum (torch.optim.SGD)",
    "adam": "coupled L2: weight_decay * w added to the gradient (torch.optim.Adam)",
    "rmsprop": "coupled L2: weight_decay * w added to the gradient (torch.optim.RMSprop)",
    "adamw": "decoupled: w -= learning_rate * weight_decay * w each step (AdamW)",
    "lamb": "decoupled, inside LAMB's per-layer trust ratio (timm's Lamb)",
}
_ADAMW_DECAY = 0.004  # Keras' AdamW default, as registry.training.optim uses


def train_lines(recipe: Recipe) -> list[str]:
    """The training pipeline of `recipe`, one line per `train:` key, under a header line."""
    spec = recipe.train if recipe.train is not None else TrainSpec()
    given = recipe.train.model_fields_set if recipe.train is not None else set()
    hw = spec.image_hw or tuple(recipe.input_shape[:2])
    if recipe.train is None:
        header = f"training of {recipe.name}: no train: section, so every setting is the default"
    else:
        header = f"training of {recipe.name} (* set by the recipe, the rest defaults)"
    keys = [key for key in ORDER if key in type(spec).model_fields]
    keys += [key for key in type(spec).model_fields if key not in keys]
    width = max(len(key) for key in keys) + 2
    lines = [header]
    for key in keys:
        value = getattr(spec, key)
        words = _KNOWN[key](spec, hw) if key in _KNOWN else describe(value)
        mark = "*" if key in given else " "
        lines.append(f" {mark}{key:<{width}}{words}")
    return lines


def describe(value: Any) -> str:
    """Any setting in words: a section by its non-default fields (`name k=v, ...`), in order."""
    if isinstance(value, BaseModel):
        fields = type(value).model_fields
        changed = [
            (name, getattr(value, name))
            for name, field in fields.items()
            if name == "name"
            or getattr(value, name) != field.get_default(call_default_factory=True)
        ]
        if not changed:
            return "none (every field at its default)"
        parts = []
        for name, item in changed:
            if name == "name":
                parts.append(str(item))
            elif item is True:
                parts.append(name)
            else:
                parts.append(f"{name} {describe(item)}")
        return ", ".join(parts)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(describe(item) for item in value) + "]" if value else "none"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {describe(v)}" for k, v in value.items()) if value else "none"
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _image_size(spec: TrainSpec, hw: tuple) -> str:
    if hw[0] is None or hw[1] is None:
        return "the recipe takes any size: give train.image_size or --image-size"
    where = "train.image_size" if spec.image_size is not None else "the recipe's input_shape"
    return f"{hw[0]}x{hw[1]} ({where}); training images are resized whole to it"


def _val_split(spec: TrainSpec, hw: tuple) -> str:
    return f"{spec.val_split:g} of each class held out for validation when no --val is given"


def _augment(spec: TrainSpec, hw: tuple) -> str:
    words = describe(spec.augment)
    if words.startswith("none"):
        return "none"
    return f"{words} (applied in this order, on each training batch)"


def _batch_size(spec: TrainSpec, hw: tuple) -> str:
    return f"{spec.batch_size} images per step, over all devices together"


def _optimizer(spec: TrainSpec, hw: tuple) -> str:
    optimizer = spec.optimizer
    words = describe(optimizer)
    if f"learning_rate {optimizer.learning_rate:g}" not in words:
        words += f", learning_rate {optimizer.learning_rate:g}"
    decay = optimizer.weight_decay
    if decay is None:
        decay = _ADAMW_DECAY if optimizer.name == "adamw" else 0.0
    words = ", ".join(part for part in words.split(", ") if not part.startswith("weight_decay "))
    return f"{words}; weight decay {decay:g}, {_DECAY[optimizer.name]}"


def _schedule(spec: TrainSpec, hw: tuple) -> str:
    schedule = spec.schedule
    if schedule.name == "constant":
        words = "constant learning rate"
    elif schedule.name == "cosine":
        words = f"cosine decay to {schedule.final_fraction:g} x the rate at the last epoch"
    else:
        steps = ", ".join(str(m) for m in schedule.milestones)
        words = f"step: the rate x {schedule.factor:g} after epochs {steps}"
    warmup = getattr(schedule, "warmup_epochs", 0)
    return words + (f", after {warmup} epochs of linear warm-up from 0" if warmup else "")


def _ema(spec: TrainSpec, hw: tuple) -> str:
    if spec.ema is None:
        return "none"
    return (
        f"{spec.ema:g} per optimizer step, of the weights and BN's statistics; "
        "validation and model.keras use the average"
    )


def _loss(spec: TrainSpec, hw: tuple) -> str:
    if spec.loss == "bce":
        return "bce: binary cross-entropy over one-hot targets, sigmoid scores"
    return "categorical: softmax cross-entropy"


def _label_smoothing(spec: TrainSpec, hw: tuple) -> str:
    if not spec.label_smoothing:
        return "0 (one-hot targets)"
    return f"{spec.label_smoothing:g} (targets smoothed towards 1/classes)"


def _norm_and_bias(spec: TrainSpec, hw: tuple) -> str:
    if spec.weight_decay_on_norm_and_bias:
        return "true: BN's gamma and beta and every bias are decayed too"
    return "false: BN's gamma and beta and the biases are not decayed (timm's filter_bias_and_bn)"


def _eval(spec: TrainSpec, hw: tuple) -> str:
    return spec.eval.describe(hw if hw[0] is not None and hw[1] is not None else None)


_KNOWN: dict[str, Callable[[TrainSpec, tuple], str]] = {
    "image_size": _image_size,
    "val_split": _val_split,
    "augment": _augment,
    "batch_size": _batch_size,
    "optimizer": _optimizer,
    "schedule": _schedule,
    "ema": _ema,
    "loss": _loss,
    "label_smoothing": _label_smoothing,
    "eval": _eval,
    "weight_decay_on_norm_and_bias": _norm_and_bias,
}
