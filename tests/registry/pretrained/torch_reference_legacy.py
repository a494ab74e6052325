"""timm's Inception-ResNet-V2, legacy SENets and ResNet-50-GN, written independently of resblocks.

For the weights tests of those layouts: `*_state_dict` make random weights
(BN scales and statistics randomised too) with the keys and shapes timm's
`models/inception_resnet_v2.py`, `models/senet.py` and `models/resnet.py`
(`norm_layer='groupnorm'`) give them; the `*_forward` functions run them with
`torch.nn.functional` only, as those modules' `forward` do in eval mode.
Neither reads our code.

    python tests/registry/pretrained/torch_reference_legacy.py [NAME ...]  # rewrites its .npz

The stored logits let the loading tests run where PyTorch is not installed.
"""

import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from reference_parts import (
    INCEPTION_STEM,
    LAST,
    SEED,
    Functional,
    RandomWeights,
    images,
    inception_layers,
    inception_weights,
    write_outputs,
)

DATA = Path(__file__).parent / "data" / "torch_reference_legacy.npz"
GAMMA = (0.3, 1.2)  # the norms' scales: wider than the ResNets', as these were drawn

# === timm's inception_resnet_v2 ===

INCEPTION_SIDE = 75  # the smallest input the network takes: 1x1 after mixed_7a
# (module, in, out, kernel, stride, padding) of each ConvNormAct of the stem.
STEM = INCEPTION_STEM
# Each module's branches: lists of (in, out, kernel, stride, padding), kernel and padding (h, w);
# "max" is a 3x3/2 max-pool branch, "avg" a 3x3/1 average pool (count_include_pad=False)
# before the branch's convolutions, which makes it module 0 of its nn.Sequential.
MIXED_5B = [
    [(192, 96, (1, 1), 1, (0, 0))],
    [(192, 48, (1, 1), 1, (0, 0)), (48, 64, (5, 5), 1, (2, 2))],
    [(192, 64, (1, 1), 1, (0, 0)), (64, 96, (3, 3), 1, (1, 1)), (96, 96, (3, 3), 1, (1, 1))],
    ["avg", (192, 64, (1, 1), 1, (0, 0))],
]
BLOCK35 = [
    [(320, 32, (1, 1), 1, (0, 0))],
    [(320, 32, (1, 1), 1, (0, 0)), (32, 32, (3, 3), 1, (1, 1))],
    [(320, 32, (1, 1), 1, (0, 0)), (32, 48, (3, 3), 1, (1, 1)), (48, 64, (3, 3), 1, (1, 1))],
]
MIXED_6A = [
    [(320, 384, (3, 3), 2, (0, 0))],
    [(320, 256, (1, 1), 1, (0, 0)), (256, 256, (3, 3), 1, (1, 1)), (256, 384, (3, 3), 2, (0, 0))],
    "max",
]
BLOCK17 = [
    [(1088, 192, (1, 1), 1, (0, 0))],
    [
        (1088, 128, (1, 1), 1, (0, 0)),
        (128, 160, (1, 7), 1, (0, 3)),
        (160, 192, (7, 1), 1, (3, 0)),
    ],
]
MIXED_7A = [
    [(1088, 256, (1, 1), 1, (0, 0)), (256, 384, (3, 3), 2, (0, 0))],
    [(1088, 256, (1, 1), 1, (0, 0)), (256, 288, (3, 3), 2, (0, 0))],
    [(1088, 256, (1, 1), 1, (0, 0)), (256, 288, (3, 3), 1, (1, 1)), (288, 320, (3, 3), 2, (0, 0))],
    "max",
]
BLOCK8 = [
    [(2080, 192, (1, 1), 1, (0, 0))],
    [
        (2080, 192, (1, 1), 1, (0, 0)),
        (192, 224, (1, 3), 1, (0, 1)),
        (224, 256, (3, 1), 1, (1, 0)),
    ],
]
REPEATS = (10, 20, 9)  # Block35, Block17, Block8 before the last, linear Block8
SHORT = (1, 1, 1)  # one block of each kind: the same keys at fewer indices, for `make test`


