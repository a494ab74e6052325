"""timm's Res2Net, ResNeSt and Selective Kernel checkpoints load into their recipes exactly.

Each network's random state dict comes from torch_reference_split.py,
written from timm's layouts without our code; its forward pass there uses
torch.nn.functional only. The logits must agree within 1e-5 of the
largest, from a `.pth` file (where PyTorch is installed) and from a
`.safetensors` file (always, against the stored outputs). One network of
each layout runs in `make test` (helpers.representatives), the others,
the same keys at more indices or wider tensors, in `make test-slow`.
"""

from functools import partial

import numpy as np
import pytest
import torch_reference_split as reference
from helpers import representative_params
from loading import assert_relatively_close, check_network

STORED = dict(np.load(reference.DATA))
# Within 1e-5 of the largest logit (of 1, where the logits are smaller).
assert_close = partial(assert_relatively_close, relative=1e-5, floor=1.0)


@pytest.mark.parametrize("name", representative_params(list(reference.SPECS)))
def test_checkpoint_gives_timms_outputs(name, tmp_path, monkeypatch):
    # The stored outputs are the reference's (torch_reference_split.py rewrites them).
    check_network(reference, name, STORED[name], assert_close, tmp_path, monkeypatch)
