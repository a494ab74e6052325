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
    slots = layout_slots(model)
    report = LoadedTorchWeights(path)
    expected = {slot.key for slot in slots}
    if is_facenet(model):  # facenet-pytorch: its training classifier is never loaded
        report.skipped += facenet_skipped(tensors, model)
    elif model.head is None:  # a model without top: the file's classifier is not needed
        report.skipped += sorted(set(classifier_keys(model)) & set(tensors))
    missing = sorted(expected - set(tensors))
    unused = sorted(set(tensors) - expected - set(report.skipped))
    misshapen, assignments = [], []
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
                report.skipped.append(slot.key)
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
        raise WeightsError(_message(path, model, missing, unused, misshapen, tensors))
    for variable, array in assignments:
        variable.assign(array.astype(variable.dtype))
    report.loaded = len(assignments)
    weight, _ = classifier_keys(model)
    classifier = weight.rsplit(".", 1)[0]
    if weight in report.skipped and model.head is not None:
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
        for slot in layout_slots(model)
    }


def layout_slots(model: Network) -> list:
    """The model's slots in the PyTorch layout of its family.

    timm's for an Inception-ResNet-V2, for the legacy SENets (`senet.py`),
    for a ResNetV2 (a pre-activation network) and for a byobnet.py ResNet
    (gcresnet50t), facenet-pytorch's for a
    V1, torchvision's (and timm's `resnet.py`) for the other ResNets.
    """
    if is_timm_inception(model):
        return timm_inception_slots(model)
    if is_legacy_senet(model):
        return legacy_senet_slots(model)
    if is_resnetv2(model):
        return resnetv2_slots(model)
    if is_byobnet(model):
        return byobnet_slots(model)
    return facenet_slots(model) if is_facenet(model) else torch_slots(model)


def classifier_keys(model: Network) -> tuple[str, str]:
    """The state-dict keys of the classifier's weight and bias in the model's layout."""
    if is_timm_inception(model):
        return INCEPTION_CLASSIFIER
    if is_legacy_senet(model):
        return LEGACY_SENET_CLASSIFIER
    if is_resnetv2(model):
        return RESNETV2_CLASSIFIER
    if is_byobnet(model):
        return BYOBNET_CLASSIFIER
    return ("fc.weight", "fc.bias")  # torchvision's and timm's `resnet.py`


def _message(path, model, missing, unused, misshapen, tensors) -> str:
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
    looks_like = (
        describe_timm_inception_file(tensors)
        or describe_legacy_senet_file(tensors)
        or describe_facenet_file(tensors)
        or describe_resnetv2_file(tensors)
        or describe_byobnet_file(tensors)
        or describe_torch_file(tensors)
    )
    parts.append(f"The file looks like {looks_like}.")
    head = classifier_keys(model)[0].rsplit(".", 1)[0] + "."
    if misshapen and all(item.startswith(head) for item in misshapen) and not missing:
        parts.append(
            "Only the classifier differs: build with num_classes=N to load the rest and train a "
            "new head."
        )
    parts.append("The model was left unchanged.")
    return " ".join(parts)
