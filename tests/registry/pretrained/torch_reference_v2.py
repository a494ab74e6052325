"""timm's ResNetV2 (`timm/models/resnetv2.py`), written without resblocks, for the weights tests.

`state_dict(name)` makes random weights (BN statistics randomised too) with
the keys and shapes timm's `ResNetV2` gives each network; `forward(state,
x, name)` runs them with `torch.nn.functional` only, as timm's modules do:
the stem (a 7x7/2 conv, or the deep and tiered 3x3 stems, its max-pool
padded with -inf, or with zeros by BiT's `ConstantPad2d`), pre-activation
blocks with the stride in a stage's first block and the projection (or
the average pool and projection) of the pre-activated input, the final
norm, and the classifier, a 1x1 conv. BiT's networks standardise each
convolution's weights (`StdConv2d`, eps 1e-8) and normalise by groups of
channels (`GroupNormAct`, 32 groups). `resnetv2_50d_frn` and
`resnetv2_50d_evos` put a norm that is its own activation in place of
every norm-ReLU: `FilterResponseNormTlu2d` (FRN and TLU, eps 1e-5) and
`EvoNorm2dS0` (32 groups, eps 1e-5). Neither function reads our code.

    python tests/registry/pretrained/torch_reference_v2.py [NAME ...]  # rewrites its outputs

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
    make_divisible,
    write_outputs,
)

__all__ = ["DATA", "SIDE", "SPECS", "forward", "images", "state_dict"]

DATA = Path(__file__).parent / "data" / "torch_reference_v2.npz"


@dataclass(frozen=True)
class Spec:
    """A timm `ResNetV2(layers, ...)`: the arguments its model functions pass."""

    layers: tuple[int, int, int, int]
    basic: bool = False  # PreActBasic, channels 64..512; else PreActBottleneck, 256..2048
    stem: str = ""  # timm stem_type: "", "deep", "tiered" or "fixed" (BiT)
    avg_down: bool = False
    width: int = 1  # width_factor
    # "batch" (BatchNormAct2d), "group" (GroupNormAct, 32 groups), "frn"
    # (FilterResponseNormTlu2d) or "evos" (EvoNorm2dS0, 32 groups)
    norm: str = "batch"
    std_conv_eps: float | None = None  # StdConv2d's eps; None: a plain conv


def _d(layers, basic=False, **kwargs) -> Spec:
    return Spec(layers, basic, stem="deep", avg_down=True, **kwargs)


def _bit(layers, width) -> Spec:
    return Spec(layers, stem="fixed", width=width, norm="group", std_conv_eps=1e-8)


R18, R34, R50, R101, R152 = (2, 2, 2, 2), (3, 4, 6, 3), (3, 4, 6, 3), (3, 4, 23, 3), (3, 8, 36, 3)
SPECS = {
    "resnetv2_18": Spec(R18, basic=True),
    "resnetv2_18d": _d(R18, basic=True),
    "resnetv2_34": Spec(R34, basic=True),
    "resnetv2_34d": _d(R34, basic=True),
    "resnetv2_50": Spec(R50),
    "resnetv2_50d": _d(R50),
    "resnetv2_50t": Spec(R50, stem="tiered", avg_down=True),
    "resnetv2_101": Spec(R101),
    "resnetv2_101d": _d(R101),
    "resnetv2_152": Spec(R152),
    "resnetv2_152d": _d(R152),
    "resnetv2_50d_gn": _d(R50, norm="group"),
    "resnetv2_50d_frn": _d(R50, norm="frn"),
    "resnetv2_50d_evos": _d(R50, norm="evos"),
    "resnetv2_50x1_bit": _bit(R50, 1),
    "resnetv2_101x1_bit": _bit(R101, 1),
}
# BiT's x2, x3 and x4 networks (217M to 937M parameters) are the layout of
# resnetv2_50x1_bit and resnetv2_101x1_bit at other widths: their counts are
# checked (test_timm_resnetv2.py), their random state dicts too big to make here.


def _stem_widths(spec: Spec, out: int) -> tuple[int, int]:
    return (3 * out // 8, out // 2) if spec.stem == "tiered" else (out // 2, out // 2)


def state_dict(name: str, num_classes: int = 1000, seed: int = SEED) -> dict[str, np.ndarray]:
    """Random weights in timm's ResNetV2 layout, num_batches_tracked buffers included."""
    spec = SPECS[name]
    w = RandomWeights(seed)

    def conv(key, out, cin, k, scale=1.0):
        w.conv(key, out, cin, k, gain=scale)

    def norm(key, channels):
        w.norm(key, channels, statistics=spec.norm == "batch")
        if spec.norm == "frn":  # TLU's threshold
            w.state[f"{key}.tau"] = w.normal(0.2, channels)
        if spec.norm == "evos":  # the gate's slope
            w.state[f"{key}.v"] = w.rng.uniform(0.5, 1.5, channels)

    stem = make_divisible(64 * spec.width)
    if spec.stem in ("deep", "tiered"):
        first, second = _stem_widths(spec, stem)
        conv("stem.conv1", first, 3, 3)
        norm("stem.norm1", first)
        conv("stem.conv2", second, first, 3)
        norm("stem.norm2", second)
        conv("stem.conv3", stem, second, 3)
    else:
        conv("stem.conv", stem, 3, 7)
    channels = (64, 128, 256, 512) if spec.basic else (256, 512, 1024, 2048)
    prev = stem
    for i, (c, depth) in enumerate(zip(channels, spec.layers)):
        out = make_divisible(c * spec.width)
        mid = make_divisible(out * (1.0 if spec.basic else 0.25))
        for j in range(depth):
            p = f"stages.{i}.blocks.{j}"
            norm(f"{p}.norm1", prev)
            if spec.basic:
                conv(f"{p}.conv1", mid, prev, 3)
                norm(f"{p}.norm2", mid)
                conv(f"{p}.conv2", out, mid, 3, scale=0.3)
            else:
                conv(f"{p}.conv1", mid, prev, 1)
                norm(f"{p}.norm2", mid)
                conv(f"{p}.conv2", mid, mid, 3)
                norm(f"{p}.norm3", mid)
                conv(f"{p}.conv3", out, mid, 1, scale=0.3)
            stride = 2 if i > 0 and j == 0 else 1
            # PreActBottleneck projects in every stage's first block; PreActBasic
            # only where the shape changes.
            if j == 0 and (not spec.basic or stride != 1 or prev != out):
                conv(f"{p}.downsample.conv", out, prev, 1)
            prev = out
    norm("norm", prev)
    w.linear("head.fc", num_classes, prev, kernel=(1, 1))  # a 1x1 conv
    return w.state_dict()


