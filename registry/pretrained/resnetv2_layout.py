"""Where each weight of a recipe-built pre-activation ResNet sits in a timm ResNetV2 state dict.

timm's `models/resnetv2.py` (`ResNetV2`: `resnetv2_50`, `resnetv2_50d`, the
BiT networks, ...) names its modules so:

| ours | timm key |
|---|---|
| stem (`pre_act_stem`) conv | `stem.conv` |
| deep stem (`pre_activation`) | `stem.conv1`, `.norm1`, `.conv2`, `.norm2`, `.conv3` |
| block j of stage i: its pre-activation (`preact_bn`) | `stages.{i}.blocks.{j}.norm1` |
| its `ConvBN`s conv1, conv2: conv, the norm after it | `.conv1`, `.norm2`; `.conv2`, `.norm3` |
| its last conv (conv2 of a basic block, conv3 of a bottleneck) | `.conv2` / `.conv3` |
| its projection shortcut (after the pool with `avg_down`) | `.downsample.conv` |
| the norm after the last block (`post_norm`) | `norm` |
| a norm's gamma, beta; FRN's tau; EvoNorm-S0's v1 | `.weight`, `.bias`; `.tau`; `.v` |
| the classifier: a 1x1 conv in timm, a Dense here | `head.fc` |

Stages are those the recipe's taps `c2`..`c4` close (timm's `stages.0..2`);
the blocks after c4 are `stages.3`. timm's ResNetV2 has no convolution
biases, strides in the first block of a stage and projects the
pre-activated input there: keras.applications' ResNet-V2 (`resnet50v2`) is
another layout (the stride on a stage's last block, whose shortcut
subsamples, and biases), which this refuses, saying so.
"""

from collections.abc import Iterator

import keras

from registry.errors import WeightsError
from registry.pretrained.torch_layout import CONV, HEAD_CONV, VECTOR, Slot
from resblocks import (
    AvgDownShortcut,
    Classifier,
    DeepStem,
    Network,
    PostNorm,
    PreActBottleNeck,
    PreActResBlock,
    PreActStem,
    ZeroPadShortcut,
)

PRE_ACTIVATION_BLOCKS = (PreActResBlock, PreActBottleNeck)
STAGE_TAPS = ("c2", "c3", "c4")
# A norm's variables and their torch names: a BatchNormalization's four; a
# norm without running statistics (GroupNorm) has only the first two; FRN's
# TLU adds its threshold tau, EvoNorm-S0 its gate's v1 (timm's `v`).
NORM_VARIABLES = (
    ("gamma", "weight"),
    ("beta", "bias"),
    ("moving_mean", "running_mean"),
    ("moving_variance", "running_var"),
    ("tau", "tau"),
    ("v1", "v"),
)


# The classifier of timm's ResNetV2: a 1x1 convolution after the pool.
RESNETV2_CLASSIFIER = ("head.fc.weight", "head.fc.bias")


def is_resnetv2(model: Network) -> bool:
    """Whether a Network is a pre-activation ResNet, whose PyTorch weights are timm's ResNetV2's."""
    return any(isinstance(layer, PRE_ACTIVATION_BLOCKS) for layer in model.body)


def resnetv2_slots(model: Network) -> list[Slot]:
    """Every variable of `model` with its timm ResNetV2 key, in network order.

    Raises:
        WeightsError: a layer timm's ResNetV2 does not have, or
            keras.applications' ResNet-V2 layout (`resnet50v2`).
    """
    stem, *blocks = model.body
    _check_timm_layout(model, blocks)
    slots = _stem(stem)
    for (stage, index), block in zip(_stage_indices(model, blocks), blocks):
        if isinstance(block, PostNorm):
            slots += norm_slots(block.bn, "norm", f"{block.name}/bn")
            continue
        slots += _block(block, f"stages.{stage}.blocks.{index}")
    if model.head is not None:
        slots += _head(model.head)
    return slots


def norm_slots(norm: keras.layers.Layer, key: str, where: str) -> list[Slot]:
    """The slots of a normalization layer (batch, group norm, FRN, EvoNorm) from torch's `key`."""
    slots = []
    for ours, theirs in NORM_VARIABLES:
        variable = getattr(norm, ours, None)
        if variable is not None:
            slots.append(Slot(f"{key}.{theirs}", variable, f"{where}/{variable.name}", VECTOR))
    return slots


def conv_slots(conv: keras.layers.Layer, key: str, where: str, first: bool = False) -> list[Slot]:
    """The slots of a convolution (timm's have no bias) from torch's module `key`."""
    return [Slot(f"{key}.weight", conv.kernel, f"{where}/kernel", CONV, first=first)]


def _check_timm_layout(model: Network, blocks: list) -> None:
    """Refuses what timm's ResNetV2 has not: biases, subsampling shortcuts, strides after a
    stage's first block (keras.applications' ResNet-V2), and foreign layers."""
    keras_layout = any(
        isinstance(block, PRE_ACTIVATION_BLOCKS)
        and (block.use_bias or block.stride_shortcut == "subsample")
        for block in blocks
    ) or (isinstance(model.body[0], PreActStem) and model.body[0].use_bias)
    if keras_layout:
        raise WeightsError(
            f"{model.name} is keras.applications' ResNet-V2 layout (convolution biases, the "
            "stride on a stage's last block, whose shortcut subsamples), which is not timm's "
            "ResNetV2 (no biases, the stride and a projection in a stage's first block): "
            "timm's weights have nowhere to go. Its own weights are keras.applications' "
            "(`weights='imagenet'`); for a timm file build timm's layout, e.g. `resnetv2_50` "
            "(`timm/resnetv2_50`)."
        )
    for block in blocks:
        if not isinstance(block, (*PRE_ACTIVATION_BLOCKS, PostNorm)):
            raise _unsupported(block, "block")
        shortcut = getattr(block, "downsample", None)
        if isinstance(shortcut, ZeroPadShortcut):
            raise _unsupported(shortcut, "shortcut")
        if isinstance(shortcut, AvgDownShortcut) and shortcut.batch_norm:
            raise _unsupported(shortcut, "shortcut")


