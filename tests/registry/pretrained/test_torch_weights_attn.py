"""timm's ECA and anti-aliased ResNets: their checkpoints load into the recipes exactly.

Each network's random state dict comes from torch_reference_attn.py, written
from timm's layouts without our code (its keys, shapes and logits were
checked once against timm 1.0.31 itself); its forward pass uses
torch.nn.functional only. Logits are compared within 1e-5 relative, from
a .pth and a .safetensors file. One network of each layout runs in `make
test`, the others in `make test-slow`.
"""

import numpy as np
import pytest
import torch_reference_attn as reference
from helpers import representatives
from loading import check_timm_network, logits_model, save_safetensors

from registry import WeightsError, load_weights


def new_layout_params(names: list[str]) -> list:
    """`names` as params, in `make test` only those that represent a layout no other recipe has.

    The representatives of all shipped recipes, so a network whose layout
    an older recipe already loads in `make test` (resnetaa50 is
    resnet50_tv's layers with Keras' own pools) runs in `make test-slow`.
    """
    shown = set(representatives()) & set(names)
    return [pytest.param(n, id=n, marks=[] if n in shown else [pytest.mark.slow]) for n in names]


@pytest.mark.parametrize("name", new_layout_params(list(reference.SPECS)))
def test_checkpoint_gives_the_timm_networks_outputs(name, tmp_path, monkeypatch):
    check_timm_network(reference, name, tmp_path, monkeypatch)


def test_an_se_file_does_not_load_into_an_eca_network(tmp_path):
    # Same stages, SE's fc1/fc2 where ECA has one conv: refused, by key.
    state = reference.state_dict("ecaresnet26t")
    state = {k: v for k, v in state.items() if ".se.conv." not in k}
    state["layer1.0.se.fc1.weight"] = np.zeros((16, 256, 1, 1), "float32")
    model = logits_model("ecaresnet26t")
    with pytest.raises(WeightsError, match=r"missing from the file: layer1\.0\.se\.conv\.weight"):
        load_weights(model, save_safetensors(state, tmp_path / "se.safetensors"))
