"""timm's ECA and anti-aliased ResNets, written independently of resblocks, for the weights tests.

As torch_reference.py, for the timm ResNets whose blocks take
`attn_layer="eca"` (timm's `layers/eca.py`, `EcaModule`) or an `aa_layer`
(`nn.AvgPool2d` or `layers/blur_pool.py`'s `BlurPool2d`), and the tiered
deep stem (`stem_type="deep_tiered"`). `state_dict(name)` makes random
weights with timm's keys and shapes; `forward(state, x, name)` runs them
with `torch.nn.functional` only, as timm's `models/resnet.py` does. Neither
reads our code.

    python tests/registry/pretrained/torch_reference_attn.py [NAME ...]  # rewrites its .npz
"""

import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from reference_parts import (
    SEED,
    SIDE,
    Functional,
    RandomWeights,
    images,
    se_channels,
    write_outputs,
)

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
    w = RandomWeights(seed)
    stem_width = 32
    first = 3 * (stem_width // 4) if "tiered" in spec.stem else stem_width
    inplanes = w.resnet_stem((first, stem_width, 2 * stem_width) if spec.stem else None)

    def attention(p, channels):
        if spec.attn == "se":  # SEModule: make_divisible(out / 16, 8), 1x1 convs with bias
            w.se(f"{p}.se", channels, se_channels(channels))
        elif spec.attn == "eca":  # EcaModule: Conv1d(1, 1, k, bias=False)
            w.conv(f"{p}.se.conv", 1, 1, (eca_kernel(channels),))

    inplanes = w.resnet_layers(
        spec.layers,
        inplanes,
        bottleneck=spec.bottleneck,
        groups=spec.groups,
        width_per_group=spec.width_per_group,
        avg_down=spec.avg_down,
        attention=attention,
    )
    w.linear("fc", num_classes, inplanes)
    return w.state_dict()


def forward(state: dict[str, np.ndarray], x_nhwc: np.ndarray, name: str) -> np.ndarray:
    """The network's logits, computed by torch.nn.functional as timm computes them."""
    import torch

    spec = SPECS[name]
    fn = Functional(state)
    F = fn.F

    def blur_pool(x):  # BlurPool2d(filt_size=3, stride=2): reflect pad 1, [1, 2, 1] / 4 squared
        row = torch.tensor([1.0, 2.0, 1.0]) / 4
        filt = (row[:, None] * row[None, :])[None, None].repeat(x.shape[1], 1, 1, 1)
        return F.conv2d(F.pad(x, [1, 1, 1, 1], mode="reflect"), filt, stride=2, groups=x.shape[1])

    def aa(x):  # create_aa: nn.AvgPool2d(2), or BlurPool2d
        return F.avg_pool2d(x, 2) if spec.aa == "avg" else blur_pool(x)

    def attention(out, p):
        if spec.attn == "se":
            return fn.se(out, f"{p}.se")
        if spec.attn == "eca":
            weight = fn[f"{p}.se.conv.weight"]
            y = out.mean((2, 3)).view(out.shape[0], 1, -1)
            y = F.conv1d(y, weight, padding=(weight.shape[-1] - 1) // 2)
            return out * torch.sigmoid(y).view(out.shape[0], -1, 1, 1)
        return out

    with torch.no_grad():
        x = fn.resnet_stem(fn.input(x_nhwc), bool(spec.stem))
        if spec.aa == "avg":  # the stem's pool: nn.AvgPool2d(2) in place of the max-pool
            x = F.avg_pool2d(x, 2)
        elif spec.aa == "blur":  # a stride-1 max-pool, then BlurPool2d
            x = blur_pool(F.max_pool2d(x, 3, 1, 1))
        else:
            x = F.max_pool2d(x, 3, 2, 1)
        aa_layer = aa if spec.aa is not None else None  # the stride after the 3x3
        x = fn.resnet_layers(x, spec.layers, spec.bottleneck, attention=attention, aa=aa_layer)
        return fn.logits(x)


if __name__ == "__main__":
    sys.exit(
        write_outputs(
            DATA, lambda name: forward(state_dict(name), images(), name), sys.argv[1:] or SPECS
        )
    )
