"""timm's pruned ECA-ResNets, written independently of resblocks, for the weights tests.

As torch_reference_attn.py, for `ecaresnet50d_pruned` and
`ecaresnet101d_pruned`, whose every convolution and batch norm has the
shape timm's pruning file lists (`models/_pruned/NAME.txt`, read by timm's
`adapt_model_from_file`). Those shapes are stored in
data/timm_pruned_shapes.json, keyed as timm's state dict (written from
timm's files by tests/registry/recipe/timm_pruned_recipes.py, never from
the recipes). `state_dict(name)` fills them with random weights;
`forward(state, x, name)` runs them with `torch.nn.functional` as timm's
`models/resnet.py` does (a ResNet-D with ECA), each layer's width read off
its weights. Neither reads our code.

    python tests/registry/pretrained/torch_reference_pruned.py [NAME ...]  # rewrites its .npz
"""

import json
import re
import sys
from pathlib import Path

import numpy as np
from reference_parts import LAST, SEED, SIDE, Functional, RandomWeights, images, write_outputs

__all__ = ["DATA", "SIDE", "SPECS", "forward", "images", "state_dict"]

DATA = Path(__file__).parent / "data" / "torch_reference_pruned.npz"
SHAPES = json.loads(
    (Path(__file__).parent / "data" / "timm_pruned_shapes.json").read_text(encoding="utf-8")
)
SPECS = {name: shapes for name, shapes in SHAPES.items() if name != "timm"}
NORMS = re.compile(r"(.*\.bn\d|bn1|conv1\.[14]|.*\.downsample\.2)\.weight")


def state_dict(name: str, seed: int = SEED) -> dict[str, np.ndarray]:
    """Random weights of the listed shapes under timm's keys, norms with their statistics."""
    w = RandomWeights(seed)
    for key, shape in SPECS[name].items():
        module = key.removesuffix(".weight")
        if NORMS.fullmatch(key):  # a branch's last norm keeps the sum small, as in the others
            w.norm(module, shape[0], LAST if module.endswith(".bn3") else None)
        elif key == "fc.weight":
            w.linear("fc", *shape)
        else:  # a Conv2d, or ECA's Conv1d (1, 1, k)
            w.conv(module, shape[0], shape[1], shape[2:])
    return w.state_dict()


def layers(state: dict[str, np.ndarray]) -> tuple[int, ...]:
    """Blocks per stage, read off the keys (`layer3.5.conv1.weight`: stage 3 has 6 or more)."""
    blocks: dict[int, int] = {}
    for key in state:
        found = re.match(r"layer(\d)\.(\d+)\.", key)
        if found:
            stage, block = int(found[1]), int(found[2])
            blocks[stage] = max(blocks.get(stage, 0), block + 1)
    return tuple(blocks[stage] for stage in sorted(blocks))


def forward(state: dict[str, np.ndarray], x_nhwc: np.ndarray, name: str) -> np.ndarray:
    """The network's logits, computed by torch.nn.functional as timm computes them."""
    import torch

    fn = Functional(state)
    F = fn.F

    def eca(out, p):  # EcaModule: the mean, a Conv1d across channels, a sigmoid gate
        weight = fn[f"{p}.se.conv.weight"]
        y = out.mean((2, 3)).view(out.shape[0], 1, -1)
        y = F.conv1d(y, weight, padding=(weight.shape[-1] - 1) // 2)
        return out * torch.sigmoid(y).view(out.shape[0], -1, 1, 1)

    with torch.no_grad():
        x = F.max_pool2d(fn.resnet_stem(fn.input(x_nhwc), deep=True), 3, 2, 1)
        x = fn.resnet_layers(x, layers(state), bottleneck=True, attention=eca)
        return fn.logits(x)


if __name__ == "__main__":
    sys.exit(
        write_outputs(
            DATA, lambda name: forward(state_dict(name), images(), name), sys.argv[1:] or SPECS
        )
    )
