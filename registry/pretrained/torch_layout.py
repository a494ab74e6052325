"""Where each weight of a recipe-built ResNet sits in a torchvision or timm state dict.

The tables are torchvision's `models/resnet.py` names, which timm's
`resnet.py` keeps and extends:

| ours | torch key |
|---|---|
| stem (`res_net_stem`) conv, BN | `conv1`, `bn1` |
| stem (`deep_stem`) convs, BNs | `conv1.0`, `.1`, `conv1.3`, `.4`, `conv1.6`, `bn1` |
| its `conv_pool` (ResNet-RS): conv, BN | `maxpool.0`, `maxpool.1` |
| block j of stage i: conv1..3, their BNs | `layer{i}.{j}.conv1..3`, `.bn1..3` |
| its projection shortcut: conv, BN | `.downsample.0`, `.downsample.1` |
| its ResNet-D shortcut: (pool), conv, BN | `.downsample.1`, `.downsample.2` |
| its squeeze-and-excitation | `.se.fc1`, `.se.fc2` |
| its efficient channel attention (ECA) | `.se.conv` |
| a Res2Net block's 3x3s | `.convs.{k}`, `.bns.{k}` |
| a ResNeSt block's split attention | `.conv2.conv`, `.bn0`, `.fc1`, `.bn1`, `.fc2` |
| an SK block's ConvBNs | `.conv{n}.conv`, `.conv{n}.bn` |
| SK paths; attention | `.paths.{i}.conv`, `.bn`; `.attn.fc_reduce`, `.bn`, `.fc_select` |
| the classifier | `fc` |

Stages are those the recipe's taps `c2`..`c5` close (torchvision's layer1..4).
A conv weight is (out, in, kh, kw) in PyTorch and (kh, kw, in, out) in
Keras, a 1-d one (out, in, k) against (k, in, out); a linear weight (out,
in) against (in, out); BN's running mean and variance are Keras' moving
statistics.
"""

from collections.abc import Iterator, Sequence
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
    EfficientChannelAttention,
    Network,
    Res2NetBottleneck,
    ResBlock,
    ResNestBottleneck,
    ResNetStem,
    SelectiveKernel,
    SelectiveKernelBlock,
    SelectiveKernelBottleneck,
    ZeroPadShortcut,
)

CONV, CONV1D, LINEAR, VECTOR = "conv", "conv1d", "linear", "vector"
# A classifier that is a 1x1 conv in PyTorch (timm's `ClassifierHead(use_conv=True)`,
# ResNetV2's `head.fc`): (out, in, 1, 1) there, a Dense kernel (in, out) here.
HEAD_CONV = "head_conv"
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
        kind: CONV, CONV1D, LINEAR or VECTOR: how the array is transposed.
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
    if kind == CONV1D:
        return np.transpose(array, (2, 1, 0))
    if kind == LINEAR:
        return np.transpose(array)
    if kind == HEAD_CONV and array.ndim == 4 and array.shape[2:] == (1, 1):
        return np.transpose(array[:, :, 0, 0])
    return array


def to_torch(array: np.ndarray, kind: str) -> np.ndarray:
    """A Keras array in PyTorch's layout (the inverse of `to_keras`)."""
    if kind == CONV:
        return np.ascontiguousarray(np.transpose(array, (3, 2, 0, 1)))
    if kind == CONV1D:
        return np.ascontiguousarray(np.transpose(array, (2, 1, 0)))
    if kind == LINEAR:
        return np.ascontiguousarray(np.transpose(array))
    if kind == HEAD_CONV:
        return np.ascontiguousarray(np.transpose(array))[:, :, None, None]
    return array


