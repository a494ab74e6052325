"""torchvision's and timm's ResNets, written independently of resblocks, for the weights tests.

`state_dict(name)` makes random weights (and randomized BN statistics) with
the keys and shapes torchvision's `models/resnet.py` and timm's
`models/resnet.py` give each network; `forward(state, x)` runs them with
`torch.nn.functional` only, as those modules do. Neither reads our code.

    python tests/registry/pretrained/torch_reference.py     # rewrites data/torch_reference.npz

The stored outputs let the loading test run where PyTorch is not installed.
"""

import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DATA = Path(__file__).parent / "data" / "torch_reference.npz"
SIDE = 64  # input height and width of the comparisons
SEED = 0


@dataclass(frozen=True)
class Spec:
    """A torchvision `ResNet(block, layers, groups, width_per_group)`, with timm's options."""

    layers: tuple[int, int, int, int]
    bottleneck: bool = True
    groups: int = 1
    width_per_group: int = 64
    deep_stem: bool = False  # timm stem_type="deep"
    stem_width: int = 32  # timm stem_width: the deep stem's first two convs, then twice it
    avg_down: bool = False  # timm avg_down=True
    se: bool = False  # timm attn_layer="se"


SPECS = {
    "resnet18": Spec((2, 2, 2, 2), bottleneck=False),
    "resnet34": Spec((3, 4, 6, 3), bottleneck=False),
    "resnet50_tv": Spec((3, 4, 6, 3)),
    "resnet101_tv": Spec((3, 4, 23, 3)),
    "resnet152_tv": Spec((3, 8, 36, 3)),
    "resnext50_32x4d": Spec((3, 4, 6, 3), groups=32, width_per_group=4),
    "resnext101_32x8d": Spec((3, 4, 23, 3), groups=32, width_per_group=8),
    "wide_resnet50_2": Spec((3, 4, 6, 3), width_per_group=128),
    "wide_resnet101_2": Spec((3, 4, 23, 3), width_per_group=128),
    "resnet50d": Spec((3, 4, 6, 3), deep_stem=True, avg_down=True),
    "seresnet50": Spec((3, 4, 6, 3), se=True),
    # timm's variants (models/resnet.py model_args)
    "resnet18d": Spec((2, 2, 2, 2), bottleneck=False, deep_stem=True, avg_down=True),
    "resnet26d": Spec((2, 2, 2, 2), deep_stem=True, avg_down=True),
    "resnet50c": Spec((3, 4, 6, 3), deep_stem=True),
    "resnet50s": Spec((3, 4, 6, 3), deep_stem=True, stem_width=64),
    "resnet101d": Spec((3, 4, 23, 3), deep_stem=True, avg_down=True),
    "resnet152d": Spec((3, 8, 36, 3), deep_stem=True, avg_down=True),
    "resnet200d": Spec((3, 24, 36, 3), deep_stem=True, avg_down=True),
    "seresnext50_32x4d": Spec((3, 4, 6, 3), groups=32, width_per_group=4, se=True),
    "resnext101_64x4d": Spec((3, 4, 23, 3), groups=64, width_per_group=4),
    "seresnet18": Spec((2, 2, 2, 2), bottleneck=False, se=True),
    "seresnet34": Spec((3, 4, 6, 3), bottleneck=False, se=True),
}


