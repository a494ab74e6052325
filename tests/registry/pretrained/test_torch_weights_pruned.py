"""timm's pruned ECA-ResNets: their checkpoints load into the recipes exactly.

Each network's random state dict comes from torch_reference_pruned.py, made
from the shapes of timm's own pruning files (its keys, shapes and logits
were checked once against timm 1.0.31 itself: equal); its forward pass uses
torch.nn.functional only. Logits are compared within 1e-5 relative, from
a .pth and a .safetensors file. Their layers are ecaresnet50d's, which
`make test` loads already, so both run in `make test-slow`.
"""

from functools import partial

import numpy as np
import pytest
import torch_reference_pruned as reference
from loading import assert_relatively_close, check_network, logits_model, save_safetensors

from registry import WeightsError, load_weights

STORED = dict(np.load(reference.DATA))


@pytest.mark.slow
@pytest.mark.parametrize("name", list(reference.SPECS))
def test_checkpoint_gives_the_timm_networks_outputs(name, tmp_path, monkeypatch):
    check_network(
        reference,
        name,
        STORED[name],
        partial(assert_relatively_close, rtol=1e-5),
        tmp_path,
        monkeypatch,
        # The stored outputs are the reference's (torch_reference_pruned.py rewrites them).
        reference_close=partial(np.testing.assert_allclose, atol=1e-5),
    )


@pytest.mark.slow
def test_the_unpruned_networks_file_does_not_load(tmp_path):
    # ecaresnet50d's layers are the pruned network's, wider: refused by shape, nothing loaded.
    import torch_reference_attn

    state = torch_reference_attn.state_dict("ecaresnet50d")
    model = logits_model("ecaresnet50d_pruned")
    with pytest.raises(WeightsError, match=r"layer1\.0\.conv1\.weight"):
        load_weights(model, save_safetensors(state, tmp_path / "unpruned.safetensors"))
