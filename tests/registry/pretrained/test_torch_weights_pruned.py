"""timm's pruned ECA-ResNets: their checkpoints load into the recipes exactly.

Each network's random state dict comes from torch_reference_pruned.py, made
from the shapes of timm's own pruning files (its keys, shapes and logits
were checked once against timm 1.0.31 itself: equal); its forward pass uses
torch.nn.functional only. Logits are compared within 1e-5 relative, from
a .pth and a .safetensors file. Their layers are ecaresnet50d's, which
`make test` loads already, so both run in `make test-slow`.
"""

import pytest
import torch_reference_pruned as reference
from loading import check_timm_network, logits_model, save_safetensors

from registry import WeightsError, load_weights


@pytest.mark.slow
@pytest.mark.parametrize("name", list(reference.SPECS))
def test_checkpoint_gives_the_timm_networks_outputs(name, tmp_path, monkeypatch):
    check_timm_network(reference, name, tmp_path, monkeypatch)


@pytest.mark.slow
def test_the_unpruned_networks_file_does_not_load(tmp_path):
    # ecaresnet50d's layers are the pruned network's, wider: refused by shape, nothing loaded.
    import torch_reference_attn

    state = torch_reference_attn.state_dict("ecaresnet50d")
    model = logits_model("ecaresnet50d_pruned")
    with pytest.raises(WeightsError, match=r"layer1\.0\.conv1\.weight"):
        load_weights(model, save_safetensors(state, tmp_path / "unpruned.safetensors"))
