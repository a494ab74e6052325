"""timm's gcresnet50t (byobnet.py), written independently of resblocks, for the weights tests.

As torch_reference.py, for timm's `ByobNet` of `model_cfgs["gcresnet50t"]`:
bottleneck blocks (`BottleneckBlock`: `conv1_1x1`, `conv2_kxk` strided,
`attn`, `conv3_1x1`, a `ConvNormAct` 1x1 `shortcut` where the shape
changes), the tiered stem without a pool (`Stem`: 24, 32, 64, its first and
last conv strided) and `attn_layer="gca"`: `layers/global_context.py`'s
`GlobalContext(fuse_add=True, fuse_scale=False)`, its `mlp_add` a `ConvMlp`
with a `LayerNorm2d` (eps 1e-6) and rd_ratio 1/8. `state_dict(name)` makes
random weights with timm's keys and shapes; `forward(state, x, name)` runs
them with `torch.nn.functional` only, as timm's modules do. `SHORT` is the
network with one block per stage (every key of the layout, at a fraction
of the cost). Neither reads our code.

    python tests/registry/pretrained/torch_reference_gc.py  # rewrites its .npz
"""

import sys
from pathlib import Path

import numpy as np
from reference_parts import LAST, SEED, SIDE, Functional, RandomWeights, images, write_outputs

__all__ = ["DATA", "SHORT", "SIDE", "SPECS", "forward", "images", "state_dict"]

DATA = Path(__file__).parent / "data" / "torch_reference_gc.npz"
# Blocks per stage, timm's ByoBlockCfg d=(3, 4, 6, 3); "short": one each.
SPECS = {"gcresnet50t": (3, 4, 6, 3), "short": (1, 1, 1, 1)}
SHORT = "short"
WIDTHS = (256, 512, 1024, 2048)  # ByoBlockCfg c; the 3x3's width is c * br, br = 0.25
STEM = (24, 32, 64)  # create_byob_stem("tiered"): (3 * 64 // 8, 64 // 2, 64)


def state_dict(name: str, num_classes: int = 1000, seed: int = SEED) -> dict[str, np.ndarray]:
    """Random weights in timm's layout, num_batches_tracked buffers included."""
    w = RandomWeights(seed)

    def conv_norm_act(key, out, cin, kernel, gamma=None):
        w.conv(f"{key}.conv", out, cin, kernel)
        w.norm(f"{key}.bn", out, gamma)

    cin = 3
    for i, out in enumerate(STEM, start=1):
        conv_norm_act(f"stem.conv{i}", out, cin, 3)
        cin = out
    for i, (blocks, out) in enumerate(zip(SPECS[name], WIDTHS)):
        mid = out // 4
        for j in range(blocks):
            p = f"stages.{i}.{j}"
            if j == 0:  # in_chs != out_chs or stride != 1: create_shortcut("conv1x1")
                conv_norm_act(f"{p}.shortcut", out, cin, 1)
            conv_norm_act(f"{p}.conv1_1x1", mid, cin, 1)
            conv_norm_act(f"{p}.conv2_kxk", mid, mid, 3)
            rd = mid // 8  # make_divisible(mid / 8, 1, round_limit=0.)
            w.conv(f"{p}.attn.conv_attn", 1, mid, 1, bias=True)
            w.conv(f"{p}.attn.mlp_add.fc1", rd, mid, 1, bias=True)
            w.norm(f"{p}.attn.mlp_add.norm", rd, (0.5, 1.5), statistics=False)
            w.conv(f"{p}.attn.mlp_add.fc2", mid, rd, 1, bias=True, gain=0.5)
            conv_norm_act(f"{p}.conv3_1x1", out, mid, 1, LAST)
            cin = out
    w.linear("head.fc", num_classes, cin)
    return w.state_dict()


def forward(state: dict[str, np.ndarray], x_nhwc: np.ndarray, name: str) -> np.ndarray:
    """The network's logits, computed by torch.nn.functional as timm computes them."""
    import torch

    fn = Functional(state)
    F = fn.F

    def conv_norm_act(x, key, stride=1, padding=0, relu=True):
        return fn.conv_bn(x, f"{key}.conv", f"{key}.bn", stride, padding, relu=relu)

    def global_context(x, key):  # GlobalContext.forward, fuse_add only
        b, c, h, w = x.shape
        attn = F.softmax(fn.conv(x, f"{key}.conv_attn").reshape(b, 1, h * w), dim=-1)
        context = (x.reshape(b, c, h * w).unsqueeze(1) @ attn.unsqueeze(3)).view(b, c, 1, 1)
        y = fn.conv(context, f"{key}.mlp_add.fc1")
        norm = f"{key}.mlp_add.norm"
        y = F.layer_norm(
            y.permute(0, 2, 3, 1), (y.shape[1],), fn[f"{norm}.weight"], fn[f"{norm}.bias"], 1e-6
        )
        y = fn.conv(F.relu(y.permute(0, 3, 1, 2)), f"{key}.mlp_add.fc2")
        return x + y

    with torch.no_grad():
        x = fn.input(x_nhwc)
        for i, stride in zip((1, 2, 3), (2, 1, 2)):  # Stem: no pool, so its last conv strides
            x = conv_norm_act(x, f"stem.conv{i}", stride, 1)
        for i, blocks in enumerate(SPECS[name]):
            for j in range(blocks):
                p, stride = f"stages.{i}.{j}", 2 if i > 0 and j == 0 else 1
                shortcut = x
                if f"{p}.shortcut.conv.weight" in fn:
                    shortcut = conv_norm_act(x, f"{p}.shortcut", stride, relu=False)
                out = conv_norm_act(x, f"{p}.conv1_1x1")
                out = conv_norm_act(out, f"{p}.conv2_kxk", stride, 1)
                out = global_context(out, f"{p}.attn")
                out = conv_norm_act(out, f"{p}.conv3_1x1", relu=False)
                x = F.relu(out + shortcut)
        return fn.logits(x, "head.fc")


if __name__ == "__main__":
    sys.exit(
        write_outputs(
            DATA, lambda name: forward(state_dict(name), images(), name), sys.argv[1:] or SPECS
        )
    )