def inception_body(repeats: tuple[int, int, int] = REPEATS) -> list:
    """(module, branches, residual width, scale, ReLU after the sum) of each body module."""
    a, b, c = repeats
    return (
        [("mixed_5b", MIXED_5B, None, None, None)]
        + [(f"repeat.{i}", BLOCK35, 320, 0.17, True) for i in range(a)]
        + [("mixed_6a", MIXED_6A, None, None, None)]
        + [(f"repeat_1.{i}", BLOCK17, 1088, 0.10, True) for i in range(b)]
        + [("mixed_7a", MIXED_7A, None, None, None)]
        + [(f"repeat_2.{i}", BLOCK8, 2080, 0.20, True) for i in range(c)]
        + [("block8", BLOCK8, 2080, 1.0, False)]
    )


def inception_state_dict(
    repeats: tuple[int, int, int] = REPEATS, num_classes: int = 1000, seed: int = SEED
) -> dict[str, np.ndarray]:
    """Random weights in timm's InceptionResnetV2 layout, num_batches_tracked included."""
    w = RandomWeights(seed, gamma=GAMMA)

    def up(module, width, mixed):
        w.conv(f"{module}.conv2d", width, mixed, 1, bias=True, gain=0.2)

    inception_weights(w, STEM, inception_body(repeats), up)
    w.conv("conv2d_7b.conv", 1536, 2080, 1)
    w.norm("conv2d_7b.bn", 1536)
    w.linear("classif", num_classes, 1536)
    return w.state_dict()


def inception_forward(
    state: dict[str, np.ndarray], x_nhwc: np.ndarray, repeats: tuple[int, int, int] = REPEATS
) -> np.ndarray:
    """The logits, computed by torch.nn.functional as InceptionResnetV2.forward does."""
    import torch

    fn = Functional(state, bn_eps=0.001)
    with torch.no_grad():
        pools = ("conv2d_2b", "conv2d_4a")  # maxpool_3a, maxpool_5a
        x = inception_layers(fn, fn.input(x_nhwc), STEM, pools, inception_body(repeats))
        x = fn.conv_bn(x, "conv2d_7b.conv", "conv2d_7b.bn")
        return fn.logits(x, "classif")  # global_pool; head_drop is off in eval


# === timm's legacy SENets (models/senet.py) ===

SENET_SIDE = 70  # the stem's map is 35x35, odd: the ceil-mode pool cuts its last window


@dataclass(frozen=True)
class SENetSpec:
    """timm's `SENet(block, layers, groups, reduction, ...)` arguments, as `legacy_*` pass them.

    block: "basic" (SEResNetBlock), "resnet" (SEResNetBottleneck, stride on
    conv1), "resnext" (SEResNeXtBottleneck, base_width 4, stride on conv2)
    or "senet" (SEBottleneck: conv1 planes * 2, conv2 planes * 4).
    """

    layers: tuple[int, int, int, int]
    block: str
    groups: int = 1
    inplanes: int = 64
    input_3x3: bool = False
    downsample_kernel_size: int = 1


SENETS = {
    "legacy_seresnet18": SENetSpec((2, 2, 2, 2), "basic"),
    "legacy_seresnet34": SENetSpec((3, 4, 6, 3), "basic"),
    "legacy_seresnet50": SENetSpec((3, 4, 6, 3), "resnet"),
    "legacy_seresnet101": SENetSpec((3, 4, 23, 3), "resnet"),
    "legacy_seresnet152": SENetSpec((3, 8, 36, 3), "resnet"),
    "legacy_seresnext26_32x4d": SENetSpec((2, 2, 2, 2), "resnext", groups=32),
    "legacy_seresnext50_32x4d": SENetSpec((3, 4, 6, 3), "resnext", groups=32),
    "legacy_seresnext101_32x4d": SENetSpec((3, 4, 23, 3), "resnext", groups=32),
    "legacy_senet154": SENetSpec(
        (3, 8, 36, 3), "senet", 64, inplanes=128, input_3x3=True, downsample_kernel_size=3
    ),
}


