"""Where each weight of a recipe-built Inception-ResNet-V2 sits in a timm state dict.

timm's `models/inception_resnet_v2.py` (`InceptionResnetV2`, Cadene's port
of TF-slim's network) names its modules as TF-slim did, and holds
keras.applications' layers in the same order, so `inception_resnet_v2_timm`
(the V2 recipe with batch norms that learn their scale) takes its files:

| ours | timm key |
|---|---|
| stem conv1 .. conv5 | `conv2d_1a`, `_2a`, `_2b`, `_3b`, `_4a` |
| `mixed_5b` (`mixed5b`) | `mixed_5b` (branch3 pools first: `branch3.1`) |
| `block35_{i}` | `repeat.{i - 1}` |
| `mixed_6a` (`reduction_a`) | `mixed_6a` |
| `block17_{i}` | `repeat_1.{i - 1}` |
| `mixed_7a` (`reduction_b`) | `mixed_7a` |
| `block8_{i}`, with a ReLU after the sum | `repeat_2.{i - 1}` |
| the last `block8`, linear | `block8` |
| `conv_7b` | `conv2d_7b` |
| a block's branches, its linear 1x1 with bias | `.branch{j}[.{k}]`, `.conv2d` (as facenet's) |
| the classifier | `classif` |

Each of timm's `ConvNormAct` is a bias-free conv and an affine BatchNorm2d
(epsilon 1e-3): `.conv.weight`, `.bn.weight` (gamma), `.bn.bias`,
`.bn.running_mean`, `.bn.running_var`. keras.applications' recipe
`inception_resnet_v2` has no gamma, so a timm file does not fit it: the
loader names the missing scale and `inception_resnet_v2_timm`.
"""

import keras

from registry.errors import WeightsError
from registry.pretrained.inception_resnet_layout import (
    block_slots,
    describe_repeats,
    module_prefix,
    stem_slots,
)
from registry.pretrained.torch_layout import (
    Slot,
    classifier_slots,
    conv_bn_slots,
)
from resblocks import (
    ConvBN,
    InceptionResBlock8,
    InceptionResBlock17,
    InceptionResBlock35,
    InceptionResNetStem,
    Mixed5b,
    Network,
    ReductionA,
    ReductionB,
)

STEM_KEYS = ("conv2d_1a", "conv2d_2a", "conv2d_2b", "conv2d_3b", "conv2d_4a")
INCEPTION_CLASSIFIER = ("classif.weight", "classif.bias")
# Residual blocks, in the order timm's `repeat`, `repeat_1` and `repeat_2` hold them.
REPEATS = {
    InceptionResBlock35: "repeat",
    InceptionResBlock17: "repeat_1",
    InceptionResBlock8: "repeat_2",
}
MODULES = {Mixed5b: "mixed_5b", ReductionA: "mixed_6a", ReductionB: "mixed_7a"}


def is_timm_inception(model: Network) -> bool:
    """Whether a Network is an Inception-ResNet-V2 (its stem pools twice), timm's layout."""
    stem = model.body[0]
    return isinstance(stem, InceptionResNetStem) and stem.final_conv is None


def timm_inception_slots(model: Network) -> list[Slot]:
    """Every variable of `model` with its timm `inception_resnet_v2` key, in network order.

    Raises:
        WeightsError: a layer timm's InceptionResnetV2 does not have (a V1
            block, a second 1x1 after the body, a head with hidden layers).
    """
    stem, *blocks = model.body
    slots = stem_slots(stem, [*stem.convs_1, *stem.convs_2], STEM_KEYS)
    seen: dict[str, int] = {}
    for block in blocks:
        if isinstance(block, ConvBN):
            if "conv2d_7b" in seen:
                raise _unsupported(block, "convolution", "one 1x1 convolution after the body")
            seen["conv2d_7b"] = 1
            slots += conv_bn_slots(block, "conv2d_7b.conv", "conv2d_7b.bn", block.name)
            continue
        prefix = module_prefix(block, seen, MODULES, REPEATS)
        if prefix is None:
            raise _unsupported(block, "block", "an Inception-ResNet-V2 module")
        slots += block_slots(block, prefix)
    if model.head is not None:
        slots += classifier_slots(model.head, "classif", "timm's InceptionResnetV2 ends")
    return slots


def describe_timm_inception_file(tensors: dict) -> str | None:
    """ "timm's inception_resnet_v2 (...)" for a timm Inception-ResNet-V2 state dict, else None."""
    if "mixed_5b.branch0.conv.weight" not in tensors:
        return None
    classes = tensors["classif.weight"].shape[0] if "classif.weight" in tensors else None
    shape = describe_repeats(tensors, REPEATS) + (f", {classes} classes" if classes else "")
    return f"timm's inception_resnet_v2, recipe inception_resnet_v2_timm ({shape})"


def _unsupported(layer: keras.layers.Layer, role: str, what: str) -> WeightsError:
    return WeightsError(
        f"timm's InceptionResnetV2 has no {type(layer).__name__} like the {role} "
        f"'{layer.name}' ({what}), so its weights have nowhere to go. timm's "
        "inception_resnet_v2 checkpoints load into inception_resnet_v2_timm."
    )