def _stage_indices(model: Network, blocks: list) -> Iterator[tuple[int, int]]:
    ends = [model.taps.get(tap) for tap in STAGE_TAPS]
    if None in ends:
        raise WeightsError(
            f"{model.name} does not mark its stages with the taps c2..c4, which say where "
            "timm's stages.0..stages.2 end. Add `tap: c2` .. `tap: c4` to the recipe's stages."
        )
    stage, index = 0, 0
    for block in blocks:
        yield stage, index
        index += 1
        if stage < len(ends) and block.name == ends[stage]:
            stage, index = stage + 1, 0


def _stem(stem: keras.layers.Layer) -> list[Slot]:
    if isinstance(stem, PreActStem):
        return conv_slots(stem.conv, "stem.conv", f"{stem.name}/conv", first=True)
    if isinstance(stem, DeepStem) and stem.pre_activation:
        first, second, third = stem.convs
        return [
            *conv_slots(first.conv, "stem.conv1", f"{stem.name}/conv1/conv", first=True),
            *norm_slots(first.bn, "stem.norm1", f"{stem.name}/conv1/bn"),
            *conv_slots(second.conv, "stem.conv2", f"{stem.name}/conv2/conv"),
            *norm_slots(second.bn, "stem.norm2", f"{stem.name}/conv2/bn"),
            *conv_slots(third, "stem.conv3", f"{stem.name}/conv3"),
        ]
    raise _unsupported(stem, "stem")


def _block(block: keras.layers.Layer, prefix: str) -> list[Slot]:
    where = block.name
    slots = norm_slots(block.preact_bn, f"{prefix}.norm1", f"{where}/preact_bn")
    if isinstance(block, PreActBottleNeck):
        inner, last = [block.conv1, block.conv2], ("conv3", block.conv3)
    else:
        inner, last = [block.conv1], ("conv2", block.conv2)
    for i, layer in enumerate(inner, start=1):
        slots += conv_slots(layer.conv, f"{prefix}.conv{i}", f"{where}/{layer.name}/conv")
        slots += norm_slots(layer.bn, f"{prefix}.norm{i + 1}", f"{where}/{layer.name}/bn")
    slots += conv_slots(last[1], f"{prefix}.{last[0]}", f"{where}/{last[1].name}")
    shortcut = block.downsample
    if isinstance(shortcut, AvgDownShortcut):
        slots += conv_slots(shortcut.conv, f"{prefix}.downsample.conv", f"{where}/downsample/conv")
    elif shortcut is not None:
        slots += conv_slots(shortcut, f"{prefix}.downsample.conv", f"{where}/downsample")
    return slots


def _head(head: keras.layers.Layer) -> list[Slot]:
    if not isinstance(head, Classifier) or head.hidden_units:
        raise WeightsError(
            "timm's ResNetV2 ends in one classifier `head.fc` (a 1x1 conv); this head "
            f"({type(head).__name__}, hidden_units={getattr(head, 'hidden_units', None)}) has "
            "others. Build without hidden_units, or with include_top=False and your own head."
        )
    dense = head.predictions
    return [
        Slot("head.fc.weight", dense.kernel, "head/predictions/kernel", HEAD_CONV, head=True),
        Slot("head.fc.bias", dense.bias, "head/predictions/bias", VECTOR, head=True),
    ]


def _unsupported(layer: keras.layers.Layer, role: str) -> WeightsError:
    return WeightsError(
        f"timm's ResNetV2 has no {type(layer).__name__} (the {role} '{layer.name}'), so its "
        "weights have nowhere to go. timm's ResNetV2 checkpoints load into networks of "
        "pre_act_stem (or deep_stem with pre_activation), pre_act_res_block or "
        "pre_act_bottle_neck blocks and a post_norm: resnetv2_18, resnetv2_50, resnetv2_50d, ..."
    )


def describe_resnetv2_file(tensors: dict) -> str | None:
    """The network a timm ResNetV2 state dict is for, read off its keys; None if not one."""
    if "stem.conv.weight" not in tensors and "stem.conv1.weight" not in tensors:
        return None
    stages = []
    for stage in range(4):
        blocks = {key.split(".")[3] for key in tensors if key.startswith(f"stages.{stage}.blocks.")}
        stages.append(len(blocks))
    bottleneck = "stages.0.blocks.0.conv3.weight" in tensors
    deep = "stem.conv1.weight" in tensors
    classes = tensors["head.fc.weight"].shape[0] if "head.fc.weight" in tensors else None
    return (
        f"timm's ResNetV2 with {', '.join(map(str, stages))} "
        f"{'bottleneck' if bottleneck else 'basic'} blocks"
        f"{', the deep stem' if deep else ''}"
        f"{f', {classes} classes' if classes else ''} (a recipe resnetv2_*)"
    )
