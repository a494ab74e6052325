"""timm's Res2Net, ResNeSt and Selective Kernel ResNets, written independently of resblocks.

The networks whose 3x3 is split: Res2Net's hierarchy of groups
(timm/models/res2net.py `Bottle2neck`), ResNeSt's split attention
(models/resnest.py `ResNestBottleneck`, layers/split_attn.py `SplitAttn`)
and the selective kernel (models/sknet.py, layers/selective_kernel.py).
`state_dict(name)` makes random weights (BN statistics randomised) with
the keys and shapes timm gives each network; `forward(state, x, name)`
runs them with `torch.nn.functional` only, as those modules do. Neither
reads our code; reference_parts.py lends the pieces all the references share.

    python tests/registry/pretrained/torch_reference_split.py [NAME ...]

rewrites data/torch_reference_split.npz (all networks, or those named).

The stored outputs let the loading test run where PyTorch is not installed.
"""

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from reference_parts import (
    PLANES,
    SEED,
    SIDE,
    Functional,
    RandomWeights,
    images,
    make_divisible,
    write_outputs,
)

__all__ = ["DATA", "SIDE", "SPECS", "forward", "images", "state_dict"]

DATA = Path(__file__).parent / "data" / "torch_reference_split.npz"


@dataclass(frozen=True)
class Spec:
    """A timm `ResNet(block, layers, ...)` with one of the split blocks."""

    family: str  # "res2net", "resnest" or "sk"
    layers: tuple[int, int, int, int]
    deep_stem: bool = False
    stem_width: int = 32
    avg_down: bool = False
    cardinality: int = 1
    base_width: int = 64
    scale: int = 4  # res2net
    radix: int = 2  # resnest
    avd_first: bool = False  # resnest
    bottleneck: bool = True  # sk: SelectiveKernelBottleneck, else SelectiveKernelBasic
    rd_ratio: float = 1 / 16  # sk
    rd_divisor: int = 8  # sk
    split_input: bool = True  # sk


R50, R101 = (3, 4, 6, 3), (3, 4, 23, 3)
DEEP = {"deep_stem": True, "avg_down": True}
SPECS = {
    "res2net50_26w_4s": Spec("res2net", R50, base_width=26, scale=4),
    "res2net50_26w_6s": Spec("res2net", R50, base_width=26, scale=6),
    "res2net50_26w_8s": Spec("res2net", R50, base_width=26, scale=8),
    "res2net50_48w_2s": Spec("res2net", R50, base_width=48, scale=2),
    "res2net50_14w_8s": Spec("res2net", R50, base_width=14, scale=8),
    "res2net101_26w_4s": Spec("res2net", R101, base_width=26, scale=4),
    "res2next50": Spec("res2net", R50, base_width=4, cardinality=8, scale=4),
    "res2net50d": Spec("res2net", R50, base_width=26, scale=4, **DEEP),
    "res2net101d": Spec("res2net", R101, base_width=26, scale=4, **DEEP),
    "resnest14d": Spec("resnest", (1, 1, 1, 1), **DEEP),
    "resnest26d": Spec("resnest", (2, 2, 2, 2), **DEEP),
    "resnest50d": Spec("resnest", R50, **DEEP),
    "resnest101e": Spec("resnest", R101, stem_width=64, **DEEP),
    "resnest200e": Spec("resnest", (3, 24, 36, 3), stem_width=64, **DEEP),
    "resnest269e": Spec("resnest", (3, 30, 48, 8), stem_width=64, **DEEP),
    "resnest50d_4s2x40d": Spec(
        "resnest", R50, base_width=40, cardinality=2, radix=4, avd_first=True, **DEEP
    ),
    "resnest50d_1s4x24d": Spec(
        "resnest", R50, base_width=24, cardinality=4, radix=1, avd_first=True, **DEEP
    ),
    "skresnet18": Spec("sk", (2, 2, 2, 2), bottleneck=False, rd_ratio=1 / 8, rd_divisor=16),
    "skresnet34": Spec("sk", R50, bottleneck=False, rd_ratio=1 / 8, rd_divisor=16),
    "skresnet50": Spec("sk", R50),
    "skresnet50d": Spec("sk", R50, **DEEP),
    "skresnext50_32x4d": Spec(
        "sk", R50, cardinality=32, base_width=4, rd_divisor=32, split_input=False
    ),
}


