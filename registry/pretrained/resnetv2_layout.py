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

import keras

from registry.errors import WeightsError
from registry.pretrained.torch_layout import (
    HEAD_CONV,
    Slot,
    bn_slots,
    classifier_slots,
    conv_slots,
    count_modules,
    stage_indices,
)
from resblocks import (
    AvgDownShortcut,
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
    stages = stage_indices(model, blocks, STAGE_TAPS, "timm's stages.0..stages.2")
    for (stage, index), block in zip(stages, blocks):
        if isinstance(block, PostNorm):
            slots += bn_slots(block.bn, "norm", f"{block.name}/bn")
            continue
        slots += _block(block, f"stages.{stage}.blocks.{index}")
    if model.head is not None:
        slots += classifier_slots(model.head, "head.fc", "timm's ResNetV2 ends", HEAD_CONV)
    return slots


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


def _stem(stem: keras.layers.Layer) -> list[Slot]:
    if isinstance(stem, PreActStem):
        return conv_slots(stem.conv, "stem.conv", f"{stem.name}/conv", first=True)
    if isinstance(stem, DeepStem) and stem.pre_activation:
        first, second, third = stem.convs
        return [
            *conv_slots(first.conv, "stem.conv1", f"{stem.name}/conv1/conv", first=True),
            *bn_slots(first.bn, "stem.norm1", f"{stem.name}/conv1/bn"),
            *conv_slots(second.conv, "stem.conv2", f"{stem.name}/conv2/conv"),
            *bn_slots(second.bn, "stem.norm2", f"{stem.name}/conv2/bn"),
            *conv_slots(third, "stem.conv3", f"{stem.name}/conv3"),
        ]
    raise _unsupported(stem, "stem")


def _block(block: keras.layers.Layer, prefix: str) -> list[Slot]:
    where = block.name
    slots = bn_slots(block.preact_bn, f"{prefix}.norm1", f"{where}/preact_bn")
    if isinstance(block, PreActBottleNeck):
        inner, last = [block.conv1, block.conv2], ("conv3", block.conv3)
    else:
        inner, last = [block.conv1], ("conv2", block.conv2)
    for i, layer in enumerate(inner, start=1):
        slots += conv_slots(layer.conv, f"{prefix}.conv{i}", f"{where}/{layer.name}/conv")
        slots += bn_slots(layer.bn, f"{prefix}.norm{i + 1}", f"{where}/{layer.name}/bn")
    slots += conv_slots(last[1], f"{prefix}.{last[0]}", f"{where}/{last[1].name}")
    shortcut = block.downsample
    if isinstance(shortcut, AvgDownShortcut):
        slots += conv_slots(shortcut.conv, f"{prefix}.downsample.conv", f"{where}/downsample/conv")
    elif shortcut is not None:
        slots += conv_slots(shortcut, f"{prefix}.downsample.conv", f"{where}/downsample")
    return slots


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
    stages = [count_modules(tensors, f"stages.{stage}.blocks.") for stage in range(4)]
    bottleneck = "stages.0.blocks.0.conv3.weight" in tensors
    deep = "stem.conv1.weight" in tensors
    classes = tensors["head.fc.weight"].shape[0] if "head.fc.weight" in tensors else None
    return (
        f"timm's ResNetV2 with {', '.join(map(str, stages))} "
        f"{'bottleneck' if bottleneck else 'basic'} blocks"
        f"{', the deep stem' if deep else ''}"
        f"{f', {classes} classes' if classes else ''} (a recipe resnetv2_*)"
    )
