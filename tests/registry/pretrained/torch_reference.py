"""torchvision's and timm's ResNets, written independently of resblocks, for the weights tests.

`state_dict(name)` makes random weights (and randomized BN statistics) with
the keys and shapes torchvision's `models/resnet.py` and timm's
`models/resnet.py` give each network; `forward(state, x)` runs them with
`torch.nn.functional` only, as those modules do. Neither reads our code.

    python tests/registry/pretrained/torch_reference.py [NAME ...]  # rewrites data/*.npz

The stored outputs let the loading test run where PyTorch is not installed.
"""

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

__all__ = ["DATA", "SEED", "SIDE", "SPECS", "forward", "images", "state_dict"]

DATA = Path(__file__).parent / "data" / "torch_reference.npz"


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
    w = RandomWeights(seed)
    width = spec.stem_width  # timm's deep stem: two convs stem_width wide, then twice it
    inplanes = w.resnet_stem((width, width, 2 * width) if spec.deep_stem else None)

    def se(p, channels):  # timm SEModule: make_divisible(out / 16, 8), 1x1 convs with bias
        w.se(f"{p}.se", channels, se_channels(channels))

    inplanes = w.resnet_layers(
        spec.layers,
        inplanes,
        bottleneck=spec.bottleneck,
        groups=spec.groups,
        width_per_group=spec.width_per_group,
        avg_down=spec.avg_down,
        attention=se if spec.se else None,
    )
    w.linear("fc", num_classes, inplanes)
    return w.state_dict()


def forward(state: dict[str, np.ndarray], x_nhwc: np.ndarray, name: str) -> np.ndarray:
    """The network's logits, computed by torch.nn.functional as torchvision/timm compute them."""
    import torch

    spec = SPECS[name]
    fn = Functional(state)
    with torch.no_grad():
        x = fn.resnet_stem(fn.input(x_nhwc), spec.deep_stem)
        x = fn.F.max_pool2d(x, 3, 2, 1)
        attention = (lambda out, p: fn.se(out, f"{p}.se")) if spec.se else None
        x = fn.resnet_layers(x, spec.layers, spec.bottleneck, attention=attention)
        return fn.logits(x)


if __name__ == "__main__":
    sys.exit(
        write_outputs(
            DATA, lambda name: forward(state_dict(name), images(), name), sys.argv[1:] or SPECS
        )
    )
