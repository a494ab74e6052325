"""Where each weight of a recipe-built ResNet sits in a torchvision or timm state dict.

The tables are torchvision's `models/resnet.py` names, which timm's
`resnet.py` keeps and extends:

| ours | torch key |
|---|---|
| stem (`res_net_stem`) conv, BN | `conv1`, `bn1` |
| stem (`deep_stem`) convs, BNs | `conv1.0`, `.1`, `conv1.3`, `.4`, `conv1.6`, `bn1` |
| block j of stage i: conv1..3, their BNs | `layer{i}.{j}.conv1..3`, `.bn1..3` |
| its projection shortcut: conv, BN | `.downsample.0`, `.downsample.1` |
| its ResNet-D shortcut: (pool), conv, BN | `.downsample.1`, `.downsample.2` |
| its squeeze-and-excitation | `.se.fc1`, `.se.fc2` |
| the classifier | `fc` |

Stages are those the recipe's taps `c2`..`c5` close (torchvision's layer1..4).
A conv weight is (out, in, kh, kw) in PyTorch and (kh, kw, in, out) in
Keras; a linear weight (out, in) against (in, out); BN's running mean and
variance are Keras' moving statistics.
"""

from collections.abc import Iterator
from dataclasses import dataclass

import keras
import numpy as np

from registry.errors import WeightsError
from resblocks import (
    AvgDownShortcut,
    BottleNeck,
    Classifier,
    ConvBN,
    DeepStem,
    Network,
    ResBlock,
    ResNetStem,
    ZeroPadShortcut,
)

CONV, LINEAR, VECTOR = "conv", "linear", "vector"
STAGE_TAPS = ("c2", "c3", "c4", "c5")
# Buffers a state dict holds that are not weights.
NOT_WEIGHTS = ("num_batches_tracked",)


@dataclass(frozen=True)
class Slot:
    """One tensor of the file and the variable it goes to.

    Attributes:
        key: the state-dict key, e.g. "layer1.0.conv1.weight".
        variable: the Keras variable.
        where: our layer path, e.g. "conv2_block1/conv1/conv/kernel".
        kind: CONV, LINEAR or VECTOR: how the array is transposed.
        head: bool. Part of the classifier.
        first: bool. The first convolution, which sees the image's channels.
    """

    key: str
    variable: keras.Variable
    where: str
    kind: str
    head: bool = False
    first: bool = False


def to_keras(array: np.ndarray, kind: str) -> np.ndarray:
    """A PyTorch array in Keras' layout."""
    if kind == CONV:
        return np.transpose(array, (2, 3, 1, 0))
    if kind == LINEAR:
        return np.transpose(array)
    return array


def to_torch(array: np.ndarray, kind: str) -> np.ndarray:
    """A Keras array in PyTorch's layout (the inverse of `to_keras`)."""
    if kind == CONV:
        return np.ascontiguousarray(np.transpose(array, (3, 2, 0, 1)))
    if kind == LINEAR:
        return np.ascontiguousarray(np.transpose(array))
    return array


def torch_shape(shape: tuple, kind: str) -> tuple:
    """The PyTorch shape of a Keras variable's shape."""
    if kind == CONV:
        kh, kw, cin, cout = shape
        return (cout, cin, kh, kw)
    if kind == LINEAR:
        return tuple(reversed(shape))
    return tuple(shape)


def torch_slots(model: Network) -> list[Slot]:
    """Every variable of `model` with its torchvision/timm key, in network order.

    Raises:
        WeightsError: a layer that no torchvision or timm ResNet has (a
            pre-activation block, an Inception module, a hidden layer in
            the head), or stages the taps c2..c5 do not mark.
    """
    stem, *blocks = model.body
    slots = list(_stem(stem))
    for (stage, index), block in zip(_stage_indices(model, blocks), blocks):
        slots += _block(block, f"layer{stage}.{index}")
    if model.head is not None:
        slots += _head(model.head)
    return slots


def _stage_indices(model: Network, blocks: list) -> Iterator[tuple[int, int]]:
    ends = [model.taps.get(tap) for tap in STAGE_TAPS]
    if None in ends:
        raise WeightsError(
            f"{model.name} does not mark its four stages with the taps c2..c5, which say where "
            "torchvision's layer1..layer4 end. Add `tap: c2` .. `tap: c5` to the recipe's stages."
        )
    stage, index = 1, 0
    for block in blocks:
        if stage > len(ends):
            raise WeightsError(
                f"{model.name} has a block after its last stage (tap c5): {block.name}, which a "
                "torchvision ResNet does not have."
            )
        yield stage, index
        index += 1
        if block.name == ends[stage - 1]:
            stage, index = stage + 1, 0


