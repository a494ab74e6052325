"""Where each weight of a recipe-built byobnet ResNet sits in a timm `byobnet.py` state dict.

timm builds `gcresnet50t` with its "bring your own blocks" network
(`models/byobnet.py`), not `resnet.py`: the same bottlenecks under other
names, every conv-BN a `ConvNormAct` (`.conv`, `.bn`). The recipe tells
itself apart by its stem, whose third convolution strides in place of a pool
(`deep_stem` with `stride_last`), which only byobnet's stem without a pool
has.

| ours | timm byobnet.py |
|---|---|
| stem (`deep_stem`) conv1..3 | `stem.conv1..3` |
| block j of stage i: conv1, conv2, conv3 | `stages.{i}.{j}.conv1_1x1`, `.conv2_kxk`, `.conv3_1x1` |
| its projection shortcut | `.shortcut` |
| its global context (`attn`) | `.attn.conv_attn`, `.attn.mlp_add.fc1`, `.norm`, `.fc2` |
| the classifier | `head.fc` |

Stages are those the recipe's taps `c2`..`c5` close, as in `torch_layout`.
"""

from registry.errors import WeightsError
from registry.pretrained.torch_layout import (
    STAGE_TAPS,
    Slot,
    bn_slots,
    classifier_slots,
    conv_bn_slots,
    conv_slots,
    count_modules,
    named_conv_bn_slots,
    stage_indices,
)
from resblocks import BottleNeck, ConvBN, DeepStem, GlobalContext, Network

BYOBNET_CLASSIFIER = ("head.fc.weight", "head.fc.bias")
NETWORK = "timm's byobnet.py networks (gcresnet50t)"
# (blocks per stage, groups of the 3x3, attention) -> recipe
KNOWN = {((3, 4, 6, 3), 1, "gc"): "gcresnet50t"}


def is_byobnet(model: Network) -> bool:
    """Whether a Network is a byobnet ResNet: a deep stem that strides its third conv."""
    stem = model.body[0]
    return isinstance(stem, DeepStem) and stem.stride_last


def byobnet_slots(model: Network) -> list[Slot]:
    """Every variable of `model` with its timm `byobnet.py` key, in network order.

    Raises:
        WeightsError: a block other than a bottleneck with a 1x1 projection
            and global context or no gate (what gcresnet50t has), a block
            after the last stage, or stages the taps c2..c5 do not mark.
    """
    stem, *blocks = model.body
    slots = []
    for i, conv in enumerate(stem.convs, start=1):
        key, where = f"stem.conv{i}", f"{stem.name}/{conv.name}"
        slots += conv_bn_slots(conv, f"{key}.conv", f"{key}.bn", where, first=i == 1)
    stages = stage_indices(model, blocks, STAGE_TAPS, "byobnet's stages.0..stages.3")
    for (stage, index), block in zip(stages, blocks):
        if stage == len(STAGE_TAPS) or not isinstance(block, BottleNeck) or block.se is not None:
            raise _unsupported(block)
        slots += _block(block, f"stages.{stage}.{index}")
    if model.head is not None:
        slots += classifier_slots(model.head, "head.fc", f"{NETWORK} end")
    return slots


def _block(block: BottleNeck, prefix: str) -> list[Slot]:
    """byobnet's `BottleneckBlock`: three ConvNormActs, `attn` after the 3x3, `shortcut`."""
    named = [
        (block.conv1, "conv1_1x1.conv", "conv1_1x1.bn"),
        (block.conv2, "conv2_kxk.conv", "conv2_kxk.bn"),
        (block.conv3, "conv3_1x1.conv", "conv3_1x1.bn"),
    ]
    slots = named_conv_bn_slots(prefix, block.name, named)
    gc, key, where = block.attn, f"{prefix}.attn", f"{block.name}/attn"
    if isinstance(gc, GlobalContext):  # timm's GlobalContext(fuse_add=True, fuse_scale=False)
        slots += conv_slots(gc.context, f"{key}.conv_attn", f"{where}/context")
        slots += conv_slots(gc.reduce, f"{key}.mlp_add.fc1", f"{where}/reduce")
        slots += bn_slots(gc.norm, f"{key}.mlp_add.norm", f"{where}/norm")
        slots += conv_slots(gc.expand, f"{key}.mlp_add.fc2", f"{where}/expand")
    elif gc is not None:
        raise _unsupported(block)
    shortcut = block.downsample
    if isinstance(shortcut, ConvBN):
        where = f"{block.name}/downsample"
        slots += conv_bn_slots(shortcut, f"{prefix}.shortcut.conv", f"{prefix}.shortcut.bn", where)
    elif shortcut is not None:
        raise _unsupported(block)
    return slots


def _unsupported(block) -> WeightsError:
    return WeightsError(
        f"{NETWORK} have bottlenecks with a 1x1 projection shortcut and a global context block "
        f"after the 3x3 (attention: gc, attention_at: 3x3) in four stages tapped c2..c5; the "
        f"block '{block.name}' ({type(block).__name__}) is not one, so the weights have nowhere "
        "to go. Load byobnet files into the recipe gcresnet50t."
    )


def describe_byobnet_file(tensors: dict) -> str | None:
    """ "timm's byobnet layout (byobnet.py), recipe gcresnet50t (...)" for its files, else None."""
    if "stem.conv1.conv.weight" not in tensors or "stages.0.0.conv1_1x1.conv.weight" not in tensors:
        return None
    stages = tuple(count_modules(tensors, f"stages.{stage}.") for stage in range(4))
    conv2 = tensors.get("stages.0.0.conv2_kxk.conv.weight")
    groups = int(conv2.shape[0] // conv2.shape[1]) if conv2 is not None and conv2.ndim == 4 else 1
    attention = (
        "gc"
        if "stages.0.0.attn.conv_attn.weight" in tensors
        else ("another gate" if any(".attn." in key for key in tensors) else None)
    )
    classes = tensors["head.fc.weight"].shape[0] if "head.fc.weight" in tensors else None
    shape = (
        f"{', '.join(map(str, stages))} bottleneck blocks, {groups} group(s)"
        f"{f', attention {attention}' if attention else ''}"
        f"{f', {classes} classes' if classes else ''}"
    )
    name = KNOWN.get((stages, groups, attention))
    what = f"recipe {name}" if name else "which no shipped recipe is"
    return f"timm's byobnet layout (byobnet.py), {what} ({shape})"
