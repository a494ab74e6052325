"""What the PyTorch-checkpoint loading tests share: the files, the models, and the check itself.

Each `test_*_weights.py` takes a random state dict from its reference
(`torch_reference*.py`, `facenet_reference.py`), writes it as a `.pth`
file (where PyTorch is installed) and a `.safetensors` file, loads each
into a recipe-built network and compares its outputs with the reference's:
`check_checkpoint` (`check_network` for the references of named ResNets,
`check_timm_network` where the reference stores timm's networks' logits).
Without PyTorch only the `.safetensors` half runs, against the outputs
stored in data/.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path

import keras
import numpy as np
from reference_parts import SIDE
from safetensors.numpy import save_file

from registry import build, load_weights

try:
    import torch
except ImportError:  # each check's .safetensors half still runs, against stored outputs
    torch = None

LOGITS = {"head.activation": None}  # the head's softmax off: logits are compared


def save_pth(state: dict, path: Path) -> Path:
    """`state` as PyTorch's `torch.save` writes a state dict."""
    torch.save({k: torch.from_numpy(np.asarray(v)) for k, v in state.items()}, path)
    return path


def save_safetensors(state: dict, path: Path) -> Path:
    save_file({k: np.ascontiguousarray(v) for k, v in state.items()}, str(path))
    return path


def logits_model(name: str, **kwargs) -> keras.Model:
    """The recipe `name` without its softmax, at SIDExSIDE unless `input_shape` says otherwise."""
    shape = kwargs.pop("input_shape", (SIDE, SIDE, 3))
    return build(name, input_shape=shape, overrides=LOGITS, **kwargs)


def outputs(model: keras.Model, x: np.ndarray) -> np.ndarray:
    """The model's outputs in inference mode, as numpy."""
    return keras.ops.convert_to_numpy(model(x, training=False))


def zeroed(model: keras.Model) -> keras.Model:
    """The model with every weight set to zero: what loads next cannot be left over."""
    for weight in model.weights:
        weight.assign(np.zeros(weight.shape, weight.dtype))
    return model


def into_zeroed(model: keras.Model) -> Callable[[Path], keras.Model]:
    """A `load` for check_checkpoint: each file's weights into `model`, zeroed first."""

    def load(path: Path) -> keras.Model:
        load_weights(zeroed(model), path)
        return model

    return load


def assert_relatively_close(
    actual: np.ndarray, expected: np.ndarray, relative: float = 1e-5, *, rtol=0.0, floor=0.0
) -> None:
    """Within `relative` of the largest expected magnitude (at least `floor`), plus `rtol`."""
    scale = max(floor, float(np.abs(expected).max()))
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=relative * scale)


Close = Callable[[np.ndarray, np.ndarray], None]


def check_checkpoint(
    load: Callable[[Path], keras.Model],
    state: dict[str, np.ndarray],
    x: np.ndarray,
    expected: np.ndarray,
    close: Close,
    tmp_path: Path,
    monkeypatch,
    *,
    reference: Callable[[], np.ndarray] | None = None,
    reference_close: Close | None = None,
    pth_suffix: str = ".pth",
) -> keras.Model:
    """A checkpoint of `state` gives `expected` from `x`, from a .pth and a .safetensors file.

    Args:
        load: the model with a file's weights (built with `weights=`, or
            loaded into a zeroed model).
        close: asserts the model's outputs match `expected`.
        reference: where PyTorch is installed, the reference's own outputs,
            asserted to match the stored `expected` with `reference_close`
            (`close` if none): the stored outputs are still the reference's.
        pth_suffix: the PyTorch file's suffix (`.pth`, `.pt`).

    The .safetensors half runs with `torch` unimportable, as where it is
    not installed. Returns the model loaded from the .safetensors file.
    """
    if torch is not None:
        if reference is not None:
            (reference_close or close)(reference(), expected)
        close(outputs(load(save_pth(state, tmp_path / f"checkpoint{pth_suffix}")), x), expected)
    monkeypatch.setitem(sys.modules, "torch", None)
    model = load(save_safetensors(state, tmp_path / "checkpoint.safetensors"))
    close(outputs(model, x), expected)
    return model


def check_network(
    reference, name: str, expected: np.ndarray, close: Close, tmp_path: Path, monkeypatch, **kwargs
) -> keras.Model:
    """check_checkpoint for the recipe `name`, with the state dict and forward pass of `reference`.

    `reference`: a module with `state_dict(name)`, `images()` and
    `forward(state, x, name)` (torch_reference*.py). `kwargs` go to
    check_checkpoint (`reference_close`).
    """
    state, x = reference.state_dict(name), reference.images()
    return check_checkpoint(
        lambda path: logits_model(name, weights=path),
        state,
        x,
        expected,
        close,
        tmp_path,
        monkeypatch,
        reference=lambda: reference.forward(state, x, name),
        **kwargs,
    )


def check_timm_network(reference, name: str, tmp_path: Path, monkeypatch) -> keras.Model:
    """check_network against the logits `reference` stores for `name` (its DATA file).

    Ours within 1e-5 of the largest logit (plus 1e-5 relative); the
    reference's own forward pass within 1e-5 of what it stored when it
    rewrote the file.
    """
    return check_network(
        reference,
        name,
        np.load(reference.DATA)[name],
        partial(assert_relatively_close, rtol=1e-5),
        tmp_path,
        monkeypatch,
        reference_close=partial(np.testing.assert_allclose, atol=1e-5),
    )
