"""timm checkpoints of more ResNet variants load into their recipes, exactly.

Each network's random state dict (BN statistics randomised) comes from
torch_reference_variants.py, written from timm's `models/resnet.py` without
our code; its torch.nn.functional forward pass gives the logits ours must
give, within 1e-5 of the largest logit. One network of each layout runs in
`make test` (helpers.representative_params), and ResNet-RS-50 for its stem
pool convolution, whose keys no other layout has; the rest, the same keys
at more indices or wider tensors, in `make test-slow`.
"""

import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import torch_reference_variants as reference
from helpers import representative_params
from safetensors.numpy import save_file
from torch_reference import SIDE, images

from registry import build, torch_state_dict

try:
    import torch
except ImportError:  # the .safetensors half still runs, against the stored outputs
    torch = None

# The reference's logits, for where PyTorch is not installed: the `make test` ones at least.
STORED = dict(np.load(reference.DATA)) if reference.DATA.is_file() else {}
RELATIVE = 1e-5
# Keys of their own, whatever their blocks' layout: the pool convolution of ResNet-RS's stem.
OWN_KEYS = {"resnetrs50"}


def params() -> list:
    names = list(reference.SPECS)
    found = representative_params(names)
    return [pytest.param(p.values[0], id=p.id) if p.values[0] in OWN_KEYS else p for p in found]


def logits_model(name: str, weights: Path) -> keras.Model:
    return build(
        name, input_shape=(SIDE, SIDE, 3), overrides={"head.activation": None}, weights=weights
    )


def assert_relatively_close(ours: np.ndarray, expected: np.ndarray) -> None:
    error = np.abs(ours - expected).max() / np.abs(expected).max()
    assert error <= RELATIVE, f"logits differ by {error:.2e} of the largest"


def save_pth(state: dict, path: Path) -> Path:
    torch.save({k: torch.from_numpy(np.asarray(v)) for k, v in state.items()}, path)
    return path


def save_safetensors(state: dict, path: Path) -> Path:
    save_file({k: np.ascontiguousarray(v) for k, v in state.items()}, str(path))
    return path


@pytest.mark.parametrize("name", params())
def test_timm_checkpoint_gives_timms_logits(name, tmp_path, monkeypatch):
    state = reference.state_dict(name)
    x = images()
    if torch is not None:
        expected = reference.forward(state, x, name)
        if name in STORED:  # torch_reference_variants.py NAME stores them
            assert_relatively_close(STORED[name], expected)
        model = logits_model(name, save_pth(state, tmp_path / f"{name}.pth"))
        assert_relatively_close(keras.ops.convert_to_numpy(model(x, training=False)), expected)
        del model
    elif name in STORED:
        expected = STORED[name]
    else:
        pytest.skip(f"PyTorch is not installed and the outputs of {name} are not stored")
    monkeypatch.setitem(sys.modules, "torch", None)
    model = logits_model(name, save_safetensors(state, tmp_path / f"{name}.safetensors"))
    assert_relatively_close(keras.ops.convert_to_numpy(model(x, training=False)), expected)
    # And back: our weights under timm's keys, in timm's shapes.
    ours = torch_state_dict(model)
    assert {k: v.shape for k, v in ours.items()} == {
        k: v.shape for k, v in state.items() if not k.endswith("num_batches_tracked")
    }
