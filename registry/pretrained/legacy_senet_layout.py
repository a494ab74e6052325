"""Where each weight of a recipe-built legacy SENet sits in a timm `legacy_se*` state dict.

timm's `models/senet.py` (Cadene's port of the original Caffe SENets) holds
the layers of a torchvision ResNet under other names. The recipes
`legacy_seresnet18` ... `legacy_senet154` build them, and are told apart
by their stem's max-pool in Caffe's ceil mode (`pool_padding: ceil`),
which only these networks have. Their keys are `torch_layout`'s, renamed:

| torchvision / timm resnet.py | timm senet.py |
|---|---|
| `conv1`, `bn1` (7x7 stem) | `layer0.conv1`, `layer0.bn1` |
| `conv1.0`, `.1`, `.3`, `.4`, `.6`, `bn1` (deep) | `layer0.conv1`, `bn1`, ..., `conv3`, `bn3` |
| `layer{i}.{j}.se.fc1`, `.fc2` | `layer{i}.{j}.se_module.fc1`, `.fc2` |
| `fc` | `last_linear` |

The blocks' convolutions, batch norms and projections (`downsample.0`,
`.1`, a 3x3 one in SENet-154) keep their names.
"""

import dataclasses

from registry.pretrained.torch_layout import Slot, count_modules, torch_slots
from resblocks import DeepStem, Network, ResNetStem

LEGACY_SENET_CLASSIFIER = ("last_linear.weight", "last_linear.bias")
RESNET_STEM = {"conv1": "layer0.conv1", "bn1": "layer0.bn1"}
DEEP_STEM = {
    "conv1.0": "layer0.conv1",
    "conv1.1": "layer0.bn1",
    "conv1.3": "layer0.conv2",
    "conv1.4": "layer0.bn2",
    "conv1.6": "layer0.conv3",
    "bn1": "layer0.bn3",
}
# (blocks per stage, bottleneck, groups, deep stem) -> recipe
KNOWN = {
    ((2, 2, 2, 2), False, 1, False): "legacy_seresnet18",
    ((3, 4, 6, 3), False, 1, False): "legacy_seresnet34",
    ((3, 4, 6, 3), True, 1, False): "legacy_seresnet50",
    ((3, 4, 23, 3), True, 1, False): "legacy_seresnet101",
    ((3, 8, 36, 3), True, 1, False): "legacy_seresnet152",
    ((2, 2, 2, 2), True, 32, False): "legacy_seresnext26_32x4d",
    ((3, 4, 6, 3), True, 32, False): "legacy_seresnext50_32x4d",
    ((3, 4, 23, 3), True, 32, False): "legacy_seresnext101_32x4d",
    ((3, 8, 36, 3), True, 64, True): "legacy_senet154",
}


def is_legacy_senet(model: Network) -> bool:
    """Whether a Network is a legacy SENet: a ResNet stem whose max-pool is in ceil mode."""
    stem = model.body[0]
    return isinstance(stem, (ResNetStem, DeepStem)) and stem.pool_padding == "ceil"


def legacy_senet_slots(model: Network) -> list[Slot]:
    """Every variable of `model` with its timm `senet.py` key, in network order.

    Raises:
        WeightsError: what `torch_layout.torch_slots` refuses.
    """
    stem = DEEP_STEM if isinstance(model.body[0], DeepStem) else RESNET_STEM
    return [dataclasses.replace(slot, key=_rename(slot.key, stem)) for slot in torch_slots(model)]


def _rename(key: str, stem: dict[str, str]) -> str:
    module, name = key.rsplit(".", 1)
    if module in stem:
        return f"{stem[module]}.{name}"
    if module == "fc":
        return f"last_linear.{name}"
    return key.replace(".se.", ".se_module.")


def describe_legacy_senet_file(tensors: dict) -> str | None:
    """ "legacy_seresnet50 (...)" for a timm senet.py state dict, else None."""
    if "layer0.conv1.weight" not in tensors:
        return None
    stages = tuple(count_modules(tensors, f"layer{stage}.") for stage in range(1, 5))
    bottleneck = "layer1.0.conv3.weight" in tensors
    conv2 = tensors.get("layer1.0.conv2.weight")
    groups = int(conv2.shape[0] // conv2.shape[1]) if conv2 is not None and conv2.ndim == 4 else 1
    deep = "layer0.conv3.weight" in tensors
    classes = tensors["last_linear.weight"].shape[0] if "last_linear.weight" in tensors else None
    shape = (
        f"{', '.join(map(str, stages))} {'bottleneck' if bottleneck else 'basic'} blocks, "
        f"{groups} group(s){', deep stem' if deep else ''}"
        f"{f', {classes} classes' if classes else ''}"
    )
    name = KNOWN.get((stages, bottleneck, groups, deep))
    what = f"recipe {name}" if name else "which no shipped recipe is"
    return f"timm's legacy SENet layout (senet.py), {what} ({shape})"
