"""Where each weight of a recipe-built FaceNet sits in a facenet-pytorch state dict.

facenet-pytorch's `models/inception_resnet_v1.py` (`InceptionResnetV1`)
names its modules as TF-slim's FaceNet did; `facenet_inception_resnet_v1`
holds the same layers in the same order:

| ours | facenet-pytorch key |
|---|---|
| stem conv1 .. conv6 (`final_conv: 256`) | `conv2d_1a`, `_2a`, `_2b`, `_3b`, `_4a`, `_4b` |
| `block35_{i}` (`inception_res_block35`) | `repeat_1.{i - 1}` |
| `mixed_6a` (`reduction_a`) | `mixed_6a` |
| `block17_{i}` (`inception_res_block17`) | `repeat_2.{i - 1}` |
| `mixed_7a` (`reduction_b`) | `mixed_7a` |
| `block8_{i}`, with a ReLU after the sum | `repeat_3.{i - 1}` |
| the last `block8`, linear | `block8` |
| a block's branch j, its convolutions in order | `.branch{j}` (one), `.branch{j}.{k}` (several) |
| a residual block's linear 1x1 projection, with bias | `.conv2d` |
| the head (`embedding`): dense, batch norm | `last_linear`, `last_bn` |

Each of facenet-pytorch's `BasicConv2d` is a bias-free conv and an affine
BatchNorm2d: `.conv.weight`, `.bn.weight` (gamma), `.bn.bias`,
`.bn.running_mean`, `.bn.running_var`, hence `bn_scale: true` in the
recipe. The checkpoints also hold `logits.weight` and `logits.bias`, the
classifier over the training identities (8631 for VGGFace2, 10575 for
CASIA-WebFace), which the embedding network does not use: they are left
out of loading (`FACENET_CLASSIFIER`).
"""

import keras

from registry.errors import WeightsError
from registry.pretrained.inception_resnet_layout import (
    block_slots,
    describe_repeats,
    module_prefix,
    stem_slots,
)
from registry.pretrained.torch_layout import LINEAR, VECTOR, Slot
from resblocks import (
    Embedding,
    InceptionResBlock8,
    InceptionResBlock17,
    InceptionResBlock35,
    InceptionResNetStem,
    Network,
    ReductionA,
    ReductionB,
)

STEM_KEYS = ("conv2d_1a", "conv2d_2a", "conv2d_2b", "conv2d_3b", "conv2d_4a", "conv2d_4b")
# The training classifier of facenet-pytorch's files, not part of the embedding network.
FACENET_CLASSIFIER = ("logits.weight", "logits.bias")
HEAD_MODULES = ("last_linear.", "last_bn.")
# Residual blocks, in the order facenet-pytorch's `repeat_1..3` hold them.
REPEATS = {
    InceptionResBlock35: "repeat_1",
    InceptionResBlock17: "repeat_2",
    InceptionResBlock8: "repeat_3",
}
REDUCTIONS = {ReductionA: "mixed_6a", ReductionB: "mixed_7a"}


def is_facenet(model: Network) -> bool:
    """Whether a Network is an Inception-ResNet-V1, whose PyTorch weights are facenet-pytorch's.

    V1's stem convolves where V2's pools (`final_conv`); a V2's PyTorch
    weights are timm's (`timm_inception_layout`).
    """
    stem = model.body[0]
    return isinstance(stem, InceptionResNetStem) and stem.final_conv is not None


def facenet_slots(model: Network) -> list[Slot]:
    """Every variable of `model` with its facenet-pytorch key, in network order.

    Raises:
        WeightsError: a layer facenet-pytorch's InceptionResnetV1 does not
            have (Inception-ResNet-V2's stem or Mixed5b, a classifier head).
    """
    stem, *blocks = model.body
    if stem.final_conv is None:
        raise _unsupported(stem, "stem", "Inception-ResNet-V2's: it pools where V1 convolves")
    slots = stem_slots(stem, [*stem.convs_1, *stem.convs_2, stem.conv_6], STEM_KEYS)
    seen: dict[str, int] = {}
    for block in blocks:
        prefix = module_prefix(block, seen, REDUCTIONS, REPEATS)
        if prefix is None:
            raise _unsupported(block, "block", "an Inception-ResNet-V1 block")
        slots += block_slots(block, prefix)
    if model.head is not None:
        slots += _head(model.head)
    return slots


def _head(head: keras.layers.Layer) -> list[Slot]:
    if not isinstance(head, Embedding) or head.bottleneck is None or head.bn is None:
        raise WeightsError(
            "facenet-pytorch's InceptionResnetV1 ends in `last_linear` and `last_bn`, which go "
            f"to an embedding head with units and batch_norm; this head ({type(head).__name__}) "
            "has no place for them. Build facenet_inception_resnet_v1, or build with "
            "include_top=False and your own head."
        )
    bn = head.bn
    return [
        Slot("last_linear.weight", head.bottleneck.kernel, "head/bottleneck/kernel", LINEAR, True),
        Slot("last_bn.weight", bn.gamma, "head/bn/gamma", VECTOR, True),
        Slot("last_bn.bias", bn.beta, "head/bn/beta", VECTOR, True),
        Slot("last_bn.running_mean", bn.moving_mean, "head/bn/moving_mean", VECTOR, True),
        Slot("last_bn.running_var", bn.moving_variance, "head/bn/moving_variance", VECTOR, True),
    ]


def facenet_skipped(tensors: dict, model: Network) -> list[str]:
    """The file's keys not loaded on purpose: the classifier, and the head for a model without."""
    skipped = [key for key in FACENET_CLASSIFIER if key in tensors]
    if model.head is None:
        skipped += sorted(key for key in tensors if key.startswith(HEAD_MODULES))
    return skipped


def describe_facenet_file(tensors: dict) -> str | None:
    """ "facenet_inception_resnet_v1 (...)" for a facenet-pytorch state dict, else None."""
    if "conv2d_1a.conv.weight" not in tensors:
        return None
    identities = tensors["logits.weight"].shape[0] if "logits.weight" in tensors else None
    shape = describe_repeats(tensors, REPEATS) + (
        f", a classifier of {identities} identities" if identities else ""
    )
    return f"facenet-pytorch's InceptionResnetV1, facenet_inception_resnet_v1 ({shape})"


def _unsupported(layer: keras.layers.Layer, role: str, what: str) -> WeightsError:
    return WeightsError(
        f"facenet-pytorch's InceptionResnetV1 has no {type(layer).__name__} like the {role} "
        f"'{layer.name}' ({what}), so its weights have nowhere to go. facenet-pytorch "
        "checkpoints load into facenet_inception_resnet_v1."
    )
