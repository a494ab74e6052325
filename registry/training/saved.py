"""A trained model read back: loaded safely, with its class names and input size.

Both come from the model itself (the head's `class_names`, the input
layer's shape), so `evaluate` and `predict` need only the `.keras` file.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import keras


def load_trained(model: str | os.PathLike | keras.Model) -> keras.Model:
    """The model itself, or the `.keras` file loaded with `safe_mode=True` (no optimizer)."""
    if isinstance(model, keras.Model):
        return model
    path = Path(model)
    if path.is_dir() and (path / "model.keras").is_file():
        path = path / "model.keras"  # a run folder stands for its best model
    if not path.is_file():
        raise FileNotFoundError(
            f"Model file not found: '{path}'. Give a .keras file (or a run folder "
            "holding model.keras) written by `resblocks train`."
        )
    if path.suffix != ".keras":
        raise ValueError(f"A model must be a .keras file. Received: '{path}'")
    return keras.saving.load_model(path, safe_mode=True, compile=False)


def class_names(model: keras.Model) -> list[str]:
    """The labels of the model's outputs: the head's `class_names`, else "0", "1", ..."""
    try:
        head = model.get_layer("head")
    except ValueError:
        head = None
    names = getattr(head, "class_names", None)
    if names:
        return list(names)
    return [str(i) for i in range(int(model.output_shape[-1]))]


def image_size(model: keras.Model, given: int | Sequence[int] | None = None) -> tuple[int, int]:
    """(height, width) the model takes: `given` if set, else its input shape.

    Raises:
        ValueError: the model takes any size and none was given.
    """
    if given is not None:
        return (given, given) if isinstance(given, int) else (int(given[0]), int(given[1]))
    height, width = model.input_shape[1:3]
    if height is None or width is None:
        raise ValueError(
            f"The model '{model.name}' takes images of any size; say which with --image-size N."
        )
    return (int(height), int(width))
