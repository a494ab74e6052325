"""timm's Inception-ResNet-V2, legacy SENets and ResNet-50-GN, written independently of resblocks.

For the weights tests of those layouts: `*_state_dict` make random weights
(BN scales and statistics randomised too) with the keys and shapes timm's
`models/inception_resnet_v2.py`, `models/senet.py` and `models/resnet.py`
(`norm_layer='groupnorm'`) give them; the `*_forward` functions run them with
`torch.nn.functional` only, as those modules' `forward` do in eval mode.
Neither reads our code.

    python tests/registry/pretrained/torch_reference_legacy.py  # rewrites its .npz in data/

The stored logits let the loading tests run where PyTorch is not installed.
"""

import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DATA = Path(__file__).parent / "data" / "torch_reference_legacy.npz"
SEED = 0

# === timm's inception_resnet_v2 ===

INCEPTION_SIDE = 75  # the smallest input the network takes: 1x1 after mixed_7a
# (module, in, out, kernel, stride, padding) of each ConvNormAct of the stem.
STEM = [
    ("conv2d_1a", 3, 32, 3, 2, 0),
    ("conv2d_2a", 32, 32, 3, 1, 0),
    ("conv2d_2b", 32, 64, 3, 1, 1),
    ("conv2d_3b", 64, 80, 1, 1, 0),
    ("conv2d_4a", 80, 192, 3, 1, 0),
]
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


def branch_key(module: str, j: int, branch: list, k: int) -> str:
    """A lone ConvNormAct is the branch itself; several modules are an nn.Sequential."""
    return f"{module}.branch{j}" if len(branch) == 1 else f"{module}.branch{j}.{k}"


def _bn(state, rng, key, channels, gamma=(0.3, 1.2)):
    state[f"{key}.weight"] = rng.uniform(*gamma, channels)
    state[f"{key}.bias"] = rng.normal(0, 0.1, channels)
    state[f"{key}.running_mean"] = rng.normal(0, 0.1, channels)
    state[f"{key}.running_var"] = rng.uniform(0.5, 1.5, channels)
    state[f"{key}.num_batches_tracked"] = np.array(100, dtype=np.int64)


def _conv(state, rng, key, out, cin, kernel, bias=False, gain=1.0):
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    state[f"{key}.weight"] = rng.normal(
        0, gain * math.sqrt(2 / (cin * kh * kw)), (out, cin, kh, kw)
    )
    if bias:
        state[f"{key}.bias"] = rng.normal(0, 0.1, out)


def _float32(state: dict) -> dict:
    return {k: v.astype("float32") if v.dtype == np.float64 else v for k, v in state.items()}


def inception_state_dict(
    repeats: tuple[int, int, int] = REPEATS, num_classes: int = 1000, seed: int = SEED
) -> dict[str, np.ndarray]:
    """Random weights in timm's InceptionResnetV2 layout, num_batches_tracked included."""
    rng = np.random.default_rng(seed)
    state: dict[str, np.ndarray] = {}

    def conv_norm_act(key, cin, out, kernel):
        _conv(state, rng, f"{key}.conv", out, cin, kernel)
        _bn(state, rng, f"{key}.bn", out)

    for key, cin, out, kernel, _, _ in STEM:
        conv_norm_act(key, cin, out, kernel)
    for module, branches, width, _, _ in inception_body(repeats):
        mixed = 0
        for j, branch in enumerate(branches):
            if branch == "max":
                continue
            for k, item in enumerate(branch):
                if item == "avg":
                    continue
                cin, out, kernel, _, _ = item
                conv_norm_act(branch_key(module, j, branch, k), cin, out, kernel)
            mixed += branch[-1][1]
        if width is not None:  # the linear 1x1 back to the input width, with bias
            _conv(state, rng, f"{module}.conv2d", width, mixed, 1, bias=True, gain=0.2)
    conv_norm_act("conv2d_7b", 2080, 1536, 1)
    state["classif.weight"] = rng.normal(0, 1 / math.sqrt(1536), (num_classes, 1536))
    state["classif.bias"] = rng.normal(0, 0.1, num_classes)
    return _float32(state)


