"""More of timm's ResNets, written from timm's `models/resnet.py` independently of resblocks.

torch_reference.py's networks are torchvision's `ResNet` and timm's first
options; these are timm's `ResNet(block, layers, cardinality, base_width,
stem_width, stem_type, replace_stem_pool, avg_down, block_args)` with the
rest of its options that its ResNet variants use:

- `stem_type="deep_tiered"`: the deep stem's first two convolutions
  `3 * (stem_width // 4)` and `stem_width` wide (24, 32), not both
  `stem_width` (the `t` networks: resnet10t, ..., seresnext26t_32x4d);
- `replace_stem_pool=True`: a 3x3/2 conv-BN-ReLU (`maxpool.0`, `maxpool.1`)
  where the max-pool was (ResNet-RS);
- SE at any `rd_ratio` (ResNet-RS: 1/4), timm's `SEModule` with
  `make_divisible(channels * rd_ratio, 8, round_limit=0.)` channels.

`state_dict(name)` makes random weights (BN statistics randomised) with
timm's keys and shapes; `forward(state, x, name)` runs them with
`torch.nn.functional` only. Neither reads our code.

    python tests/registry/pretrained/torch_reference_variants.py [NAME ...]  # stores their outputs

The stored outputs let the loading test run where PyTorch is not installed.
"""

import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from torch_reference import SEED, images

DATA = Path(__file__).parent / "data" / "torch_reference_variants.npz"


@dataclass(frozen=True)
class Spec:
    """timm's `ResNet(...)` arguments, those its ResNet variants set."""

    layers: tuple[int, ...]
    bottleneck: bool = True
    cardinality: int = 1
    base_width: int = 64
    stem_type: str = ""  # "", "deep" or "deep_tiered"
    stem_width: int = 64  # timm's default; the deep stems are 32 (64 for the `s` ones)
    replace_stem_pool: bool = False
    avg_down: bool = False
    se_ratio: float | None = None  # block_args=dict(attn_layer="se"): 1/16


SE = 1 / 16
DEEP = {"stem_type": "deep", "stem_width": 32}
D = {**DEEP, "avg_down": True}
T = {"stem_type": "deep_tiered", "stem_width": 32, "avg_down": True}
RS = {**D, "replace_stem_pool": True, "se_ratio": 0.25}
L50, L101, L152, L200 = (3, 4, 6, 3), (3, 4, 23, 3), (3, 8, 36, 3), (3, 24, 36, 3)

# timm's `model_args` of each network (timm/models/resnet.py, timm 1.0.31).
SPECS = {
    "resnet26": Spec((2, 2, 2, 2)),
    "resnet34d": Spec(L50, bottleneck=False, **D),
    "resnet101c": Spec(L101, **DEEP),
    "resnet152c": Spec(L152, **DEEP),
    "resnet101s": Spec(L101, stem_type="deep", stem_width=64),
    "resnet152s": Spec(L152, stem_type="deep", stem_width=64),
    "resnet200": Spec(L200),
    "resnext50d_32x4d": Spec(L50, cardinality=32, base_width=4, **D),
    "resnext101_32x4d": Spec(L101, cardinality=32, base_width=4),
    "resnext101_32x16d": Spec(L101, cardinality=32, base_width=16),
    "resnext101_32x32d": Spec(L101, cardinality=32, base_width=32),
    "seresnet101": Spec(L101, se_ratio=SE),
    "seresnet152": Spec(L152, se_ratio=SE),
    "seresnet152d": Spec(L152, se_ratio=SE, **D),
    "seresnet200d": Spec(L200, se_ratio=SE, **D),
    "seresnet269d": Spec((3, 30, 48, 8), se_ratio=SE, **D),
    "seresnext26d_32x4d": Spec((2, 2, 2, 2), cardinality=32, base_width=4, se_ratio=SE, **D),
    "seresnext101_32x4d": Spec(L101, cardinality=32, base_width=4, se_ratio=SE),
    "seresnext101_32x8d": Spec(L101, cardinality=32, base_width=8, se_ratio=SE),
    "seresnext101_64x4d": Spec(L101, cardinality=64, base_width=4, se_ratio=SE),
    "seresnext101d_32x8d": Spec(L101, cardinality=32, base_width=8, se_ratio=SE, **D),
    # stem_type="deep_tiered"
    "resnet10t": Spec((1, 1, 1, 1), bottleneck=False, **T),
    "resnet14t": Spec((1, 1, 1, 1), **T),
    "resnet26t": Spec((2, 2, 2, 2), **T),
    "resnet50t": Spec(L50, **T),
    "seresnet50t": Spec(L50, se_ratio=SE, **T),
    "seresnext26t_32x4d": Spec((2, 2, 2, 2), cardinality=32, base_width=4, se_ratio=SE, **T),
    # ResNet-RS: replace_stem_pool, SE with rd_ratio=0.25
    "resnetrs50": Spec(L50, **RS),
    "resnetrs101": Spec(L101, **RS),
    "resnetrs152": Spec(L152, **RS),
    "resnetrs200": Spec(L200, **RS),
    "resnetrs270": Spec((4, 29, 53, 4), **RS),
    "resnetrs350": Spec((4, 36, 72, 4), **RS),
    "resnetrs420": Spec((4, 44, 87, 4), **RS),
}