def conv_bn_slots(layer: ConvBN, conv: str, bn: str, where: str, first: bool = False) -> list[Slot]:
    """The slots of a ConvBN at our path `where`, from torch's `conv` and `bn` modules."""
    slots = [Slot(f"{conv}.weight", layer.conv.kernel, f"{where}/conv/kernel", CONV, first=first)]
    if layer.conv.use_bias:
        slots.append(Slot(f"{conv}.bias", layer.conv.bias, f"{where}/conv/bias", VECTOR))
    norm = layer.bn
    for torch_name, variable in (
        ("weight", norm.gamma),
        ("bias", norm.beta),
        # A group norm (timm's resnet50_gn) has no running statistics.
        ("running_mean", getattr(norm, "moving_mean", None)),
        ("running_var", getattr(norm, "moving_variance", None)),
    ):
        if variable is not None:
            slots.append(
                Slot(f"{bn}.{torch_name}", variable, f"{where}/bn/{variable.name}", VECTOR)
            )
    return slots


def _stem(stem: keras.layers.Layer) -> list[Slot]:
    if isinstance(stem, DeepStem):
        first, second, third = stem.convs
        return [
            *conv_bn_slots(first, "conv1.0", "conv1.1", f"{stem.name}/{first.name}", first=True),
            *conv_bn_slots(second, "conv1.3", "conv1.4", f"{stem.name}/{second.name}"),
            *conv_bn_slots(third, "conv1.6", "bn1", f"{stem.name}/{third.name}"),
        ]
    if isinstance(stem, ResNetStem):
        return conv_bn_slots(stem.conv, "conv1", "bn1", f"{stem.name}/{stem.conv.name}", first=True)
    raise _unsupported(stem, "stem", "res_net_stem or deep_stem")


def _block(block: keras.layers.Layer, prefix: str) -> list[Slot]:
    if not isinstance(block, (ResBlock, BottleNeck)):
        raise _unsupported(block, "block", "res_block or bottleneck")
    convs = [block.conv1, block.conv2] + ([block.conv3] if isinstance(block, BottleNeck) else [])
    slots = []
    for i, layer in enumerate(convs, start=1):
        slots += conv_bn_slots(
            layer, f"{prefix}.conv{i}", f"{prefix}.bn{i}", f"{block.name}/{layer.name}"
        )
    if block.se is not None:
        for name, conv in (("fc1", block.se.reduce), ("fc2", block.se.expand)):
            where = f"{block.name}/se/{conv.name}"
            slots.append(Slot(f"{prefix}.se.{name}.weight", conv.kernel, f"{where}/kernel", CONV))
            slots.append(Slot(f"{prefix}.se.{name}.bias", conv.bias, f"{where}/bias", VECTOR))
    shortcut, where = block.downsample, f"{block.name}/downsample"
    if isinstance(shortcut, AvgDownShortcut):  # downsample.0 is the pool
        down = (f"{prefix}.downsample.1", f"{prefix}.downsample.2", f"{where}/conv")
        slots += conv_bn_slots(shortcut.conv, *down)
    elif isinstance(shortcut, ConvBN):
        slots += conv_bn_slots(shortcut, f"{prefix}.downsample.0", f"{prefix}.downsample.1", where)
    elif shortcut is not None and not isinstance(shortcut, ZeroPadShortcut):
        raise _unsupported(shortcut, "shortcut", "a projection")
    return slots


def _head(head: keras.layers.Layer) -> list[Slot]:
    if not isinstance(head, Classifier) or head.hidden_units:
        raise WeightsError(
            "torchvision and timm ResNets end in one linear layer `fc`; this head "
            f"({type(head).__name__}, hidden_units={getattr(head, 'hidden_units', None)}) has "
            "others. Build without hidden_units, or with include_top=False and your own head."
        )
    dense = head.predictions
    return [
        Slot("fc.weight", dense.kernel, "head/predictions/kernel", LINEAR, head=True),
        Slot("fc.bias", dense.bias, "head/predictions/bias", VECTOR, head=True),
    ]


def _unsupported(layer: keras.layers.Layer, role: str, supported: str) -> WeightsError:
    return WeightsError(
        f"torchvision and timm ResNets have no {type(layer).__name__} (the {role} "
        f"'{layer.name}'), so their weights have nowhere to go. PyTorch checkpoints load into "
        f"networks of {supported} layers: resnet18, resnet34, resnet50_tv, resnext50_32x4d, ..."
    )