def state_dict(name: str, num_classes: int = 1000, seed: int = SEED) -> dict[str, np.ndarray]:
    """Random weights in the network's PyTorch layout, num_batches_tracked buffers included."""
    spec = SPECS[name]
    rng = np.random.default_rng(seed)
    state: dict[str, np.ndarray] = {}

    def conv(key, out, cin, k, bias=False):
        fan_in = cin * k * k
        state[f"{key}.weight"] = rng.normal(0, math.sqrt(2 / fan_in), (out, cin, k, k))
        if bias:
            state[f"{key}.bias"] = rng.normal(0, 0.1, out)

    def bn(key, channels, gamma=(0.3, 0.6)):
        state[f"{key}.weight"] = rng.uniform(*gamma, channels)
        state[f"{key}.bias"] = rng.normal(0, 0.1, channels)
        state[f"{key}.running_mean"] = rng.normal(0, 0.1, channels)
        state[f"{key}.running_var"] = rng.uniform(0.5, 1.5, channels)
        state[f"{key}.num_batches_tracked"] = np.array(100, dtype=np.int64)

    inplanes = 2 * spec.stem_width if spec.deep_stem else 64  # timm's stem output
    if spec.deep_stem:
        width = spec.stem_width
        conv("conv1.0", width, 3, 3)
        bn("conv1.1", width)
        conv("conv1.3", width, width, 3)
        bn("conv1.4", width)
        conv("conv1.6", inplanes, width, 3)
    else:
        conv("conv1", 64, 3, 7)
    bn("bn1", inplanes)
    expansion = 4 if spec.bottleneck else 1
    for i, (planes, blocks) in enumerate(zip((64, 128, 256, 512), spec.layers)):
        stride = 1 if i == 0 else 2
        for j in range(blocks):
            p = f"layer{i + 1}.{j}"
            out = planes * expansion
            if spec.bottleneck:
                width = int(planes * (spec.width_per_group / 64.0)) * spec.groups
                conv(f"{p}.conv1", width, inplanes, 1)
                bn(f"{p}.bn1", width)
                conv(f"{p}.conv2", width, width // spec.groups, 3)
                bn(f"{p}.bn2", width)
                conv(f"{p}.conv3", out, width, 1)
                bn(f"{p}.bn3", out, gamma=(0.1, 0.3))
            else:
                conv(f"{p}.conv1", planes, inplanes, 3)
                bn(f"{p}.bn1", planes)
                conv(f"{p}.conv2", planes, planes, 3)
                bn(f"{p}.bn2", planes, gamma=(0.1, 0.3))
            if spec.se:  # timm SEModule: make_divisible(out / 16, 8), 1x1 convs with bias
                reduced = max(8, int(out / 16 + 4) // 8 * 8)
                conv(f"{p}.se.fc1", reduced, out, 1, bias=True)
                conv(f"{p}.se.fc2", out, reduced, 1, bias=True)
            if j == 0 and (stride != 1 or inplanes != out):
                first = 1 if spec.avg_down else 0  # timm: downsample.0 is the pool
                conv(f"{p}.downsample.{first}", out, inplanes, 1)
                bn(f"{p}.downsample.{first + 1}", out)
            inplanes = out
            stride = 1
    state["fc.weight"] = rng.normal(0, 1 / math.sqrt(inplanes), (num_classes, inplanes))
    state["fc.bias"] = rng.normal(0, 0.1, num_classes)
    return {k: v.astype("float32") if v.dtype == np.float64 else v for k, v in state.items()}


def images(n: int = 2, seed: int = SEED) -> np.ndarray:
    """Inputs as the network sees them (already preprocessed), NHWC."""
    return np.random.default_rng(seed + 1).normal(size=(n, SIDE, SIDE, 3)).astype("float32")


def forward(state: dict[str, np.ndarray], x_nhwc: np.ndarray, name: str) -> np.ndarray:
    """The network's logits, computed by torch.nn.functional as torchvision/timm compute them."""
    import torch
    import torch.nn.functional as F

    spec = SPECS[name]
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
        if spec.deep_stem:
            x = F.relu(bn(conv(x, "conv1.0", 2, 1), "conv1.1"))
            x = F.relu(bn(conv(x, "conv1.3", 1, 1), "conv1.4"))
            x = F.relu(bn(conv(x, "conv1.6", 1, 1), "bn1"))
        else:
            x = F.relu(bn(conv(x, "conv1", 2, 3), "bn1"))
        x = F.max_pool2d(x, 3, 2, 1)
        for i, blocks in enumerate(spec.layers):
            for j in range(blocks):
                p = f"layer{i + 1}.{j}"
                stride = 2 if i > 0 and j == 0 else 1
                if spec.bottleneck:  # torchvision v1.5: the stride on the 3x3
                    out = F.relu(bn(conv(x, f"{p}.conv1"), f"{p}.bn1"))
                    groups = out.shape[1] // t[f"{p}.conv2.weight"].shape[1]
                    out = F.relu(bn(conv(out, f"{p}.conv2", stride, 1, groups), f"{p}.bn2"))
                    out = bn(conv(out, f"{p}.conv3"), f"{p}.bn3")
                else:
                    out = F.relu(bn(conv(x, f"{p}.conv1", stride, 1), f"{p}.bn1"))
                    out = bn(conv(out, f"{p}.conv2", 1, 1), f"{p}.bn2")
                if spec.se:
                    s = out.mean((2, 3), keepdim=True)
                    s = torch.sigmoid(conv(F.relu(conv(s, f"{p}.se.fc1")), f"{p}.se.fc2"))
                    out = out * s
                identity = x
                if f"{p}.downsample.0.weight" in t:
                    identity = bn(conv(x, f"{p}.downsample.0", stride), f"{p}.downsample.1")
                elif f"{p}.downsample.1.weight" in t:
                    if stride > 1:
                        x = F.avg_pool2d(x, 2, stride, ceil_mode=True, count_include_pad=False)
                    identity = bn(conv(x, f"{p}.downsample.1"), f"{p}.downsample.2")
                x = F.relu(out + identity)
        x = x.mean((2, 3))
        return F.linear(x, t["fc.weight"], t["fc.bias"]).numpy()


def main() -> int:
    outputs = {name: forward(state_dict(name), images(), name) for name in SPECS}
    DATA.parent.mkdir(exist_ok=True)
    np.savez_compressed(DATA, **outputs)
    print(f"wrote {DATA} ({', '.join(outputs)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