def _senet_convs(spec: SENetSpec, planes: int, inplanes: int) -> list[tuple[int, int, int]]:
    """(out, in per group, kernel) of conv1, conv2 (, conv3) of one block."""
    if spec.block == "basic":
        return [(planes, inplanes, 3), (planes, planes, 3)]
    if spec.block == "resnet":
        return [(planes, inplanes, 1), (planes, planes, 3), (planes * 4, planes, 1)]
    if spec.block == "resnext":
        width = math.floor(planes * (4 / 64)) * spec.groups
        return [(width, inplanes, 1), (width, width // spec.groups, 3), (planes * 4, width, 1)]
    return [
        (planes * 2, inplanes, 1),
        (planes * 4, planes * 2 // spec.groups, 3),
        (planes * 4, planes * 4, 1),
    ]


def senet_state_dict(name: str, num_classes: int = 1000, seed: int = SEED) -> dict:
    """Random weights in timm's senet.py layout, num_batches_tracked included."""
    spec = SENETS[name]
    w = RandomWeights(seed, gamma=GAMMA)
    if spec.input_3x3:
        for i, (out, cin) in enumerate(((64, 3), (64, 64), (spec.inplanes, 64)), start=1):
            w.conv(f"layer0.conv{i}", out, cin, 3)
            w.norm(f"layer0.bn{i}", out)
    else:
        w.conv("layer0.conv1", spec.inplanes, 3, 7)
        w.norm("layer0.bn1", spec.inplanes)
    inplanes = spec.inplanes
    expansion = 1 if spec.block == "basic" else 4
    for i, (planes, blocks) in enumerate(zip((64, 128, 256, 512), spec.layers)):
        out = planes * expansion
        for j in range(blocks):
            p = f"layer{i + 1}.{j}"
            convs = _senet_convs(spec, planes, inplanes)
            for k, (width, cin, kernel) in enumerate(convs, start=1):
                w.conv(f"{p}.conv{k}", width, cin, kernel)
                w.norm(f"{p}.bn{k}", width, LAST if k == len(convs) else None)
            w.se(f"{p}.se_module", out, out // 16)
            if j == 0 and (i > 0 or inplanes != out):
                kernel = spec.downsample_kernel_size if i > 0 else 1
                w.conv(f"{p}.downsample.0", out, inplanes, kernel)
                w.norm(f"{p}.downsample.1", out)
            inplanes = out
    w.linear("last_linear", num_classes, inplanes)
    return w.state_dict()


def senet_forward(state: dict, x_nhwc: np.ndarray, name: str) -> np.ndarray:
    """The logits, computed by torch.nn.functional as timm's SENet.forward does in eval mode."""
    import torch
    import torch.nn.functional as F

    spec = SENETS[name]
    fn = Functional(state)
    conv, bn, t = fn.conv, fn.bn, fn.t

    with torch.no_grad():
        x = fn.input(x_nhwc)
        if spec.input_3x3:
            x = F.relu(bn(conv(x, "layer0.conv1", 2, 1), "layer0.bn1"))
            x = F.relu(bn(conv(x, "layer0.conv2", 1, 1), "layer0.bn2"))
            x = F.relu(bn(conv(x, "layer0.conv3", 1, 1), "layer0.bn3"))
        else:
            x = F.relu(bn(conv(x, "layer0.conv1", 2, 3), "layer0.bn1"))
        x = F.max_pool2d(x, 3, 2, ceil_mode=True)  # pool0
        for i, blocks in enumerate(spec.layers):
            for j in range(blocks):
                p = f"layer{i + 1}.{j}"
                stride = 2 if i > 0 and j == 0 else 1
                if spec.block == "basic":
                    out = F.relu(bn(conv(x, f"{p}.conv1", stride, 1), f"{p}.bn1"))
                    # SEResNetBlock: a ReLU after bn2, before the SE module and the sum
                    out = F.relu(bn(conv(out, f"{p}.conv2", 1, 1), f"{p}.bn2"))
                else:
                    s1, s2 = (stride, 1) if spec.block == "resnet" else (1, stride)
                    out = F.relu(bn(conv(x, f"{p}.conv1", s1), f"{p}.bn1"))
                    out = F.relu(bn(conv(out, f"{p}.conv2", s2, 1, spec.groups), f"{p}.bn2"))
                    out = bn(conv(out, f"{p}.conv3"), f"{p}.bn3")
                out = fn.se(out, f"{p}.se_module")
                shortcut = x
                if f"{p}.downsample.0.weight" in t:
                    kernel = t[f"{p}.downsample.0.weight"].shape[-1]
                    down = conv(x, f"{p}.downsample.0", stride, (kernel - 1) // 2)
                    shortcut = bn(down, f"{p}.downsample.1")
                x = F.relu(out + shortcut)
        return fn.logits(x, "last_linear")  # global_pool; dropout is off in eval


# === timm's resnet50_gn (models/resnet.py, norm_layer='groupnorm') ===

GN_SIDE = 64
GN_GROUPS = 32


def gn_state_dict(num_classes: int = 1000, seed: int = SEED) -> dict:
    """Random weights of timm's resnet50_gn: ResNet-50 v1.5 keys, each norm a GroupNorm."""
    w = RandomWeights(seed, gamma=GAMMA)

    def gn(key, channels, gamma=None):
        w.norm(key, channels, gamma, statistics=False)

    w.conv("conv1", 64, 3, 7)
    gn("bn1", 64)
    inplanes = 64
    for i, (planes, blocks) in enumerate(zip((64, 128, 256, 512), (3, 4, 6, 3))):
        for j in range(blocks):
            p = f"layer{i + 1}.{j}"
            for k, (out, cin, kernel) in enumerate(
                [(planes, inplanes, 1), (planes, planes, 3), (planes * 4, planes, 1)], start=1
            ):
                w.conv(f"{p}.conv{k}", out, cin, kernel)
                gn(f"{p}.bn{k}", out, LAST if k == 3 else None)
            if j == 0:
                w.conv(f"{p}.downsample.0", planes * 4, inplanes, 1)
                gn(f"{p}.downsample.1", planes * 4)
            inplanes = planes * 4
    w.linear("fc", num_classes, inplanes)
    return w.state_dict()


def gn_forward(state: dict, x_nhwc: np.ndarray) -> np.ndarray:
    """The logits, computed by torch.nn.functional as timm's ResNet.forward does."""
    import torch
    import torch.nn.functional as F

    fn = Functional(state)
    conv, t = fn.conv, fn.t

    def gn(x, key):
        return F.group_norm(x, GN_GROUPS, t[f"{key}.weight"], t[f"{key}.bias"], eps=1e-5)

    with torch.no_grad():
        x = fn.input(x_nhwc)
        x = F.relu(gn(conv(x, "conv1", 2, 3), "bn1"))
        x = F.max_pool2d(x, 3, 2, 1)
        for i, blocks in enumerate((3, 4, 6, 3)):
            for j in range(blocks):
                p = f"layer{i + 1}.{j}"
                stride = 2 if i > 0 and j == 0 else 1
                out = F.relu(gn(conv(x, f"{p}.conv1"), f"{p}.bn1"))
                out = F.relu(gn(conv(out, f"{p}.conv2", stride, 1), f"{p}.bn2"))
                out = gn(conv(out, f"{p}.conv3"), f"{p}.bn3")
                shortcut = x
                if j == 0:
                    shortcut = gn(conv(x, f"{p}.downsample.0", stride), f"{p}.downsample.1")
                x = F.relu(out + shortcut)
        return fn.logits(x)


def output(name: str) -> np.ndarray:
    """The stored output `name`: inception_short, inception_full, resnet50_gn or a SENet's."""
    if name.startswith("inception_"):
        repeats = SHORT if name == "inception_short" else REPEATS
        x = images(INCEPTION_SIDE)
        return inception_forward(inception_state_dict(repeats), x, repeats)
    if name == "resnet50_gn":
        return gn_forward(gn_state_dict(), images(GN_SIDE))
    return senet_forward(senet_state_dict(name), images(SENET_SIDE), name)


OUTPUTS = ["inception_short", "inception_full", "resnet50_gn", *SENETS]

if __name__ == "__main__":
    sys.exit(write_outputs(DATA, output, sys.argv[1:] or OUTPUTS))
