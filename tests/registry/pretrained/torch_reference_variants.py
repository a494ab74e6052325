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

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from reference_parts import SEED, Functional, RandomWeights, images, se_channels, write_outputs

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


def stem_widths(spec: Spec) -> tuple[int, int, int]:
    """The deep stem's three widths (timm's create_stem): tiered (24, 32, 64) or (w, w, 2w)."""
    first = 3 * (spec.stem_width // 4) if spec.stem_type == "deep_tiered" else spec.stem_width
    return first, spec.stem_width, 2 * spec.stem_width


def state_dict(name: str, num_classes: int = 1000, seed: int = SEED) -> dict[str, np.ndarray]:
    """Random weights in timm's layout of `name`, num_batches_tracked buffers included."""
    spec = SPECS[name]
    w = RandomWeights(seed, float32_draws=True)
    inplanes = w.resnet_stem(stem_widths(spec) if spec.stem_type else None)
    if spec.replace_stem_pool:
        w.conv("maxpool.0", inplanes, inplanes, 3)
        w.norm("maxpool.1", inplanes)

    def se(p, channels):
        w.se(f"{p}.se", channels, se_channels(channels, spec.se_ratio))

    inplanes = w.resnet_layers(
        spec.layers,
        inplanes,
        bottleneck=spec.bottleneck,
        groups=spec.cardinality,
        width_per_group=spec.base_width,
        avg_down=spec.avg_down,
        attention=se if spec.se_ratio is not None else None,
    )
    w.linear("fc", num_classes, inplanes)
    return w.state_dict()


def forward(state: dict[str, np.ndarray], x_nhwc: np.ndarray, name: str) -> np.ndarray:
    """The logits timm's ResNet computes (eval mode), with torch.nn.functional."""
    import torch

    spec = SPECS[name]
    fn = Functional(state)
    with torch.no_grad():
        x = fn.resnet_stem(fn.input(x_nhwc), bool(spec.stem_type))
        if spec.replace_stem_pool:
            x = fn.conv_bn(x, "maxpool.0", "maxpool.1", 2, 1)
        else:
            x = fn.F.max_pool2d(x, 3, 2, 1)
        attention = (lambda out, p: fn.se(out, f"{p}.se")) if spec.se_ratio is not None else None
        x = fn.resnet_layers(x, spec.layers, spec.bottleneck, attention=attention)
        return fn.logits(x)


if __name__ == "__main__":
    sys.exit(
        write_outputs(
            DATA, lambda name: forward(state_dict(name), images(), name), sys.argv[1:] or SPECS
        )
    )