def torch_shape(shape: tuple, kind: str) -> tuple:
    """The PyTorch shape of a Keras variable's shape."""
    if kind == CONV:
        kh, kw, cin, cout = shape
        return (cout, cin, kh, kw)
    if kind == CONV1D:
        return tuple(reversed(shape))
    if kind == LINEAR:
        return tuple(reversed(shape))
    if kind == HEAD_CONV:
        return (*reversed(shape), 1, 1)
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
    stages = stage_indices(model, blocks, STAGE_TAPS, "torchvision's layer1..layer4")
    for (stage, index), block in zip(stages, blocks):
        if stage == len(STAGE_TAPS):
            raise WeightsError(
                f"{model.name} has a block after its last stage (tap c5): {block.name}, which a "
                "torchvision ResNet does not have."
            )
        slots += _block(block, f"layer{stage + 1}.{index}")
    if model.head is not None:
        slots += classifier_slots(model.head, "fc", "torchvision and timm ResNets end")
    return slots


def stage_indices(
    model: Network, blocks: list, taps: Sequence[str], stages: str
) -> Iterator[tuple[int, int]]:
    """(stage, index in it) of each body block, stages counted from 0 and closed by `taps`.

    The blocks after the last tap are stage `len(taps)`; `stages` names the
    file's modules the taps mark, for the error when one is missing.
    """
    ends = [model.taps.get(tap) for tap in taps]
    if None in ends:
        raise WeightsError(
            f"{model.name} does not mark its stages with the taps {taps[0]}..{taps[-1]}, which "
            f"say where {stages} end. Add `tap: {taps[0]}` .. `tap: {taps[-1]}` to the recipe's "
            "stages."
        )
    stage, index = 0, 0
    for block in blocks:
        yield stage, index
        index += 1
        if stage < len(ends) and block.name == ends[stage]:
            stage, index = stage + 1, 0


def conv_slots(
    conv: keras.layers.Layer, key: str, where: str, kind: str = CONV, first: bool = False
) -> list[Slot]:
    """The slots of a convolution at our path `where`: torch's `key.weight` (and `key.bias`)."""
    slots = [Slot(f"{key}.weight", conv.kernel, f"{where}/kernel", kind, first=first)]
    if conv.use_bias:
        slots.append(Slot(f"{key}.bias", conv.bias, f"{where}/bias", VECTOR))
    return slots


def conv_bn_slots(layer: ConvBN, conv: str, bn: str, where: str, first: bool = False) -> list[Slot]:
    """The slots of a ConvBN at our path `where`, from torch's `conv` and `bn` modules."""
    return [
        *conv_slots(layer.conv, conv, f"{where}/conv", first=first),
        *bn_slots(layer.bn, bn, f"{where}/bn"),
    ]


def named_conv_bn_slots(
    prefix: str, where: str, named: list[tuple[ConvBN, str, str]]
) -> list[Slot]:
    """The slots of ConvBNs under our path `where`, each (layer, conv, bn) from torch's
    modules `prefix.conv` and `prefix.bn`: a block's table, one row per ConvBN."""
    slots = []
    for layer, conv, bn in named:
        slots += conv_bn_slots(layer, f"{prefix}.{conv}", f"{prefix}.{bn}", f"{where}/{layer.name}")
    return slots


# A norm's variables and their torch names: a BatchNormalization's four; a
# norm without running statistics (a group norm: timm's resnet50_gn, the BiT
# networks) has only the first two; FRN's TLU adds its threshold tau,
# EvoNorm-S0 its gate's v1 (timm's `v`).
NORM_VARIABLES = (
    ("gamma", "weight"),
    ("beta", "bias"),
    ("moving_mean", "running_mean"),
    ("moving_variance", "running_var"),
    ("tau", "tau"),
    ("v1", "v"),
)


def bn_slots(norm: keras.layers.Layer, bn: str, where: str) -> list[Slot]:
    """The slots of a norm (batch, group, FRN, EvoNorm) at our path `where`, from torch's `bn`."""
    return [
        Slot(f"{bn}.{torch_name}", variable, f"{where}/{variable.name}", VECTOR)
        for ours, torch_name in NORM_VARIABLES
        if (variable := getattr(norm, ours, None)) is not None
    ]


