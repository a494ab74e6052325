"""What the torch.nn.functional references share: random PyTorch-layout weights and their layers.

Each `torch_reference*.py` (and `facenet_reference.py`) writes one family's
layout from its authors' modules, independently of resblocks. They are made
of the same pieces, kept here once:

- `RandomWeights`: a state dict filled with random weights under PyTorch's
  keys (He-normal convolutions, batch norms with randomised scales and
  statistics, timm's ResNet stem, stages and shortcuts). The draws follow
  the order of the calls: the stored outputs in data/ depend on it.
- `Functional`: a state dict's tensors and the `torch.nn.functional` layers
  that read them by key, as torchvision's and timm's modules compute them
  in eval mode (PyTorch is imported only here, only when it runs).
- `images(side)`: the inputs every comparison feeds, and `write_outputs`,
  which stores a reference's outputs so the loading tests run without PyTorch.

Nothing here reads our code.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

SEED = 0
SIDE = 64  # input height and width of the ResNet comparisons
PLANES = (64, 128, 256, 512)  # the planes of a ResNet's four stages
LAST = (0.1, 0.3)  # the scales of a residual branch's last norm: a sum that stays small


def images(side: int = SIDE, n: int = 2, seed: int = SEED) -> np.ndarray:
    """Inputs as the network sees them (already preprocessed), NHWC."""
    return np.random.default_rng(seed + 1).normal(size=(n, side, side, 3)).astype("float32")


def write_outputs(data: Path, output: Callable[[str], np.ndarray], names: Iterable[str]) -> int:
    """Stores `output(name)` for each name in `data`, keeping the others stored there.

    Saved after each name, so an interrupted run keeps what it computed.
    """
    stored = dict(np.load(data)) if data.is_file() else {}
    data.parent.mkdir(exist_ok=True)
    for name in names:
        stored[name] = output(name)
        np.savez_compressed(data, **{k: stored[k] for k in sorted(stored)})
        print(f"wrote {name} to {data}", flush=True)
    return 0


class RandomWeights:
    """A state dict being filled with random weights under PyTorch's keys.

    Args:
        seed: the generator's seed.
        gamma: the range of the norms' scales, where a call gives none.
        float32_draws: draw normals as float32 (numpy's float32 stream),
            not as float64 rounded to float32: a different, equally random
            state dict, the one torch_reference_variants.py stored.
    """

    def __init__(
        self, seed: int = SEED, gamma: tuple[float, float] = (0.3, 0.6), float32_draws=False
    ):
        self.rng = np.random.default_rng(seed)
        self.gamma = gamma
        self.float32_draws = float32_draws
        self.state: dict[str, np.ndarray] = {}

    def normal(self, std: float, shape) -> np.ndarray:
        if self.float32_draws:
            return self.rng.standard_normal(shape, dtype=np.float32) * np.float32(std)
        return self.rng.normal(0, std, shape)

    def conv(self, key: str, out: int, cin: int, kernel, *, bias=False, gain=1.0) -> None:
        """A convolution's weight (He-normal, times `gain`), and its bias if it has one.

        `kernel`: an int (square), or the kernel's sizes (one for a Conv1d).
        """
        kernel = (kernel, kernel) if isinstance(kernel, int) else tuple(kernel)
        std = gain * math.sqrt(2 / (cin * math.prod(kernel)))
        self.state[f"{key}.weight"] = self.normal(std, (out, cin, *kernel))
        if bias:
            self.state[f"{key}.bias"] = self.normal(0.1, out)

    def norm(self, key: str, channels: int, gamma=None, *, statistics=True) -> None:
        """A norm's scale and bias; with `statistics`, a batch norm's running ones and counter."""
        self.state[f"{key}.weight"] = self.rng.uniform(*(gamma or self.gamma), channels)
        self.state[f"{key}.bias"] = self.normal(0.1, channels)
        if statistics:
            self.state[f"{key}.running_mean"] = self.normal(0.1, channels)
            self.state[f"{key}.running_var"] = self.rng.uniform(0.5, 1.5, channels)
            self.state[f"{key}.num_batches_tracked"] = np.array(100, dtype=np.int64)

    def linear(self, key: str, out: int, cin: int, *, bias=True, kernel=()) -> None:
        """A classifier's weight (std 1 / sqrt(cin)) and bias; `kernel=(1, 1)` for a 1x1 conv."""
        self.state[f"{key}.weight"] = self.normal(1 / math.sqrt(cin), (out, cin, *kernel))
        if bias:
            self.state[f"{key}.bias"] = self.normal(0.1, out)

    def se(self, key: str, channels: int, reduced: int) -> None:
        """A squeeze-and-excitation module: 1x1 convolutions fc1 and fc2, with biases."""
        self.conv(f"{key}.fc1", reduced, channels, 1, bias=True)
        self.conv(f"{key}.fc2", channels, reduced, 1, bias=True)

    def resnet_stem(self, deep: tuple[int, int, int] | None = None) -> int:
        """timm's ResNet stem: a 7x7 conv, or the deep stem's three 3x3 of `deep` widths; bn1.

        Returns its output channels.
        """
        if deep:
            first, second, out = deep
            self.conv("conv1.0", first, 3, 3)
            self.norm("conv1.1", first)
            self.conv("conv1.3", second, first, 3)
            self.norm("conv1.4", second)
            self.conv("conv1.6", out, second, 3)
        else:
            out = 64
            self.conv("conv1", out, 3, 7)
        self.norm("bn1", out)
        return out

    def downsample(self, prefix: str, out: int, cin: int, avg_down: bool) -> None:
        """A projection shortcut, conv and BN; with timm's avg_down an average pool is index 0."""
        first = 1 if avg_down else 0
        self.conv(f"{prefix}.downsample.{first}", out, cin, 1)
        self.norm(f"{prefix}.downsample.{first + 1}", out)

    def resnet_layers(
        self,
        layers,
        inplanes: int,
        *,
        bottleneck=True,
        groups=1,
        width_per_group=64,
        avg_down=False,
        attention: Callable[[str, int], None] | None = None,
    ) -> int:
        """torchvision's and timm's `layer1` to `layer4` of BasicBlocks or Bottlenecks.

        `attention(prefix, channels)` adds a block's attention module after
        its last norm. Returns the last stage's output channels.
        """
        expansion = 4 if bottleneck else 1
        for i, (planes, blocks) in enumerate(zip(PLANES, layers)):
            stride = 1 if i == 0 else 2
            for j in range(blocks):
                p = f"layer{i + 1}.{j}"
                out = planes * expansion
                if bottleneck:
                    width = int(planes * (width_per_group / 64.0)) * groups
                    self.conv(f"{p}.conv1", width, inplanes, 1)
                    self.norm(f"{p}.bn1", width)
                    self.conv(f"{p}.conv2", width, width // groups, 3)
                    self.norm(f"{p}.bn2", width)
                    self.conv(f"{p}.conv3", out, width, 1)
                    self.norm(f"{p}.bn3", out, LAST)
                else:
                    self.conv(f"{p}.conv1", planes, inplanes, 3)
                    self.norm(f"{p}.bn1", planes)
                    self.conv(f"{p}.conv2", planes, planes, 3)
                    self.norm(f"{p}.bn2", planes, LAST)
                if attention is not None:
                    attention(p, out)
                if j == 0 and (stride != 1 or inplanes != out):
                    self.downsample(p, out, inplanes, avg_down)
                inplanes, stride = out, 1
        return inplanes

    def state_dict(self) -> dict[str, np.ndarray]:
        """The weights, float32 (the counters stay int64)."""
        return {
            k: v.astype("float32") if v.dtype == np.float64 else v for k, v in self.state.items()
        }


def se_channels(channels: int, rd_ratio: float = 1 / 16) -> int:
    """timm's SEModule width: make_divisible(channels * rd_ratio, 8, round_limit=0.)."""
    return max(8, int(channels * rd_ratio + 4) // 8 * 8)


def make_divisible(v: float, divisor: int = 8, min_value: int | None = None) -> int:
    """timm.layers.helpers.make_divisible (round to the nearest multiple, never 10% below)."""
    min_value = min_value or divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v


class Functional:
    """A state dict's tensors, and the torch.nn.functional layers that read them by key.

    Args:
        state: the state dict (numpy arrays).
        bn_eps: the batch norms' epsilon (1e-5 in PyTorch; 1e-3 in the
            Inception-ResNets, from TF-slim).
    """

    def __init__(self, state: dict[str, np.ndarray], bn_eps: float = 1e-5):
        import torch
        import torch.nn.functional as F

        self.torch, self.F = torch, F
        self.t = {k: torch.from_numpy(np.asarray(v)) for k, v in state.items()}
        self.bn_eps = bn_eps

    def __contains__(self, key: str) -> bool:
        return key in self.t

    def __getitem__(self, key: str):
        return self.t[key]

    def input(self, x_nhwc: np.ndarray):
        """The NHWC images as PyTorch's NCHW tensor."""
        return self.torch.from_numpy(x_nhwc).permute(0, 3, 1, 2).contiguous()

    def conv(self, x, key, stride=1, padding=0, groups=1, dilation=1):
        weight, bias = self.t[f"{key}.weight"], self.t.get(f"{key}.bias")
        return self.F.conv2d(x, weight, bias, stride, padding, dilation, groups)

    def groups(self, x, key) -> int:
        """A convolution's groups, read off its weight's input channels."""
        return x.shape[1] // self.t[f"{key}.weight"].shape[1]

    def bn(self, x, key):
        mean, var = self.t[f"{key}.running_mean"], self.t[f"{key}.running_var"]
        weight, bias = self.t[f"{key}.weight"], self.t[f"{key}.bias"]
        return self.F.batch_norm(x, mean, var, weight, bias, training=False, eps=self.bn_eps)

    def conv_bn(self, x, key, norm, stride=1, padding=0, groups=1, *, relu=True):
        """conv, batch norm and (unless `relu=False`) ReLU: PyTorch's conv-BN-act."""
        x = self.bn(self.conv(x, key, stride, padding, groups), norm)
        return self.F.relu(x) if relu else x

    def se(self, x, key):
        """Squeeze-and-excitation: the mean, fc1, ReLU, fc2, a sigmoid gate."""
        s = x.mean((2, 3), keepdim=True)
        s = self.conv(self.F.relu(self.conv(s, f"{key}.fc1")), f"{key}.fc2")
        return x * self.torch.sigmoid(s)

    def resnet_stem(self, x, deep: bool):
        """timm's ResNet stem up to its pool: the 7x7/2 conv, or the deep stem's three 3x3."""
        if deep:
            x = self.conv_bn(x, "conv1.0", "conv1.1", 2, 1)
            x = self.conv_bn(x, "conv1.3", "conv1.4", 1, 1)
            return self.conv_bn(x, "conv1.6", "bn1", 1, 1)
        return self.conv_bn(x, "conv1", "bn1", 2, 3)

    def shortcut(self, x, prefix: str, stride: int):
        """A ResNet block's shortcut: the input, its projection, or pool and projection."""
        if f"{prefix}.downsample.0.weight" in self.t:
            return self.conv_bn(
                x, f"{prefix}.downsample.0", f"{prefix}.downsample.1", stride, relu=False
            )
        if f"{prefix}.downsample.1.weight" in self.t:
            if stride > 1:
                x = self.F.avg_pool2d(x, 2, stride, ceil_mode=True, count_include_pad=False)
            return self.conv_bn(x, f"{prefix}.downsample.1", f"{prefix}.downsample.2", relu=False)
        return x

    def resnet_block(self, x, prefix: str, stride: int, bottleneck: bool, aa=None):
        """A BasicBlock's or Bottleneck's residual branch, the stride on its 3x3 (torchvision v1.5).

        `aa`: timm's anti-aliasing pool, which takes the stride after the 3x3.
        """
        p = prefix
        conv_stride = 1 if aa is not None and stride > 1 else stride
        after = aa if aa is not None and stride > 1 else (lambda y: y)
        if bottleneck:
            out = self.conv_bn(x, f"{p}.conv1", f"{p}.bn1")
            groups = self.groups(out, f"{p}.conv2")
            out = after(self.conv_bn(out, f"{p}.conv2", f"{p}.bn2", conv_stride, 1, groups))
            return self.conv_bn(out, f"{p}.conv3", f"{p}.bn3", relu=False)
        out = after(self.conv_bn(x, f"{p}.conv1", f"{p}.bn1", conv_stride, 1))
        return self.conv_bn(out, f"{p}.conv2", f"{p}.bn2", 1, 1, relu=False)

    def resnet_layers(self, x, layers, bottleneck: bool, *, attention=None, aa=None):
        """`layer1` to `layer4`: each branch, its `attention(out, prefix)`, the sum, ReLU."""
        for i, blocks in enumerate(layers):
            for j in range(blocks):
                p = f"layer{i + 1}.{j}"
                stride = 2 if i > 0 and j == 0 else 1
                out = self.resnet_block(x, p, stride, bottleneck, aa)
                if attention is not None:
                    out = attention(out, p)
                x = self.F.relu(out + self.shortcut(x, p, stride))
        return x

    def logits(self, x, key: str = "fc") -> np.ndarray:
        """The global average pool and the linear classifier `key`, as numpy."""
        return self.F.linear(x.mean((2, 3)), self.t[f"{key}.weight"], self.t[f"{key}.bias"]).numpy()


# === The Inception-ResNets (timm's inception_resnet_v2, facenet-pytorch's V1) ===
# A stem is a list of (module, in, out, kernel, stride, padding) of ConvNormActs;
# a body a list of (module, branches, residual width, scale, ReLU after the sum),
# each branch a list of (in, out, kernel, stride, padding), "avg" for a 3x3/1
# average pool before its convolutions, or a string alone ("max", "pool") for a
# 3x3/2 max-pool branch; the residual modules end in a 1x1 conv `conv2d` with bias.

# The five convolutions both stems begin with (Szegedy et al. 2016, Fig. 3 and 14).
INCEPTION_STEM = [
    ("conv2d_1a", 3, 32, 3, 2, 0),
    ("conv2d_2a", 32, 32, 3, 1, 0),
    ("conv2d_2b", 32, 64, 3, 1, 1),
    ("conv2d_3b", 64, 80, 1, 1, 0),
    ("conv2d_4a", 80, 192, 3, 1, 0),
]


def branch_key(module: str, j: int, branch: list, k: int) -> str:
    """A lone ConvNormAct is the branch itself; several modules are an nn.Sequential."""
    return f"{module}.branch{j}" if len(branch) == 1 else f"{module}.branch{j}.{k}"


def inception_weights(
    w: RandomWeights, stem: list, body: list, up: Callable[[str, int, int], None]
) -> None:
    """The stem's and body's ConvNormActs (`.conv`, `.bn`); `up(module, width, mixed)` the 1x1s."""

    def conv_norm_act(key, cin, out, kernel):
        w.conv(f"{key}.conv", out, cin, kernel)
        w.norm(f"{key}.bn", out)

    for key, cin, out, kernel, _, _ in stem:
        conv_norm_act(key, cin, out, kernel)
    for module, branches, width, _, _ in body:
        mixed = 0
        for j, branch in enumerate(branches):
            if isinstance(branch, str):  # a max-pool branch
                continue
            for k, item in enumerate(branch):
                if not isinstance(item, str):
                    cin, out, kernel, _, _ = item
                    conv_norm_act(branch_key(module, j, branch, k), cin, out, kernel)
            mixed += branch[-1][1]
        if width is not None:  # the linear 1x1 back to the input width, with bias
            up(module, width, mixed)


def inception_layers(fn: Functional, x, stem: list, pool_after: tuple[str, ...], body: list):
    """The stem (a 3x3/2 max-pool after each module of `pool_after`) and the body."""
    F, torch = fn.F, fn.torch

    def conv_norm_act(x, key, stride, padding):
        return fn.conv_bn(x, f"{key}.conv", f"{key}.bn", stride, padding)

    for key, _, _, _, stride, padding in stem:
        x = conv_norm_act(x, key, stride, padding)
        if key in pool_after:
            x = F.max_pool2d(x, 3, 2)
    for module, branches, width, scale, relu in body:
        outs = []
        for j, branch in enumerate(branches):
            if isinstance(branch, str):
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
        if width is None:  # the reductions (Mixed_6a, Mixed_7a) and Mixed_5b
            x = out
            continue
        out = F.conv2d(out, fn[f"{module}.conv2d.weight"], fn[f"{module}.conv2d.bias"])
        x = out * scale + x
        if relu:
            x = F.relu(x)
    return x
