"""Loading a torchvision or timm checkpoint into a recipe-built ResNet, all or nothing.

Every tensor of the file goes to exactly one variable (`torch_layout`'s
tables), and every variable gets one; shapes are checked after the
transposition, before anything is assigned. So a file for another network,
a truncated one, or one with a key too many or too few is a WeightsError
that names the keys and guesses the file's network, and leaves the model
as it was.

A model with other than 3 input channels gets its first convolution
adapted as timm's `adapt_input_conv` does: for 1 channel the RGB filters
are summed (a gray image x then gives what the RGB image (x, x, x) gives);
for N channels they are repeated over the channels and scaled by 3 / N.
"""

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np

from registry.errors import WeightsError
from registry.pretrained.byobnet_layout import (
    BYOBNET_CLASSIFIER,
    byobnet_slots,
    describe_byobnet_file,
    is_byobnet,
)
from registry.pretrained.facenet_layout import (
    FACENET_CLASSIFIER,
    describe_facenet_file,
    facenet_skipped,
    facenet_slots,
    is_facenet,
)
from registry.pretrained.legacy_senet_layout import (
    LEGACY_SENET_CLASSIFIER,
    describe_legacy_senet_file,
    is_legacy_senet,
    legacy_senet_slots,
)
from registry.pretrained.resnetv2_layout import (
    RESNETV2_CLASSIFIER,
    describe_resnetv2_file,
    is_resnetv2,
    resnetv2_slots,
)
from registry.pretrained.timm_inception_layout import (
    INCEPTION_CLASSIFIER,
    describe_timm_inception_file,
    is_timm_inception,
    timm_inception_slots,
)
from registry.pretrained.torch_files import read_torch_file
from registry.pretrained.torch_layout import (
    describe_torch_file,
    is_weight,
    to_keras,
    to_torch,
    torch_shape,
    torch_slots,
)
from resblocks import Network

_SHOWN = 6  # keys listed per kind of difference


@dataclass(frozen=True)
class TorchLayout:
    """One PyTorch layout of a family's weights: a new layout is one entry of `LAYOUTS`.

    Attributes:
        fits: whether a Network's weights take this layout.
        slots: the Network's variables with their state-dict keys, in network order.
        classifier: the state-dict keys of the classifier's weight and bias.
        describe: the network a state dict of this layout is for, read off its
            keys; None for a file of another layout.
        skipped: the file's keys not loaded on purpose; None: the classifier,
            when the model has no head.
    """

    fits: Callable[[Network], bool]
    slots: Callable[[Network], list]
    classifier: tuple[str, str]
    describe: Callable[[dict], str | None]
    skipped: Callable[[dict, Network], list[str]] | None = None

    def skipped_keys(self, tensors: dict, model: Network) -> list[str]:
        """The file's keys this model does not load on purpose."""
        if self.skipped is not None:
            return self.skipped(tensors, model)
        return sorted(set(self.classifier) & set(tensors)) if model.head is None else []


# torchvision's and timm's `resnet.py`: every Network that no other layout fits.
TORCHVISION = TorchLayout(
    lambda model: True, torch_slots, ("fc.weight", "fc.bias"), describe_torch_file
)
# Tried in order, before TORCHVISION; a file's description is asked of each in turn.
LAYOUTS = (
    TorchLayout(
        is_timm_inception,
        timm_inception_slots,
        INCEPTION_CLASSIFIER,
        describe_timm_inception_file,
    ),
    TorchLayout(
        is_legacy_senet, legacy_senet_slots, LEGACY_SENET_CLASSIFIER, describe_legacy_senet_file
    ),
    # facenet-pytorch: its training classifier (`logits`) is never loaded.
    TorchLayout(
        is_facenet, facenet_slots, FACENET_CLASSIFIER, describe_facenet_file, facenet_skipped
    ),
    TorchLayout(is_resnetv2, resnetv2_slots, RESNETV2_CLASSIFIER, describe_resnetv2_file),
    TorchLayout(is_byobnet, byobnet_slots, BYOBNET_CLASSIFIER, describe_byobnet_file),
)


def layout_of(model: Network) -> TorchLayout:
    """The PyTorch layout of the model's family.

    timm's for an Inception-ResNet-V2, for the legacy SENets (`senet.py`),
    for a ResNetV2 (a pre-activation network) and for a byobnet.py ResNet
    (gcresnet50t); facenet-pytorch's for a V1; torchvision's (and timm's
    `resnet.py`) for the other ResNets.
    """
    return next((layout for layout in LAYOUTS if layout.fits(model)), TORCHVISION)


@dataclass
class LoadedTorchWeights:
    """What `load_torch_weights` did.

    Attributes:
        path: the file.
        loaded: int. Variables assigned.
        skipped: the file's keys deliberately not loaded (a classifier that
            does not fit the model's head, or one the model does not have).
        adapted: str or None. How the first convolution was adapted to the
            model's input channels.
    """

    path: Path
    loaded: int = 0
    skipped: list[str] = field(default_factory=list)
    adapted: str | None = None


def adapt_input_conv(kernel: np.ndarray, channels: int) -> np.ndarray:
    """A (kh, kw, 3, out) RGB kernel for `channels` input channels (timm's rule)."""
    if channels == 1:
        return kernel.sum(axis=2, keepdims=True)
    repeats = math.ceil(channels / 3)
    return np.tile(kernel, (1, 1, repeats, 1))[:, :, :channels, :] * (3 / channels)