def classifier_slots(
    head: keras.layers.Layer, key: str, network: str, kind: str = LINEAR
) -> list[Slot]:
    """The slots of a classifier's one dense layer, from torch's module `key` (`fc`, `head.fc`).

    Raises:
        WeightsError: a head that is not a `Classifier` of one layer; the
            message says that `network` ("timm's ResNetV2 ends") ends in `key`.
    """
    if not isinstance(head, Classifier) or head.hidden_units:
        raise WeightsError(
            f"{network} in one classifier `{key}`; this head ({type(head).__name__}, "
            f"hidden_units={getattr(head, 'hidden_units', None)}) has others. Build without "
            "hidden_units, or with include_top=False and your own head."
        )
    dense = head.predictions
    return [
        Slot(f"{key}.weight", dense.kernel, "head/predictions/kernel", kind, head=True),
        Slot(f"{key}.bias", dense.bias, "head/predictions/bias", VECTOR, head=True),
    ]


def _stem(stem: keras.layers.Layer) -> list[Slot]:
    if isinstance(stem, DeepStem):
        first, second, third = stem.convs
        return [
            *conv_bn_slots(first, "conv1.0", "conv1.1", f"{stem.name}/{first.name}", first=True),
            *conv_bn_slots(second, "conv1.3", "conv1.4", f"{stem.name}/{second.name}"),
            *conv_bn_slots(third, "conv1.6", "bn1", f"{stem.name}/{third.name}"),
            *_stem_pool_conv(stem),
        ]
    if isinstance(stem, ResNetStem):
        return conv_bn_slots(stem.conv, "conv1", "bn1", f"{stem.name}/{stem.conv.name}", first=True)
    raise _unsupported(stem, "stem", "res_net_stem or deep_stem")


def _stem_pool_conv(stem: DeepStem) -> list[Slot]:
    """ResNet-RS's strided conv in place of the max-pool: timm keeps the name `maxpool`."""
    pool = stem.pool_conv
    if pool is None:
        return []
    return conv_bn_slots(pool, "maxpool.0", "maxpool.1", f"{stem.name}/{pool.name}")


def _block(block: keras.layers.Layer, prefix: str) -> list[Slot]:
    """A block's branch (its own table), its channel gate `se` and its shortcut `downsample`."""
    if isinstance(block, Res2NetBottleneck):
        slots = _res2net_branch(block, prefix)
    elif isinstance(block, ResNestBottleneck):
        slots = _resnest_branch(block, prefix)
    elif isinstance(block, (SelectiveKernelBlock, SelectiveKernelBottleneck)):
        slots = _sk_branch(block, prefix)
    elif isinstance(block, (ResBlock, BottleNeck)):  # torchvision's conv{i}, bn{i}
        convs = [block.conv1, block.conv2]
        convs += [block.conv3] if isinstance(block, BottleNeck) else []
        named = [(layer, f"conv{i}", f"bn{i}") for i, layer in enumerate(convs, start=1)]
        slots = named_conv_bn_slots(prefix, block.name, named)
    else:
        raise _unsupported(
            block,
            "block",
            "res_block, bottleneck, res2_net_bottleneck, res_nest_bottleneck or selective_kernel_*",
        )
    se, where = block.se, f"{block.name}/se"
    if isinstance(se, EfficientChannelAttention):  # timm's EcaModule: one Conv1d
        slots += conv_slots(se.conv, f"{prefix}.se.conv", f"{where}/conv", CONV1D)
    elif se is not None:  # timm's SEModule: fc1, fc2, 1x1 convolutions with bias
        slots += conv_slots(se.reduce, f"{prefix}.se.fc1", f"{where}/{se.reduce.name}")
        slots += conv_slots(se.expand, f"{prefix}.se.fc2", f"{where}/{se.expand.name}")
    shortcut, where = block.downsample, f"{block.name}/downsample"
    if isinstance(shortcut, AvgDownShortcut):  # downsample.0 is the pool
        down = (f"{prefix}.downsample.1", f"{prefix}.downsample.2", f"{where}/conv")
        slots += conv_bn_slots(shortcut.conv, *down)
    elif isinstance(shortcut, ConvBN):
        slots += conv_bn_slots(shortcut, f"{prefix}.downsample.0", f"{prefix}.downsample.1", where)
    elif shortcut is not None and not isinstance(shortcut, ZeroPadShortcut):
        raise _unsupported(shortcut, "shortcut", "a projection")
    return slots