def se_channels(channels: int, rd_ratio: float) -> int:
    """timm's make_divisible(channels * rd_ratio, 8, round_limit=0.)."""
    return max(8, int(channels * rd_ratio + 4) // 8 * 8)


def stem_widths(spec: Spec) -> tuple[int, int, int]:
    """The deep stem's three widths (timm's create_stem): tiered (24, 32, 64) or (w, w, 2w)."""
    first = 3 * (spec.stem_width // 4) if spec.stem_type == "deep_tiered" else spec.stem_width
    return first, spec.stem_width, 2 * spec.stem_width


def state_dict(name: str, num_classes: int = 1000, seed: int = SEED) -> dict[str, np.ndarray]:
    """Random weights in timm's layout of `name`, num_batches_tracked buffers included."""
    spec = SPECS[name]
    rng = np.random.default_rng(seed)
    state: dict[str, np.ndarray] = {}

    def normal(std, shape):
        return rng.standard_normal(shape, dtype=np.float32) * np.float32(std)

    def uniform(low, high, n):
        return rng.uniform(low, high, n).astype("float32")

    def conv(key, out, cin, k, bias=False):
        state[f"{key}.weight"] = normal(math.sqrt(2 / (cin * k * k)), (out, cin, k, k))
        if bias:
            state[f"{key}.bias"] = normal(0.1, out)

    def bn(key, channels, gamma=(0.3, 0.6)):
        state[f"{key}.weight"] = uniform(*gamma, channels)
        state[f"{key}.bias"] = normal(0.1, channels)
        state[f"{key}.running_mean"] = normal(0.1, channels)
        state[f"{key}.running_var"] = uniform(0.5, 1.5, channels)
        state[f"{key}.num_batches_tracked"] = np.array(100, dtype=np.int64)

    if spec.stem_type:
        first, second, inplanes = stem_widths(spec)
        conv("conv1.0", first, 3, 3)
        bn("conv1.1", first)
        conv("conv1.3", second, first, 3)
        bn("conv1.4", second)
        conv("conv1.6", inplanes, second, 3)
    else:
        inplanes = 64
        conv("conv1", inplanes, 3, 7)
    bn("bn1", inplanes)
    if spec.replace_stem_pool:
        conv("maxpool.0", inplanes, inplanes, 3)
        bn("maxpool.1", inplanes)
    expansion = 4 if spec.bottleneck else 1
    for i, (planes, blocks) in enumerate(zip((64, 128, 256, 512), spec.layers)):
        stride = 1 if i == 0 else 2
        for j in range(blocks):
            p = f"layer{i + 1}.{j}"
            out = planes * expansion
            if spec.bottleneck:
                width = int(math.floor(planes * (spec.base_width / 64)) * spec.cardinality)
                conv(f"{p}.conv1", width, inplanes, 1)
                bn(f"{p}.bn1", width)
                conv(f"{p}.conv2", width, width // spec.cardinality, 3)
                bn(f"{p}.bn2", width)
                conv(f"{p}.conv3", out, width, 1)
                bn(f"{p}.bn3", out, gamma=(0.1, 0.3))
            else:
                conv(f"{p}.conv1", planes, inplanes, 3)
                bn(f"{p}.bn1", planes)
                conv(f"{p}.conv2", planes, planes, 3)
                bn(f"{p}.bn2", planes, gamma=(0.1, 0.3))
            if spec.se_ratio is not None:
                reduced = se_channels(out, spec.se_ratio)
                conv(f"{p}.se.fc1", reduced, out, 1, bias=True)
                conv(f"{p}.se.fc2", out, reduced, 1, bias=True)
            if j == 0 and (stride != 1 or inplanes != out):
                first = 1 if spec.avg_down else 0  # downsample.0 is the pool (an Identity at 1)
                conv(f"{p}.downsample.{first}", out, inplanes, 1)
                bn(f"{p}.downsample.{first + 1}", out)
            inplanes, stride = out, 1
    state["fc.weight"] = normal(1 / math.sqrt(inplanes), (num_classes, inplanes))
    state["fc.bias"] = normal(0.1, num_classes)
    return state


def forward(state: dict[str, np.ndarray], x_nhwc: np.ndarray, name: str) -> np.ndarray:
    """The logits timm's ResNet computes (eval mode), with torch.nn.functional."""
    import torch
    import torch.nn.functional as F

    spec = SPECS[name]
    t = {k: torch.from_numpy(np.asarray(v)) for k, v in state.items()}

    def conv(x, key, stride=1, padding=0, groups=1):
        return F.conv2d(x, t[f"{key}.weight"], t.get(f"{key}.bias"), stride, padding, 1, groups)

    def bn(x, key):
        mean, var = t[f"{key}.running_mean"], t[f"{key}.running_var"]
        return F.batch_norm(x, mean, var, t[f"{key}.weight"], t[f"{key}.bias"], False, 0.0, 1e-5)

    with torch.no_grad():
        x = torch.from_numpy(x_nhwc).permute(0, 3, 1, 2).contiguous()
        if spec.stem_type:
            x = F.relu(bn(conv(x, "conv1.0", 2, 1), "conv1.1"))
            x = F.relu(bn(conv(x, "conv1.3", 1, 1), "conv1.4"))
            x = F.relu(bn(conv(x, "conv1.6", 1, 1), "bn1"))
        else:
            x = F.relu(bn(conv(x, "conv1", 2, 3), "bn1"))
        if spec.replace_stem_pool:
            x = F.relu(bn(conv(x, "maxpool.0", 2, 1), "maxpool.1"))
        else:
            x = F.max_pool2d(x, 3, 2, 1)
        for i, blocks in enumerate(spec.layers):
            for j in range(blocks):
                p = f"layer{i + 1}.{j}"
                stride = 2 if i > 0 and j == 0 else 1
                if spec.bottleneck:  # timm's Bottleneck: the stride on the 3x3
                    out = F.relu(bn(conv(x, f"{p}.conv1"), f"{p}.bn1"))
                    out = F.relu(
                        bn(conv(out, f"{p}.conv2", stride, 1, spec.cardinality), f"{p}.bn2")
                    )
                    out = bn(conv(out, f"{p}.conv3"), f"{p}.bn3")
                else:
                    out = F.relu(bn(conv(x, f"{p}.conv1", stride, 1), f"{p}.bn1"))
                    out = bn(conv(out, f"{p}.conv2", 1, 1), f"{p}.bn2")
                if spec.se_ratio is not None:  # SEModule: mean, fc1, ReLU, fc2, sigmoid
                    s = out.mean((2, 3), keepdim=True)
                    out = out * torch.sigmoid(conv(F.relu(conv(s, f"{p}.se.fc1")), f"{p}.se.fc2"))
                identity = x
                if f"{p}.downsample.0.weight" in t:
                    identity = bn(conv(x, f"{p}.downsample.0", stride), f"{p}.downsample.1")
                elif f"{p}.downsample.1.weight" in t:  # downsample_avg
                    pooled = x
                    if stride > 1:
                        pooled = F.avg_pool2d(x, 2, stride, ceil_mode=True, count_include_pad=False)
                    identity = bn(conv(pooled, f"{p}.downsample.1"), f"{p}.downsample.2")
                x = F.relu(out + identity)
        x = x.mean((2, 3))
        return F.linear(x, t["fc.weight"], t["fc.bias"]).numpy()


def main(names: list[str]) -> int:
    """Stores the logits of `names` (all networks if none), keeping the others stored."""
    stored = dict(np.load(DATA)) if DATA.is_file() else {}
    for name in names or SPECS:
        stored[name] = forward(state_dict(name), images(), name)
        DATA.parent.mkdir(exist_ok=True)
        np.savez_compressed(DATA, **stored)  # after each, so an interrupted run keeps its part
        print(f"wrote {name} to {DATA}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
