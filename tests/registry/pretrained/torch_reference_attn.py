"""timm's ECA and anti-aliased ResNets, written independently of resblocks, for the weights tests.

As torch_reference.py, for the timm ResNets whose blocks take
`attn_layer="eca"` (timm's `layers/eca.py`, `EcaModule`) or an `aa_layer`
(`nn.AvgPool2d` or `layers/blur_pool.py`'s `BlurPool2d`), and the tiered
deep stem (`stem_type="deep_tiered"`). `state_dict(name)` makes random
weights with timm's keys and shapes; `forward(state, x, name)` runs them
with `torch.nn.functional` only, as timm's `models/resnet.py` does. Neither
reads our code.

    python tests/registry/pretrained/torch_reference_attn.py  # rewrites its .npz in data/
"""

import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from torch_reference import SEED, SIDE, images

__all__ = ["DATA", "SIDE", "SPECS", "forward", "images", "state_dict"]

DATA = Path(__file__).parent / "data" / "torch_reference_attn.npz"


@dataclass(frozen=True)
class Spec:
    """timm's `ResNet(block, layers, cardinality, base_width, stem_type, ...)` arguments."""

    layers: tuple[int, int, int, int]
    bottleneck: bool = True
    groups: int = 1
    width_per_group: int = 64
    stem: str = ""  # timm stem_type: "", "deep" or "deep_tiered"
    avg_down: bool = False
    attn: str | None = None  # timm block_args attn_layer: "se" or "eca"
    aa: str | None = None  # timm aa_layer: "avg" (nn.AvgPool2d) or "blur" (BlurPool2d)


D = {"stem": "deep", "avg_down": True}  # ResNet-D: deep stem, average-pool shortcut
T = {"stem": "deep_tiered", "avg_down": True}
X32 = {"groups": 32, "width_per_group": 4}
SPECS = {
    # timm models/resnet.py model_args
    "ecaresnet26t": Spec((2, 2, 2, 2), attn="eca", **T),
    "ecaresnet50d": Spec((3, 4, 6, 3), attn="eca", **D),
    "ecaresnet50t": Spec((3, 4, 6, 3), attn="eca", **T),
    "ecaresnet101d": Spec((3, 4, 23, 3), attn="eca", **D),
    "ecaresnet200d": Spec((3, 24, 36, 3), attn="eca", **D),
    "ecaresnet269d": Spec((3, 30, 48, 8), attn="eca", **D),
    "ecaresnetlight": Spec((1, 1, 11, 3), avg_down=True, attn="eca"),
    "ecaresnext26t_32x4d": Spec((2, 2, 2, 2), attn="eca", **X32, **T),
    "ecaresnext50t_32x4d": Spec((3, 4, 6, 3), attn="eca", **X32, **T),
    "resnetaa34d": Spec((3, 4, 6, 3), bottleneck=False, aa="avg", **D),
    "resnetaa50": Spec((3, 4, 6, 3), aa="avg"),
    "resnetaa50d": Spec((3, 4, 6, 3), aa="avg", **D),
    "resnetaa101d": Spec((3, 4, 23, 3), aa="avg", **D),
    "seresnetaa50d": Spec((3, 4, 6, 3), aa="avg", attn="se", **D),
    "seresnextaa101d_32x8d": Spec(
        (3, 4, 23, 3), groups=32, width_per_group=8, aa="avg", attn="se", **D
    ),
    "resnetblur18": Spec((2, 2, 2, 2), bottleneck=False, aa="blur"),
    "resnetblur50": Spec((3, 4, 6, 3), aa="blur"),
    "resnetblur50d": Spec((3, 4, 6, 3), aa="blur", **D),
    "resnetblur101d": Spec((3, 4, 23, 3), aa="blur", **D),
}


def eca_kernel(channels: int, gamma: float = 2, beta: float = 1) -> int:
    """timm EcaModule: t = int(|log2(C) + beta| / gamma), made odd, at least 3."""
    t = int(abs(math.log(channels, 2) + beta) / gamma)
    return max(t if t % 2 else t + 1, 3)