def _res2net_branch(block: Res2NetBottleneck, prefix: str) -> list[Slot]:
    """timm's `Bottle2neck`: conv1/bn1, the 3x3s as `convs.i`/`bns.i`, conv3/bn3."""
    named = [(block.conv1, "conv1", "bn1")]
    named += [(conv, f"convs.{i}", f"bns.{i}") for i, conv in enumerate(block.convs)]
    named.append((block.conv3, "conv3", "bn3"))
    return named_conv_bn_slots(prefix, block.name, named)


def _resnest_branch(block: ResNestBottleneck, prefix: str) -> list[Slot]:
    """timm's `ResNestBottleneck`: conv1/bn1, `conv2` a `SplitAttn`, conv3/bn3."""
    split, key, where = block.conv2, f"{prefix}.conv2", f"{block.name}/{block.conv2.name}"
    return [
        *named_conv_bn_slots(prefix, block.name, [(block.conv1, "conv1", "bn1")]),
        *conv_bn_slots(split.conv, f"{key}.conv", f"{key}.bn0", f"{where}/conv"),
        *conv_slots(split.fc1, f"{key}.fc1", f"{where}/fc1"),
        *bn_slots(split.bn1, f"{key}.bn1", f"{where}/bn1"),
        *conv_slots(split.fc2, f"{key}.fc2", f"{where}/fc2"),
        *named_conv_bn_slots(prefix, block.name, [(block.conv3, "conv3", "bn3")]),
    ]


def _sk_branch(block: keras.layers.Layer, prefix: str) -> list[Slot]:
    """timm's `SelectiveKernelBasic`/`Bottleneck`: `ConvNormAct`s (`.conv`, `.bn`), the SK unit."""
    slots = []
    for layer in block.branch():
        if isinstance(layer, SelectiveKernel):
            slots += _selective_kernel(
                layer, f"{prefix}.{layer.name}", f"{block.name}/{layer.name}"
            )
        else:
            slots += named_conv_bn_slots(
                prefix, block.name, [(layer, f"{layer.name}.conv", f"{layer.name}.bn")]
            )
    return slots