def load_torch_weights(
    model: keras.Model, path: Path, kind: str, *, allow_new_head: bool = False
) -> LoadedTorchWeights:
    """Loads a `.pth` state dict or a `.safetensors` file into a Network.

    Args:
        model: a `resblocks.Network` of res_block/bottleneck stages, such as
            `build("resnet18")` or `build("resnext50_32x4d")`, or
            `build("facenet_inception_resnet_v1")` for facenet-pytorch's
            files (`facenet_layout`; their `logits` classifier is skipped).
        path: the file.
        kind: `torch_files.TORCH_PICKLE` or `torch_files.SAFETENSORS`.
        allow_new_head: bool. A classifier that does not fit the model's
            head (another number of classes) is skipped, with a warning,
            instead of refused.

    Raises:
        WeightsError: what differs (missing, unused and misshapen keys),
            and which network the file looks like. Nothing is assigned.
    """
    if not isinstance(model, Network):
        raise WeightsError(
            f"PyTorch checkpoints load into a Network built by resblocks "
            f"(`build('resnet18', weights=...)`). Received: a {type(model).__name__}."
        )
    tensors = {k: v for k, v in read_torch_file(path, kind).items() if is_weight(k)}
    layout = layout_of(model)
    slots = layout.slots(model)
    report = LoadedTorchWeights(path)
    expected = {slot.key for slot in slots}
    report.skipped += layout.skipped_keys(tensors, model)
    missing = sorted(expected - set(tensors))
    unused = sorted(set(tensors) - expected - set(report.skipped))
    misshapen, assignments, new_head = [], [], []
    for slot in slots:
        if slot.key not in tensors:
            continue
        array = to_keras(tensors[slot.key], slot.kind)
        shape = tuple(slot.variable.shape)
        if slot.first and array.shape != shape and array.shape[:2] == shape[:2]:
            if array.shape[2] == 3 and array.shape[3] == shape[3]:
                array = adapt_input_conv(array, shape[2])
                report.adapted = f"{slot.key}: 3 -> {shape[2]} input channels"
        if array.shape != shape:
            if slot.head and allow_new_head:
                new_head.append(slot.key)
                continue
            misshapen.append(
                f"{slot.key} is {tuple(tensors[slot.key].shape)} in the file, "
                f"{torch_shape(shape, slot.kind)} for {slot.where}"
            )
            continue
        if not np.isfinite(array).all():
            misshapen.append(f"{slot.key} holds NaN or infinite values")
            continue
        assignments.append((slot.variable, array))
    if missing or unused or misshapen:
        raise WeightsError(_message(path, model, layout, missing, unused, misshapen, tensors))
    for variable, array in assignments:
        variable.assign(array.astype(variable.dtype))
    report.loaded = len(assignments)
    report.skipped += new_head
    weight, _ = layout.classifier
    classifier = weight.rsplit(".", 1)[0]
    if weight in new_head:
        warnings.warn(
            f"{path.name}: the classifier {classifier} ({tensors[weight].shape[0]} classes) "
            f"does not fit the head ({model.head.num_classes} classes); the head keeps its "
            "initialization. Train it before predicting.",
            stacklevel=3,
        )
    return report


def torch_state_dict(model: keras.Model) -> dict[str, np.ndarray]:
    """The model's weights under torchvision's (and timm's) keys, in PyTorch's layout.

    An Inception-ResNet-V1 built from `facenet_inception_resnet_v1` gets
    facenet-pytorch's keys instead (without its training classifier
    `logits`, which the network does not have).

    The inverse of loading: `safetensors.numpy.save_file(torch_state_dict(model), "m.safetensors")`
    writes a file that `torchvision.models.resnet18().load_state_dict` and
    `build("resnet18", weights=...)` both read.

    Raises:
        WeightsError: a layer no torchvision or timm ResNet has.
    """
    if not isinstance(model, Network):
        raise WeightsError(
            f"torch_state_dict needs a Network built by resblocks. Received: a "
            f"{type(model).__name__}."
        )
    return {
        slot.key: to_torch(keras.ops.convert_to_numpy(slot.variable), slot.kind)
        for slot in layout_of(model).slots(model)
    }


def _message(path, model, layout, missing, unused, misshapen, tensors) -> str:
    parts = [f"Cannot load {path} into {model.name}: the file's layout differs."]
    for label, keys in (
        ("missing from the file", missing),
        ("in the file but not in the model", unused),
        ("shapes differ", misshapen),
    ):
        if keys:
            shown = "; ".join(keys[:_SHOWN]) + (
                f"; ... ({len(keys)} in all)" if len(keys) > _SHOWN else ""
            )
            parts.append(f"{label}: {shown}.")
    looks_like = next(
        (about for about in (other.describe(tensors) for other in LAYOUTS) if about),
        TORCHVISION.describe(tensors),
    )
    parts.append(f"The file looks like {looks_like}.")
    head = layout.classifier[0].rsplit(".", 1)[0] + "."
    if misshapen and all(item.startswith(head) for item in misshapen) and not missing:
        parts.append(
            "Only the classifier differs: build with num_classes=N to load the rest and train a "
            "new head."
        )
    parts.append("The model was left unchanged.")
    return " ".join(parts)
