"""timm checkpoints of more ResNet variants load into their recipes, exactly.

Each network's random state dict (BN statistics randomised) comes from
torch_reference_variants.py, written from timm's `models/resnet.py` without
our code; its torch.nn.functional forward pass gives the logits ours must
give, within 1e-5 of the largest logit. One network of each layout runs in
`make test` (helpers.representative_params), and ResNet-RS-50 for its stem
pool convolution, whose keys no other layout has; the rest, the same keys
at more indices or wider tensors, in `make test-slow`.
"""

import numpy as np
import pytest
import torch_reference_variants as reference
from helpers import representative_params
from loading import assert_relatively_close, check_checkpoint, logits_model, torch

from registry import torch_state_dict

# The reference's logits, for where PyTorch is not installed: the `make test` ones at least.
STORED = dict(np.load(reference.DATA)) if reference.DATA.is_file() else {}
# Keys of their own, whatever their blocks' layout: the pool convolution of ResNet-RS's stem.
OWN_KEYS = {"resnetrs50"}


def params() -> list:
    names = list(reference.SPECS)
    found = representative_params(names)
    return [pytest.param(p.values[0], id=p.id) if p.values[0] in OWN_KEYS else p for p in found]


@pytest.mark.parametrize("name", params())
def test_timm_checkpoint_gives_timms_logits(name, tmp_path, monkeypatch):
    state, x = reference.state_dict(name), reference.images()
    if torch is not None:
        expected = reference.forward(state, x, name)
        if name in STORED:  # torch_reference_variants.py NAME stores them
            assert_relatively_close(STORED[name], expected)
    elif name in STORED:
        expected = STORED[name]
    else:
        pytest.skip(f"PyTorch is not installed and the outputs of {name} are not stored")
    model = check_checkpoint(
        lambda path: logits_model(name, weights=path),
        state,
        x,
        expected,
        assert_relatively_close,
        tmp_path,
        monkeypatch,
    )
    # And back: our weights under timm's keys, in timm's shapes.
    ours = torch_state_dict(model)
    assert {k: v.shape for k, v in ours.items()} == {
        k: v.shape for k, v in state.items() if not k.endswith("num_batches_tracked")
    }
