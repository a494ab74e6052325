"""What facenet-pytorch's and timm's Inception-ResNets name alike: stem, branches, repeats.

Both ports (facenet-pytorch's `InceptionResnetV1`, timm's
`InceptionResnetV2`, each after Cadene's) name their modules as TF-slim
did: the stem's convolutions by their position (`conv2d_1a`, ...), a
residual block as the next of its `repeat*` list (the last Block8, the
linear one, is `block8`), a block's branch j as `.branch{j}[.{k}]`, its
linear 1x1 projection as `.conv2d`, and each conv-BN as `.conv`, `.bn`.
The two layouts differ in the tables (which `repeat*` holds which block,
the stem's length, the modules of V2 only) and in the head, which
`facenet_layout` and `timm_inception_layout` keep.
"""

import keras

from registry.pretrained.torch_layout import Slot, conv_bn_slots, conv_slots, count_modules
from resblocks import (
    ConvBN,
    InceptionResBlock8,
    InceptionResBlock17,
    InceptionResBlock35,
    InceptionResNetStem,
)

RESIDUAL_BLOCKS = (InceptionResBlock35, InceptionResBlock17, InceptionResBlock8)


def stem_slots(stem: InceptionResNetStem, convs: list, keys: tuple[str, ...]) -> list[Slot]:
    """The stem's ConvBNs, the i-th from torch's module `keys[i]` (`.conv`, `.bn`)."""
    slots = []
    for i, (layer, key) in enumerate(zip(convs, keys)):
        where = f"{stem.name}/{layer.name}"
        slots += conv_bn_slots(layer, f"{key}.conv", f"{key}.bn", where, first=i == 0)
    return slots


def module_prefix(
    block: keras.layers.Layer, seen: dict[str, int], modules: dict, repeats: dict
) -> str | None:
    """torch's module name of a body block, counting the repeats seen so far; None if none.

    `modules`: block class -> its one module (`mixed_6a`); `repeats`: block
    class -> the list its blocks go to, in order (`repeat_1`). The last
    Block8, without activation (`noReLU`/`no_relu`), is `block8`.
    """
    if type(block) in modules:
        return modules[type(block)]
    if isinstance(block, InceptionResBlock8):
        if block.activation is None:  # the network's last Block8
            return "block8"
        repeat = repeats[InceptionResBlock8]
    elif type(block) in repeats:
        repeat = repeats[type(block)]
    else:
        return None
    index = seen.get(repeat, 0)
    seen[repeat] = index + 1
    return f"{repeat}.{index}"


def block_slots(block: keras.layers.Layer, prefix: str) -> list[Slot]:
    """A body block's branches and, for a residual block, its linear 1x1 `.conv2d` (with bias)."""
    slots = branch_slots(block, prefix)
    if isinstance(block, RESIDUAL_BLOCKS):
        slots += conv_slots(block.up, f"{prefix}.conv2d", f"{block.name}/{block.up.name}")
    return slots


def describe_repeats(tensors: dict, repeats: dict) -> str:
    """ "10, 20, 9 Block35/17/8 repeats, batch-norm scale with": a file's blocks, by its keys."""
    counts = [count_modules(tensors, f"{name}.") for name in repeats.values()]
    gamma = "with" if "conv2d_1a.bn.weight" in tensors else "without"
    return f"{', '.join(map(str, counts))} Block35/17/8 repeats, batch-norm scale {gamma}"


def branch_slots(block: keras.layers.Layer, prefix: str) -> list[Slot]:
    """The convolutions of each branch: `.branch{j}` if it is one layer, else `.branch{j}.{k}`.

    k counts the branch's layers, pools included, as an nn.Sequential
    numbers its modules: timm's Mixed_5b pools before the 1x1 of its
    branch3, whose keys are `branch3.1`.
    """
    slots = []
    for j, branch in enumerate(block.branches):
        for k, layer in enumerate(branch):
            if not isinstance(layer, ConvBN):
                continue
            key = f"{prefix}.branch{j}" if len(branch) == 1 else f"{prefix}.branch{j}.{k}"
            slots += conv_bn_slots(layer, f"{key}.conv", f"{key}.bn", f"{block.name}/{layer.name}")
    return slots
