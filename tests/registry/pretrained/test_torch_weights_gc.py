"""timm's gcresnet50t (byobnet.py) checkpoints load into the recipe exactly.

The random state dict (BN statistics randomised) comes from
torch_reference_gc.py, written from timm's byobnet.py and
global_context.py without our code (its keys, shapes and logits were
checked once against timm 1.0.31 itself); its forward pass uses
torch.nn.functional only. Logits are compared within 1e-5 of the largest,
from a .pth and a .safetensors file loaded into one zeroed model. `make
test` loads the network with one block per stage (every key of the layout);
the whole network runs in `make test-slow`.
"""

import numpy as np
import pytest
import torch_reference_gc as reference
from loading import (
    LOGITS,
    assert_relatively_close,
    check_checkpoint,
    into_zeroed,
    logits_model,
    save_safetensors,
)

from registry import WeightsError, build, load_weights, torch_state_dict

STORED = dict(np.load(reference.DATA))
NAME = "gcresnet50t"
SHAPE = (reference.SIDE, reference.SIDE, 3)
SHORT = {f"stages.{i}.repeats": 1 for i in range(4)}


def check(model, name, tmp_path, monkeypatch):
    state, x = reference.state_dict(name), reference.images()
    check_checkpoint(
        into_zeroed(model),
        state,
        x,
        STORED[name],
        assert_relatively_close,
        tmp_path,
        monkeypatch,
        reference=lambda: reference.forward(state, x, name),
        reference_close=lambda got, stored: np.testing.assert_allclose(got, stored, atol=1e-5),
    )


def test_a_checkpoint_gives_timms_logits(tmp_path, monkeypatch):
    model = build(NAME, input_shape=SHAPE, overrides={**SHORT, **LOGITS})
    check(model, reference.SHORT, tmp_path, monkeypatch)
    # Our weights under timm's keys are the file's: the layout is a bijection.
    state = reference.state_dict(reference.SHORT)
    ours = torch_state_dict(model)
    assert ours.keys() == {k for k in state if not k.endswith("num_batches_tracked")}
    assert all(np.array_equal(ours[k], state[k]) for k in ours)


@pytest.mark.slow
def test_the_whole_network_gives_timms_logits(tmp_path, monkeypatch):
    check(logits_model(NAME), NAME, tmp_path, monkeypatch)


def test_a_byobnet_file_in_another_recipe_is_refused_naming_its_layout(tmp_path):
    path = save_safetensors(reference.state_dict(reference.SHORT), tmp_path / "gc.safetensors")
    model = build("resnet14t", input_shape=SHAPE)
    with pytest.raises(WeightsError, match=r"looks like timm's byobnet layout \(byobnet\.py\)"):
        load_weights(model, path)
    full = save_safetensors(
        {k: np.zeros(v.shape, v.dtype) for k, v in reference.state_dict(NAME).items()},
        tmp_path / "full.safetensors",
    )
    with pytest.raises(WeightsError, match=r"byobnet layout \(byobnet\.py\), recipe gcresnet50t"):
        load_weights(model, full)