def _selective_kernel(unit: SelectiveKernel, key: str, where: str) -> list[Slot]:
    """timm's `SelectiveKernel`: `paths.{i}` ConvNormActs, `attn` (fc_reduce, bn, fc_select)."""
    named = [(path, f"paths.{i}.conv", f"paths.{i}.bn") for i, path in enumerate(unit.branches)]
    return [
        *named_conv_bn_slots(key, where, named),
        *conv_slots(unit.fc_reduce, f"{key}.attn.fc_reduce", f"{where}/fc_reduce"),
        *conv_slots(unit.fc_select, f"{key}.attn.fc_select", f"{where}/fc_select"),
        *bn_slots(unit.bn, f"{key}.attn.bn", f"{where}/bn"),
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
    # other depths, widths and SE of the layouts above
    ((2, 2, 2, 2), BOTTLE, 1, 64, None, False, False): "resnet26",
    ((3, 4, 6, 3), BASIC, 1, 64, 32, False, True): "resnet34d",
    ((3, 4, 23, 3), BOTTLE, 1, 64, 32, False, False): "resnet101c",
    ((3, 8, 36, 3), BOTTLE, 1, 64, 32, False, False): "resnet152c",
    ((3, 4, 23, 3), BOTTLE, 1, 64, 64, False, False): "resnet101s",
    ((3, 8, 36, 3), BOTTLE, 1, 64, 64, False, False): "resnet152s",
    ((3, 24, 36, 3), BOTTLE, 1, 64, None, False, False): "resnet200",
    ((3, 4, 6, 3), BOTTLE, 32, 128, 32, False, True): "resnext50d_32x4d",
    ((3, 4, 23, 3), BOTTLE, 32, 128, None, False, False): "resnext101_32x4d",
    ((3, 4, 23, 3), BOTTLE, 32, 512, None, False, False): "resnext101_32x16d",
    ((3, 4, 23, 3), BOTTLE, 32, 1024, None, False, False): "resnext101_32x32d",
    ((3, 4, 23, 3), BOTTLE, 1, 64, None, True, False): "seresnet101",
    ((3, 8, 36, 3), BOTTLE, 1, 64, None, True, False): "seresnet152",
    ((3, 8, 36, 3), BOTTLE, 1, 64, 32, True, True): "seresnet152d",
    ((3, 24, 36, 3), BOTTLE, 1, 64, 32, True, True): "seresnet200d",
    ((3, 30, 48, 8), BOTTLE, 1, 64, 32, True, True): "seresnet269d",
    ((2, 2, 2, 2), BOTTLE, 32, 128, 32, True, True): "seresnext26d_32x4d",
    ((3, 4, 23, 3), BOTTLE, 32, 128, None, True, False): "seresnext101_32x4d",
    ((3, 4, 23, 3), BOTTLE, 32, 256, None, True, False): "seresnext101_32x8d",
    ((3, 4, 23, 3), BOTTLE, 64, 256, None, True, False): "seresnext101_64x4d",
    ((3, 4, 23, 3), BOTTLE, 32, 256, 32, True, True): "seresnext101d_32x8d",
    # timm's tiered deep stem: its first convolution 24 wide
    ((1, 1, 1, 1), BASIC, 1, 64, 24, False, True): "resnet10t",
    ((1, 1, 1, 1), BOTTLE, 1, 64, 24, False, True): "resnet14t",
    ((2, 2, 2, 2), BOTTLE, 1, 64, 24, False, True): "resnet26t",
    ((3, 4, 6, 3), BOTTLE, 1, 64, 24, False, True): "resnet50t",
    ((3, 4, 6, 3), BOTTLE, 1, 64, 24, True, True): "seresnet50t",
    ((2, 2, 2, 2), BOTTLE, 32, 128, 24, True, True): "seresnext26t_32x4d",
}
# The same, for the files whose stem pools with a strided convolution (`maxpool.0`): ResNet-RS.
KNOWN_CONV_POOL = {
    ((3, 4, 6, 3), BOTTLE, 1, 64, 32, True, True): "resnetrs50",
    ((3, 4, 23, 3), BOTTLE, 1, 64, 32, True, True): "resnetrs101",
    ((3, 8, 36, 3), BOTTLE, 1, 64, 32, True, True): "resnetrs152",
    ((3, 24, 36, 3), BOTTLE, 1, 64, 32, True, True): "resnetrs200",
    ((4, 29, 53, 4), BOTTLE, 1, 64, 32, True, True): "resnetrs270",
    ((4, 36, 72, 4), BOTTLE, 1, 64, 32, True, True): "resnetrs350",
    ((4, 44, 87, 4), BOTTLE, 1, 64, 32, True, True): "resnetrs420",
}


def count_modules(tensors: dict, prefix: str) -> int:
    """How many numbered modules a state dict holds under `prefix` ("layer1." -> its blocks)."""
    return len({key[len(prefix) :].split(".")[0] for key in tensors if key.startswith(prefix)})


def describe_torch_file(tensors: dict[str, np.ndarray]) -> str:
    """The network a state dict is for, read off its keys: "resnet50_tv (3, 4, 6, 3 ...)"."""
    stages = [count_modules(tensors, f"layer{stage}.") for stage in range(1, 5)]
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
    conv_pool = "maxpool.0.weight" in tensors
    classes = tensors["fc.weight"].shape[0] if "fc.weight" in tensors else None
    shape = (
        f"{', '.join(map(str, stages))} {'bottleneck' if bottleneck else 'basic'} blocks, "
        f"{groups} group(s) of {width // groups} in layer1"
        f"{f', deep stem of width {stem_width}' if deep else ''}{', SE' if se else ''}"
        f"{', average-pool shortcuts' if avg_down else ''}"
        f"{', a strided convolution for the stem pool' if conv_pool else ''}"
        f"{f', {classes} classes' if classes else ''}"
    )
    known = KNOWN_CONV_POOL if conv_pool else KNOWN
    name = known.get((tuple(stages), bottleneck, groups, width, stem_width, se, avg_down))
    return f"{name} ({shape})" if name else f"a ResNet with {shape}, which no shipped recipe is"