def forward(state: dict[str, np.ndarray], x_nhwc: np.ndarray, name: str) -> np.ndarray:
    """The network's logits, computed by torch.nn.functional as timm's ResNetV2 computes them."""
    import torch
    import torch.nn.functional as F

    spec = SPECS[name]
    fn = Functional(state)
    t = fn.t

    def conv(x, key, stride=1, padding=0):
        w = t[f"{key}.weight"]
        if spec.std_conv_eps is not None:  # StdConv2d: standardised per output channel
            flat = w.reshape(1, w.shape[0], -1)
            w = F.batch_norm(flat, None, None, training=True, momentum=0.0, eps=spec.std_conv_eps)
            w = w.reshape_as(t[f"{key}.weight"])
        return F.conv2d(x, w, None, stride, padding)

    def norm_act(x, key):
        weight, bias = t[f"{key}.weight"], t[f"{key}.bias"]
        channel = (1, -1, 1, 1)
        if spec.norm == "frn":  # x / rms over H, W; affine; TLU: max(y, tau)
            x = x * torch.rsqrt(x.square().mean((2, 3), keepdim=True) + 1e-5)
            x = x * weight.view(channel) + bias.view(channel)
            return torch.maximum(x, t[f"{key}.tau"].view(channel))
        if spec.norm == "evos":  # x * sigmoid(v x) / std over each group of 32; affine
            b, c, h, w = x.shape
            std = x.reshape(b, 32, c // 32, h, w).var((2, 3, 4), unbiased=False, keepdim=True)
            std = (std + 1e-5).sqrt().expand(b, 32, c // 32, h, w).reshape(b, c, h, w)
            x = x * torch.sigmoid(x * t[f"{key}.v"].view(channel)) / std
            return x * weight.view(channel) + bias.view(channel)
        if spec.norm == "group":
            x = F.group_norm(x, 32, weight, bias, eps=1e-5)
        else:
            mean, var = t[f"{key}.running_mean"], t[f"{key}.running_var"]
            x = F.batch_norm(x, mean, var, weight, bias, training=False, eps=1e-5)
        return F.relu(x)

    with torch.no_grad():
        x = fn.input(x_nhwc)
        if spec.stem in ("deep", "tiered"):
            x = norm_act(conv(x, "stem.conv1", 2, 1), "stem.norm1")
            x = norm_act(conv(x, "stem.conv2", 1, 1), "stem.norm2")
            x = conv(x, "stem.conv3", 1, 1)
        else:
            x = conv(x, "stem.conv", 2, 3)
        if spec.stem == "fixed":  # BiT: ConstantPad2d(1, 0.), then MaxPool2d(3, 2)
            x = F.max_pool2d(F.pad(x, (1, 1, 1, 1), value=0.0), 3, 2)
        else:  # MaxPool2d(3, 2, padding=1): the padding never wins
            x = F.max_pool2d(x, 3, 2, 1)
        for i, depth in enumerate(spec.layers):
            for j in range(depth):
                p = f"stages.{i}.blocks.{j}"
                stride = 2 if i > 0 and j == 0 else 1
                preact = norm_act(x, f"{p}.norm1")
                shortcut = x
                if f"{p}.downsample.conv.weight" in t:
                    down = preact
                    if spec.avg_down and stride > 1:
                        down = F.avg_pool2d(
                            down, 2, stride, ceil_mode=True, count_include_pad=False
                        )
                        shortcut = conv(down, f"{p}.downsample.conv")
                    else:
                        shortcut = conv(down, f"{p}.downsample.conv", stride)
                if spec.basic:
                    out = conv(preact, f"{p}.conv1", stride, 1)
                    out = conv(norm_act(out, f"{p}.norm2"), f"{p}.conv2", 1, 1)
                else:
                    out = conv(preact, f"{p}.conv1")
                    out = conv(norm_act(out, f"{p}.norm2"), f"{p}.conv2", stride, 1)
                    out = conv(norm_act(out, f"{p}.norm3"), f"{p}.conv3")
                x = out + shortcut
        x = norm_act(x, "norm").mean((2, 3))
        return F.linear(x, t["head.fc.weight"][:, :, 0, 0], t["head.fc.bias"]).numpy()


if __name__ == "__main__":
    sys.exit(
        write_outputs(
            DATA, lambda name: forward(state_dict(name), images(), name), sys.argv[1:] or SPECS
        )
    )