def expansion(spec: Spec) -> int:
    return 1 if spec.family == "sk" and not spec.bottleneck else 4


def state_dict(name: str, num_classes: int = 1000, seed: int = SEED) -> dict:
    """Random weights in timm's layout of the network, num_batches_tracked buffers included."""
    spec = SPECS[name]
    w = RandomWeights(seed)
    conv, bn = w.conv, w.norm

    def selective_kernel(p, cin, out, groups):
        groups = min(out, groups)
        path_in = cin // 2 if spec.split_input else cin
        for i in range(2):
            conv(f"{p}.paths.{i}.conv", out, path_in // groups, 3)
            bn(f"{p}.paths.{i}.bn", out)
        attn = make_divisible(out * spec.rd_ratio, spec.rd_divisor)
        conv(f"{p}.attn.fc_reduce", attn, out, 1)
        bn(f"{p}.attn.bn", attn)
        conv(f"{p}.attn.fc_select", 2 * out, attn, 1)

    width = spec.stem_width
    inplanes = w.resnet_stem((width, width, 2 * width) if spec.deep_stem else None)
    card = spec.cardinality
    for i, (planes, blocks) in enumerate(zip(PLANES, spec.layers)):
        for j in range(blocks):
            p, stride = f"layer{i + 1}.{j}", 2 if i > 0 and j == 0 else 1
            out = planes * expansion(spec)
            if spec.family == "res2net":
                width = int(planes * spec.base_width / 64) * card
                conv(f"{p}.conv1", width * spec.scale, inplanes, 1)
                bn(f"{p}.bn1", width * spec.scale)
                for k in range(max(1, spec.scale - 1)):
                    conv(f"{p}.convs.{k}", width, width // card, 3)
                    bn(f"{p}.bns.{k}", width)
                conv(f"{p}.conv3", out, width * spec.scale, 1)
                bn(f"{p}.bn3", out, gamma=(0.1, 0.3))
            elif spec.family == "resnest":
                width, radix = int(planes * spec.base_width / 64) * card, spec.radix
                conv(f"{p}.conv1", width, inplanes, 1)
                bn(f"{p}.bn1", width)
                conv(f"{p}.conv2.conv", width * radix, width // (card * radix), 3)
                bn(f"{p}.conv2.bn0", width * radix)
                attn = make_divisible(width * radix * 0.25, 8, min_value=32)
                conv(f"{p}.conv2.fc1", attn, width // card, 1, bias=True)
                bn(f"{p}.conv2.bn1", attn)
                conv(f"{p}.conv2.fc2", width * radix, attn // card, 1, bias=True)
                conv(f"{p}.conv3", out, width, 1)
                bn(f"{p}.bn3", out, gamma=(0.1, 0.3))
            elif spec.bottleneck:
                width = int(planes * spec.base_width / 64) * card
                conv(f"{p}.conv1.conv", width, inplanes, 1)
                bn(f"{p}.conv1.bn", width)
                selective_kernel(f"{p}.conv2", width, width, card)
                conv(f"{p}.conv3.conv", out, width, 1)
                bn(f"{p}.conv3.bn", out, gamma=(0.1, 0.3))
            else:
                selective_kernel(f"{p}.conv1", inplanes, planes, 1)
                conv(f"{p}.conv2.conv", out, planes, 3)
                bn(f"{p}.conv2.bn", out, gamma=(0.1, 0.3))
            if j == 0 and (stride != 1 or inplanes != out):
                w.downsample(p, out, inplanes, spec.avg_down)
            inplanes = out
    w.linear("fc", num_classes, inplanes)
    return w.state_dict()


def forward(state: dict, x_nhwc: np.ndarray, name: str) -> np.ndarray:
    """The network's logits, computed by torch.nn.functional as timm computes them."""
    import torch
    import torch.nn.functional as F

    spec = SPECS[name]
    fn = Functional(state)
    conv, bn, groups_of = fn.conv, fn.bn, fn.groups

    def avg_pool_3x3(x, stride):  # nn.AvgPool2d(3, stride, padding=1): zeros counted
        return F.avg_pool2d(x, 3, stride, 1)

    def res2net(x, p, stride, first):
        out = F.relu(bn(conv(x, f"{p}.conv1"), f"{p}.bn1"))
        scale = spec.scale
        spx = torch.split(out, out.shape[1] // scale, 1)
        spo, sp = [], None
        for k in range(max(1, scale - 1)):
            sp = spx[k] if k == 0 or first else sp + spx[k]
            key = f"{p}.convs.{k}"
            sp = F.relu(bn(conv(sp, key, stride, 1, groups_of(sp, key)), f"{p}.bns.{k}"))
            spo.append(sp)
        if scale > 1:
            spo.append(avg_pool_3x3(spx[-1], stride) if first else spx[-1])
        return bn(conv(torch.cat(spo, 1), f"{p}.conv3"), f"{p}.bn3")

    def split_attn(x, p, stride):
        radix, card = spec.radix, spec.cardinality
        x = F.relu(bn(conv(x, f"{p}.conv", stride, 1, groups_of(x, f"{p}.conv")), f"{p}.bn0"))
        b, rc, h, w = x.shape
        if radix > 1:
            x = x.reshape(b, radix, rc // radix, h, w)
            gap = x.sum(1)
        else:
            gap = x
        gap = gap.mean((2, 3), keepdim=True)
        gap = F.relu(bn(conv(gap, f"{p}.fc1", groups=card), f"{p}.bn1"))
        attn = conv(gap, f"{p}.fc2", groups=card)
        if radix > 1:  # RadixSoftmax
            attn = attn.view(b, card, radix, -1).transpose(1, 2)
            attn = F.softmax(attn, dim=1).reshape(b, -1)
            return (x * attn.reshape(b, radix, rc // radix, 1, 1)).sum(1)
        return x * torch.sigmoid(attn).view(b, -1, 1, 1)

    def resnest(x, p, stride, _first):
        out = F.relu(bn(conv(x, f"{p}.conv1"), f"{p}.bn1"))
        avd = stride > 1  # timm moves the stride to a 3x3 average pool (avd)
        if avd and spec.avd_first:
            out = avg_pool_3x3(out, stride)
        out = split_attn(out, f"{p}.conv2", 1 if avd else stride)
        if avd and not spec.avd_first:
            out = avg_pool_3x3(out, stride)
        return bn(conv(out, f"{p}.conv3"), f"{p}.bn3")

    def selective_kernel(x, p, stride, act_last=True):
        pieces = torch.split(x, x.shape[1] // 2, 1) if spec.split_input else (x, x)
        paths = []
        for i, (piece, dilation) in enumerate(zip(pieces, (1, 2))):  # 3x3 and "5x5" (3x3, d=2)
            key = f"{p}.paths.{i}.conv"
            y = conv(piece, key, stride, dilation, groups_of(piece, key), dilation)
            paths.append(F.relu(bn(y, f"{p}.paths.{i}.bn")))
        stacked = torch.stack(paths, 1)
        s = stacked.sum(1).mean((2, 3), keepdim=True)
        s = F.relu(bn(conv(s, f"{p}.attn.fc_reduce"), f"{p}.attn.bn"))
        s = conv(s, f"{p}.attn.fc_select")
        b, c = s.shape[:2]
        attn = torch.softmax(s.view(b, 2, c // 2, 1, 1), dim=1)
        return (stacked * attn).sum(1)

    def sk(x, p, stride, _first):
        if spec.bottleneck:
            out = F.relu(bn(conv(x, f"{p}.conv1.conv"), f"{p}.conv1.bn"))
            out = selective_kernel(out, f"{p}.conv2", stride)
            return bn(conv(out, f"{p}.conv3.conv"), f"{p}.conv3.bn")
        out = selective_kernel(x, f"{p}.conv1", stride)
        return bn(conv(out, f"{p}.conv2.conv", 1, 1), f"{p}.conv2.bn")

    branch = {"res2net": res2net, "resnest": resnest, "sk": sk}[spec.family]
    with torch.no_grad():
        x = F.max_pool2d(fn.resnet_stem(fn.input(x_nhwc), spec.deep_stem), 3, 2, 1)
        for i, blocks in enumerate(spec.layers):
            for j in range(blocks):
                p, stride = f"layer{i + 1}.{j}", 2 if i > 0 and j == 0 else 1
                first = f"{p}.downsample.0.weight" in fn or f"{p}.downsample.1.weight" in fn
                out = branch(x, p, stride, first)
                x = F.relu(out + fn.shortcut(x, p, stride))
        return fn.logits(x)


if __name__ == "__main__":
    sys.exit(
        write_outputs(
            DATA, lambda name: forward(state_dict(name), images(), name), sys.argv[1:] or SPECS
        )
    )