def is_weight(key: str) -> bool:
    """Whether a state-dict key is a weight (not a counter buffer such as num_batches_tracked)."""
    return key.rsplit(".", 1)[-1] not in NOT_WEIGHTS


# (blocks per stage, bottleneck, groups, layer1 width, deep stem's width or None, SE,
#  ResNet-D's average-pool shortcut) -> recipe
BASIC, BOTTLE = False, True
KNOWN = {
    ((2, 2, 2, 2), BASIC, 1, 64, None, False, False): "resnet18",
    ((3, 4, 6, 3), BASIC, 1, 64, None, False, False): "resnet34",
    ((3, 4, 6, 3), BOTTLE, 1, 64, None, False, False): "resnet50_tv",
    ((3, 4, 23, 3), BOTTLE, 1, 64, None, False, False): "resnet101_tv",
    ((3, 8, 36, 3), BOTTLE, 1, 64, None, False, False): "resnet152_tv",
    ((3, 4, 6, 3), BOTTLE, 32, 128, None, False, False): "resnext50_32x4d",
    ((3, 4, 23, 3), BOTTLE, 32, 256, None, False, False): "resnext101_32x8d",
    ((3, 4, 23, 3), BOTTLE, 64, 256, None, False, False): "resnext101_64x4d",
    ((3, 4, 6, 3), BOTTLE, 1, 128, None, False, False): "wide_resnet50_2",
    ((3, 4, 23, 3), BOTTLE, 1, 128, None, False, False): "wide_resnet101_2",
    ((3, 4, 6, 3), BOTTLE, 1, 64, None, True, False): "seresnet50",
    ((3, 4, 6, 3), BOTTLE, 32, 128, None, True, False): "seresnext50_32x4d",
    ((2, 2, 2, 2), BASIC, 1, 64, None, True, False): "seresnet18",
    ((3, 4, 6, 3), BASIC, 1, 64, None, True, False): "seresnet34",
    ((2, 2, 2, 2), BASIC, 1, 64, 32, False, True): "resnet18d",
    ((2, 2, 2, 2), BOTTLE, 1, 64, 32, False, True): "resnet26d",
    ((3, 4, 6, 3), BOTTLE, 1, 64, 32, False, True): "resnet50d",
    ((3, 4, 23, 3), BOTTLE, 1, 64, 32, False, True): "resnet101d",
    ((3, 8, 36, 3), BOTTLE, 1, 64, 32, False, True): "resnet152d",
    ((3, 24, 36, 3), BOTTLE, 1, 64, 32, False, True): "resnet200d",
    ((3, 4, 6, 3), BOTTLE, 1, 64, 32, False, False): "resnet50c",
    ((3, 4, 6, 3), BOTTLE, 1, 64, 64, False, False): "resnet50s",
}


def describe_torch_file(tensors: dict[str, np.ndarray]) -> str:
    """The network a state dict is for, read off its keys: "resnet50_tv (3, 4, 6, 3 ...)"."""
    stages = []
    for stage in range(1, 5):
        blocks = {key.split(".")[1] for key in tensors if key.startswith(f"layer{stage}.")}
        stages.append(len(blocks))
    conv2 = tensors.get("layer1.0.conv2.weight")
    if not all(stages) or conv2 is None or conv2.ndim != 4:
        sample = ", ".join(sorted(tensors)[:4])
        return (
            f"not a torchvision or timm ResNet: its {len(tensors)} tensors do not follow "
            f"layer1..layer4 (first keys: {sample})"
        )
    bottleneck = "layer1.0.conv3.weight" in tensors
    width, per_group = int(conv2.shape[0]), int(conv2.shape[1])
    groups = max(1, width // per_group)
    deep = "conv1.0.weight" in tensors
    stem_width = int(tensors["conv1.0.weight"].shape[0]) if deep else None
    se = "layer1.0.se.fc1.weight" in tensors
    avg_down = any(key.endswith(".downsample.2.weight") for key in tensors)
    classes = tensors["fc.weight"].shape[0] if "fc.weight" in tensors else None
    shape = (
        f"{', '.join(map(str, stages))} {'bottleneck' if bottleneck else 'basic'} blocks, "
        f"{groups} group(s) of {width // groups} in layer1"
        f"{f', deep stem of width {stem_width}' if deep else ''}{', SE' if se else ''}"
        f"{', average-pool shortcuts' if avg_down else ''}"
        f"{f', {classes} classes' if classes else ''}"
    )
    name = KNOWN.get((tuple(stages), bottleneck, groups, width, stem_width, se, avg_down))
    return f"{name} ({shape})" if name else f"a ResNet with {shape}, which no shipped recipe is"