def inception_forward(
    state: dict[str, np.ndarray], x_nhwc: np.ndarray, repeats: tuple[int, int, int] = REPEATS
) -> np.ndarray:
    """The logits, computed by torch.nn.functional as InceptionResnetV2.forward does."""
    import torch
    import torch.nn.functional as F

    t = {k: torch.from_numpy(np.asarray(v)) for k, v in state.items()}

    def conv_norm_act(x, key, stride, padding):
        x = F.conv2d(x, t[f"{key}.conv.weight"], None, stride, padding)
        x = F.batch_norm(
            x,
            t[f"{key}.bn.running_mean"],
            t[f"{key}.bn.running_var"],
            t[f"{key}.bn.weight"],
            t[f"{key}.bn.bias"],
            training=False,
            eps=0.001,
        )
        return F.relu(x)

    with torch.no_grad():
        x = torch.from_numpy(x_nhwc).permute(0, 3, 1, 2).contiguous()
        for key, _, _, _, stride, padding in STEM:
            x = conv_norm_act(x, key, stride, padding)
            if key in ("conv2d_2b", "conv2d_4a"):
                x = F.max_pool2d(x, 3, 2)  # maxpool_3a, maxpool_5a
        for module, branches, width, scale, relu in inception_body(repeats):
            outs = []
            for j, branch in enumerate(branches):
                if branch == "max":
                    outs.append(F.max_pool2d(x, 3, 2))
                    continue
                out = x
                for k, item in enumerate(branch):
                    if item == "avg":
                        out = F.avg_pool2d(out, 3, 1, 1, count_include_pad=False)
                        continue
                    _, _, _, stride, padding = item
                    out = conv_norm_act(out, branch_key(module, j, branch, k), stride, padding)
                outs.append(out)
            out = torch.cat(outs, 1)
            if width is None:  # Mixed_5b, Mixed_6a, Mixed_7a
                x = out
                continue
            out = F.conv2d(out, t[f"{module}.conv2d.weight"], t[f"{module}.conv2d.bias"])
            x = out * scale + x
            if relu:
                x = F.relu(x)
        x = conv_norm_act(x, "conv2d_7b", 1, 0)
        x = x.mean((2, 3))  # global_pool; head_drop is off in eval
        return F.linear(x, t["classif.weight"], t["classif.bias"]).numpy()


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
    rng = np.random.default_rng(seed)
    state: dict[str, np.ndarray] = {}
    if spec.input_3x3:
        for i, (out, cin) in enumerate(((64, 3), (64, 64), (spec.inplanes, 64)), start=1):
            _conv(state, rng, f"layer0.conv{i}", out, cin, 3)
            _bn(state, rng, f"layer0.bn{i}", out)
    else:
        _conv(state, rng, "layer0.conv1", spec.inplanes, 3, 7)
        _bn(state, rng, "layer0.bn1", spec.inplanes)
    inplanes = spec.inplanes
    expansion = 1 if spec.block == "basic" else 4
    for i, (planes, blocks) in enumerate(zip((64, 128, 256, 512), spec.layers)):
        out = planes * expansion
        for j in range(blocks):
            p = f"layer{i + 1}.{j}"
            convs = _senet_convs(spec, planes, inplanes)
            for k, (width, cin, kernel) in enumerate(convs, start=1):
                _conv(state, rng, f"{p}.conv{k}", width, cin, kernel)
                last = k == len(convs)
                _bn(state, rng, f"{p}.bn{k}", width, gamma=(0.1, 0.3) if last else (0.3, 1.2))
            _conv(state, rng, f"{p}.se_module.fc1", out // 16, out, 1, bias=True)
            _conv(state, rng, f"{p}.se_module.fc2", out, out // 16, 1, bias=True)
            if j == 0 and (i > 0 or inplanes != out):
                kernel = spec.downsample_kernel_size if i > 0 else 1
                _conv(state, rng, f"{p}.downsample.0", out, inplanes, kernel)
                _bn(state, rng, f"{p}.downsample.1", out)
            inplanes = out
    state["last_linear.weight"] = rng.normal(0, 1 / math.sqrt(inplanes), (num_classes, inplanes))
    state["last_linear.bias"] = rng.normal(0, 0.1, num_classes)
    return _float32(state)


def senet_forward(state: dict, x_nhwc: np.ndarray, name: str) -> np.ndarray:
    """The logits, computed by torch.nn.functional as timm's SENet.forward does in eval mode."""
    import torch
    import torch.nn.functional as F

    spec = SENETS[name]
    t = {k: torch.from_numpy(np.asarray(v)) for k, v in state.items()}

    def conv(x, key, stride=1, padding=0, groups=1):
        return F.conv2d(x, t[f"{key}.weight"], t.get(f"{key}.bias"), stride, padding, 1, groups)

    def bn(x, key):
        return F.batch_norm(
            x,
            t[f"{key}.running_mean"],
            t[f"{key}.running_var"],
            t[f"{key}.weight"],
            t[f"{key}.bias"],
            training=False,
            eps=1e-5,
        )

    with torch.no_grad():
        x = torch.from_numpy(x_nhwc).permute(0, 3, 1, 2).contiguous()
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
                s = out.mean((2, 3), keepdim=True)
                s = conv(F.relu(conv(s, f"{p}.se_module.fc1")), f"{p}.se_module.fc2")
                out = out * torch.sigmoid(s)
                shortcut = x
                if f"{p}.downsample.0.weight" in t:
                    kernel = t[f"{p}.downsample.0.weight"].shape[-1]
                    down = conv(x, f"{p}.downsample.0", stride, (kernel - 1) // 2)
                    shortcut = bn(down, f"{p}.downsample.1")
                x = F.relu(out + shortcut)
        x = x.mean((2, 3))  # global_pool; dropout is off in eval
        return F.linear(x, t["last_linear.weight"], t["last_linear.bias"]).numpy()


# === timm's resnet50_gn (models/resnet.py, norm_layer='groupnorm') ===

GN_SIDE = 64
GN_GROUPS = 32


def gn_state_dict(num_classes: int = 1000, seed: int = SEED) -> dict:
    """Random weights of timm's resnet50_gn: ResNet-50 v1.5 keys, each norm a GroupNorm."""
    rng = np.random.default_rng(seed)
    state: dict[str, np.ndarray] = {}

    def gn(key, channels, gamma=(0.3, 1.2)):
        state[f"{key}.weight"] = rng.uniform(*gamma, channels)
        state[f"{key}.bias"] = rng.normal(0, 0.1, channels)

    _conv(state, rng, "conv1", 64, 3, 7)
    gn("bn1", 64)
    inplanes = 64
    for i, (planes, blocks) in enumerate(zip((64, 128, 256, 512), (3, 4, 6, 3))):
        for j in range(blocks):
            p = f"layer{i + 1}.{j}"
            for k, (out, cin, kernel) in enumerate(
                [(planes, inplanes, 1), (planes, planes, 3), (planes * 4, planes, 1)], start=1
            ):
                _conv(state, rng, f"{p}.conv{k}", out, cin, kernel)
                gn(f"{p}.bn{k}", out, gamma=(0.1, 0.3) if k == 3 else (0.3, 1.2))
            if j == 0:
                _conv(state, rng, f"{p}.downsample.0", planes * 4, inplanes, 1)
                gn(f"{p}.downsample.1", planes * 4)
            inplanes = planes * 4
    state["fc.weight"] = rng.normal(0, 1 / math.sqrt(inplanes), (num_classes, inplanes))
    state["fc.bias"] = rng.normal(0, 0.1, num_classes)
    return _float32(state)


def gn_forward(state: dict, x_nhwc: np.ndarray) -> np.ndarray:
    """The logits, computed by torch.nn.functional as timm's ResNet.forward does."""
    import torch
    import torch.nn.functional as F

    t = {k: torch.from_numpy(np.asarray(v)) for k, v in state.items()}

    def conv(x, key, stride=1, padding=0):
        return F.conv2d(x, t[f"{key}.weight"], None, stride, padding)

    def gn(x, key):
        return F.group_norm(x, GN_GROUPS, t[f"{key}.weight"], t[f"{key}.bias"], eps=1e-5)

    with torch.no_grad():
        x = torch.from_numpy(x_nhwc).permute(0, 3, 1, 2).contiguous()
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
        x = x.mean((2, 3))
        return F.linear(x, t["fc.weight"], t["fc.bias"]).numpy()


def images(side: int, n: int = 2, seed: int = SEED) -> np.ndarray:
    """Inputs as the network sees them (already preprocessed), NHWC."""
    return np.random.default_rng(seed + 1).normal(size=(n, side, side, 3)).astype("float32")


def outputs() -> dict[str, np.ndarray]:
    """Every stored output, by name."""
    x = images(INCEPTION_SIDE)
    stored = {
        "inception_short": inception_forward(inception_state_dict(SHORT), x, SHORT),
        "inception_full": inception_forward(inception_state_dict(), x),
        "resnet50_gn": gn_forward(gn_state_dict(), images(GN_SIDE)),
    }
    for name in SENETS:
        stored[name] = senet_forward(senet_state_dict(name), images(SENET_SIDE), name)
    return stored


def main() -> int:
    stored = outputs()
    DATA.parent.mkdir(exist_ok=True)
    np.savez_compressed(DATA, **stored)
    print(f"wrote {DATA} ({', '.join(stored)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