def state_dict(name: str, num_classes: int = 1000, seed: int = SEED) -> dict[str, np.ndarray]:
    """Random weights in timm's layout, num_batches_tracked buffers included."""
    spec = SPECS[name]
    rng = np.random.default_rng(seed)
    state: dict[str, np.ndarray] = {}

    def conv(key, out, cin, *kernel, bias=False):
        fan_in = cin * math.prod(kernel)
        state[f"{key}.weight"] = rng.normal(0, math.sqrt(2 / fan_in), (out, cin, *kernel))
        if bias:
            state[f"{key}.bias"] = rng.normal(0, 0.1, out)

    def bn(key, channels, gamma=(0.3, 0.6)):
        state[f"{key}.weight"] = rng.uniform(*gamma, channels)
        state[f"{key}.bias"] = rng.normal(0, 0.1, channels)
        state[f"{key}.running_mean"] = rng.normal(0, 0.1, channels)
        state[f"{key}.running_var"] = rng.uniform(0.5, 1.5, channels)
        state[f"{key}.num_batches_tracked"] = np.array(100, dtype=np.int64)

    stem_width = 32
    inplanes = 2 * stem_width if spec.stem else 64
    if spec.stem:
        first = 3 * (stem_width // 4) if "tiered" in spec.stem else stem_width
        conv("conv1.0", first, 3, 3, 3)
        bn("conv1.1", first)
        conv("conv1.3", stem_width, first, 3, 3)
        bn("conv1.4", stem_width)
        conv("conv1.6", inplanes, stem_width, 3, 3)
    else:
        conv("conv1", 64, 3, 7, 7)
    bn("bn1", inplanes)
    expansion = 4 if spec.bottleneck else 1
    for i, (planes, blocks) in enumerate(zip((64, 128, 256, 512), spec.layers)):
        stride = 1 if i == 0 else 2
        for j in range(blocks):
            p = f"layer{i + 1}.{j}"
            out = planes * expansion
            if spec.bottleneck:
                width = int(planes * (spec.width_per_group / 64.0)) * spec.groups
                conv(f"{p}.conv1", width, inplanes, 1, 1)
                bn(f"{p}.bn1", width)
                conv(f"{p}.conv2", width, width // spec.groups, 3, 3)
                bn(f"{p}.bn2", width)
                conv(f"{p}.conv3", out, width, 1, 1)
                bn(f"{p}.bn3", out, gamma=(0.1, 0.3))
            else:
                conv(f"{p}.conv1", planes, inplanes, 3, 3)
                bn(f"{p}.bn1", planes)
                conv(f"{p}.conv2", planes, planes, 3, 3)
                bn(f"{p}.bn2", planes, gamma=(0.1, 0.3))
            if spec.attn == "se":  # SEModule: make_divisible(out / 16, 8), 1x1 convs with bias
                reduced = max(8, int(out / 16 + 4) // 8 * 8)
                conv(f"{p}.se.fc1", reduced, out, 1, 1, bias=True)
                conv(f"{p}.se.fc2", out, reduced, 1, 1, bias=True)
            elif spec.attn == "eca":  # EcaModule: Conv1d(1, 1, k, bias=False)
                conv(f"{p}.se.conv", 1, 1, eca_kernel(out))
            if j == 0 and (stride != 1 or inplanes != out):
                first = 1 if spec.avg_down else 0  # downsample.0 is the pool
                conv(f"{p}.downsample.{first}", out, inplanes, 1, 1)
                bn(f"{p}.downsample.{first + 1}", out)
            inplanes = out
            stride = 1
    state["fc.weight"] = rng.normal(0, 1 / math.sqrt(inplanes), (num_classes, inplanes))
    state["fc.bias"] = rng.normal(0, 0.1, num_classes)
    return {k: v.astype("float32") if v.dtype == np.float64 else v for k, v in state.items()}


def forward(state: dict[str, np.ndarray], x_nhwc: np.ndarray, name: str) -> np.ndarray:
    """The network's logits, computed by torch.nn.functional as timm computes them."""
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

    def blur_pool(x):  # BlurPool2d(filt_size=3, stride=2): reflect pad 1, [1, 2, 1] / 4 squared
        row = torch.tensor([1.0, 2.0, 1.0]) / 4
        filt = (row[:, None] * row[None, :])[None, None].repeat(x.shape[1], 1, 1, 1)
        return F.conv2d(F.pad(x, [1, 1, 1, 1], mode="reflect"), filt, stride=2, groups=x.shape[1])

    def aa(x):  # create_aa: nn.AvgPool2d(2), or BlurPool2d
        return F.avg_pool2d(x, 2) if spec.aa == "avg" else blur_pool(x)

    def eca(x, key):
        weight = t[f"{key}.weight"]
        y = x.mean((2, 3)).view(x.shape[0], 1, -1)
        y = F.conv1d(y, weight, padding=(weight.shape[-1] - 1) // 2)
        return x * torch.sigmoid(y).view(x.shape[0], -1, 1, 1)

    with torch.no_grad():
        x = torch.from_numpy(x_nhwc).permute(0, 3, 1, 2).contiguous()
        if spec.stem:
            x = F.relu(bn(conv(x, "conv1.0", 2, 1), "conv1.1"))
            x = F.relu(bn(conv(x, "conv1.3", 1, 1), "conv1.4"))
            x = F.relu(bn(conv(x, "conv1.6", 1, 1), "bn1"))
        else:
            x = F.relu(bn(conv(x, "conv1", 2, 3), "bn1"))
        if spec.aa == "avg":  # the stem's pool: nn.AvgPool2d(2) in place of the max-pool
            x = F.avg_pool2d(x, 2)
        elif spec.aa == "blur":  # a stride-1 max-pool, then BlurPool2d
            x = blur_pool(F.max_pool2d(x, 3, 1, 1))
        else:
            x = F.max_pool2d(x, 3, 2, 1)
        for i, blocks in enumerate(spec.layers):
            for j in range(blocks):
                p = f"layer{i + 1}.{j}"
                stride = 2 if i > 0 and j == 0 else 1
                use_aa = spec.aa is not None and stride == 2
                conv_stride = 1 if use_aa else stride
                if spec.bottleneck:  # the stride (or the aa) on the 3x3
                    out = F.relu(bn(conv(x, f"{p}.conv1"), f"{p}.bn1"))
                    groups = out.shape[1] // t[f"{p}.conv2.weight"].shape[1]
                    out = F.relu(bn(conv(out, f"{p}.conv2", conv_stride, 1, groups), f"{p}.bn2"))
                    out = aa(out) if use_aa else out
                    out = bn(conv(out, f"{p}.conv3"), f"{p}.bn3")
                else:
                    out = F.relu(bn(conv(x, f"{p}.conv1", conv_stride, 1), f"{p}.bn1"))
                    out = aa(out) if use_aa else out
                    out = bn(conv(out, f"{p}.conv2", 1, 1), f"{p}.bn2")
                if spec.attn == "se":
                    s = out.mean((2, 3), keepdim=True)
                    s = torch.sigmoid(conv(F.relu(conv(s, f"{p}.se.fc1")), f"{p}.se.fc2"))
                    out = out * s
                elif spec.attn == "eca":
                    out = eca(out, f"{p}.se.conv")
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
