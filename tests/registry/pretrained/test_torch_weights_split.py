"""timm's Res2Net, ResNeSt and Selective Kernel checkpoints load into their recipes exactly.

Each network's random state dict comes from torch_reference_split.py,
written from timm's layouts without our code; its forward pass there uses
torch.nn.functional only. The logits must agree within 1e-5 of the
largest, from a `.pth` file (where PyTorch is installed) and from a
`.safetensors` file (always, against the stored outputs). One network of
each layout runs in `make test` (helpers.representatives), the others,
the same keys at more indices or wider tensors, in `make test-slow`.
"""

import sys

import keras
import numpy as np
import pytest
import torch_reference as plain
import torch_reference_split as reference
from helpers import representative_params
from test_torch_weights import logits_model, save_pth, save_safetensors

try:
    import torch
except ImportError:  # the .safetensors half still runs, against the stored outputs
    torch = None

STORED = dict(np.load(reference.DATA))
RELATIVE = 1e-5  # of the largest logit


def assert_close(actual, expected) -> None:
    scale = max(1.0, float(np.abs(expected).max()))
    assert float(np.abs(actual - expected).max()) <= RELATIVE * scale


def forward(model, x) -> np.ndarray:
    return keras.ops.convert_to_numpy(model(x, training=False))


@pytest.mark.parametrize("name", representative_params(list(reference.SPECS)))
def test_checkpoint_gives_timms_outputs(name, tmp_path, monkeypatch):
    state = reference.state_dict(name)
    x = plain.images()
    expected = STORED[name]
    if torch is not None:
        # The stored outputs are the reference's (torch_reference_split.py rewrites them).
        assert_close(reference.forward(state, x, name), expected)
        model = logits_model(name, weights=save_pth(state, tmp_path / f"{name}.pth"))
        assert_close(forward(model, x), expected)
        del model
    monkeypatch.setitem(sys.modules, "torch", None)
    model = logits_model(name, weights=save_safetensors(state, tmp_path / f"{name}.safetensors"))
    assert_close(forward(model, x), expected)
