"""Loads keras.applications' ImageNet weight files into recipe-built networks.

The files in `~/.keras/models/` (`resnet50_weights_tf_dim_ordering_tf_kernels.h5`,
the `_notop` variants, ResNet-101/152, their V2, Inception-ResNet-V2) are Keras-2
`save_weights` HDF5 files: a root attribute `layer_names` and one group per
layer whose attribute `weight_names` lists its arrays. Keras itself loads
them by position. Here every layer of ours is paired with a keras layer by
name, through the tables below, and nothing is assigned until every array
has found its variable with the same shape.

Inception-ResNet-V2 leaves most of its convolutions unnamed: keras calls them
`conv2d_N` and `batch_normalization_N` in the order they are created, with N
counted from wherever the process's counter stood. So those are paired by
order of creation, read from the numeric suffix: the tables list, for each
block type, its convolutions in the order keras' `inception_resnet_v2.py`
creates them.
"""

import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import keras
import numpy as np

from registry.errors import WeightsError
from registry.keras_compat import sublayers
from resblocks import (
    BottleNeck,
    Classifier,
    ConvBN,
    InceptionResBlock8,
    InceptionResBlock17,
    InceptionResBlock35,
    InceptionResNetStem,
    Mixed5b,
    Network,
    PostNorm,
    PreActBottleNeck,
    PreActStem,
    ReductionA,
    ReductionB,
    ResNetStem,
)

# === keras.applications ResNet (keras/src/applications/resnet.py) ===
# Every layer is named: f"{block}_{n}_conv" and f"{block}_{n}_bn", where n
# is 0 for the shortcut projection and 1..3 for the residual branch.
RESNET_BOTTLENECK = {
    # our sublayer   keras number
    "downsample":    "0",
    "conv1":         "1",
    "conv2":         "2",
    "conv3":         "3",
}  # fmt: skip

# === keras.applications ResNet-V2 (resnet.py: residual_block_v2) ===
# Named like the V1 layers, plus f"{block}_preact_bn" for the BN that opens
# each block. The projection and the last 1x1 are plain convs (no BN), the
# stem is "conv1_conv" alone, and the BN before the head is "post_bn".
RESNET_V2_BOTTLENECK = {
    # our sublayer   keras layer name
    "preact_bn":     "{block}_preact_bn",
    "downsample":    "{block}_0_conv",
    "conv1/conv":    "{block}_1_conv",
    "conv1/bn":      "{block}_1_bn",
    "conv2/conv":    "{block}_2_conv",
    "conv2/bn":      "{block}_2_bn",
    "conv3":         "{block}_3_conv",
}  # fmt: skip

# === keras.applications Inception-ResNet-V2 (inception_resnet_v2.py) ===
# The unnamed `conv2d_bn` calls of each block, in the order keras creates
# them; each makes one `conv2d_N` and one `batch_normalization_N`.
INCEPTION_CREATION_ORDER = {
    InceptionResNetStem: ("conv1", "conv2", "conv3", "conv4", "conv5"),
    Mixed5b: (
        "branch_0_conv1",
        "branch_1_conv1", "branch_1_conv2",
        "branch_2_conv1", "branch_2_conv2", "branch_2_conv3",
        "branch_pool_conv1",
    ),
    InceptionResBlock35: (
        "branch_0_conv1",
        "branch_1_conv1", "branch_1_conv2",
        "branch_2_conv1", "branch_2_conv2", "branch_2_conv3",
    ),
    ReductionA: (
        "branch_0_conv1",
        "branch_1_conv1", "branch_1_conv2", "branch_1_conv3",
    ),
    InceptionResBlock17: (
        "branch_0_conv1",
        "branch_1_conv1", "branch_1_conv2", "branch_1_conv3",
    ),
    ReductionB: (
        "branch_0_conv1", "branch_0_conv2",
        "branch_1_conv1", "branch_1_conv2",
        "branch_2_conv1", "branch_2_conv2", "branch_2_conv3",
    ),
    InceptionResBlock8: (
        "branch_0_conv1",
        "branch_1_conv1", "branch_1_conv2", "branch_1_conv3",
    ),
}  # fmt: skip
# Named in keras: each residual block's linear 1x1 up-projection is
# f"{block}_conv" (our sublayer "conv"), and the last conv_bn, "conv_7b",
# is f"{name}" with f"{name}_bn".
INCEPTION_BLOCKS = (InceptionResBlock35, InceptionResBlock17, InceptionResBlock8)
UNNAMED_KINDS = ("conv2d", "batch_normalization")

# Settings that shapes cannot reveal: with others the same weights would
# compute another function, so such a model is refused.
KERAS_SETTINGS = {
    ResNetStem: {"activation": ("relu",), "bn_epsilon": (1.001e-5,), "max_pool": (True,)},
    BottleNeck: {"stride_at": ("1x1",), "activation": ("relu",), "bn_epsilon": (1.001e-5,)},
    PreActStem: {"max_pool": (True,)},
    PreActBottleNeck: {
        "activation": ("relu",),
        "bn_epsilon": (1.001e-5,),
        "stride_shortcut": ("subsample",),
    },
    PostNorm: {"activation": ("relu",), "bn_epsilon": (1.001e-5,)},
    InceptionResBlock35: {"scale": (0.17,)},
    InceptionResBlock17: {"scale": (0.1,)},
    InceptionResBlock8: {"scale": (0.2, 1.0)},  # 1.0 for the last, linear block
}

# Keras-2 files name arrays "conv1_conv/kernel:0"; keras 3 writes "conv1_conv/kernel".
ROLE = re.compile(r"(?:^|/)(kernel|bias|gamma|beta|moving_mean|moving_variance)(?::\d+)?$")
SHOWN = 6  # differences listed in an error


@dataclass(frozen=True)
class Unnamed:
    """The `index`-th (from 0) unnamed keras layer of `kind` in creation order."""

    kind: str
    index: int


@dataclass(frozen=True)
class Pair:
    """One leaf layer of ours (Conv2D, BatchNormalization, Dense) and its keras layer."""

    ours: str
    layer: keras.layers.Layer
    keras_name: "str | Unnamed"
    head: bool = False


@dataclass
class LoadedWeights:
    """What `load_keras_applications_weights` did.

    Attributes:
        path: the file.
        layers: number of keras layers whose weights were assigned.
        skipped: keras layers of the file deliberately not loaded (a
            classifier that does not fit the model's head, or one the model
            does not have).
        new: our layers left at their initialization (a new head).
    """

    path: Path
    layers: int = 0
    skipped: list[str] = field(default_factory=list)
    new: list[str] = field(default_factory=list)


def is_legacy_keras_h5(path: "str | Path") -> bool:
    """Whether `path` is a Keras-2 weights file (`layer_names` in its root or `model_weights`)."""
    path = Path(path)
    if not path.is_file() or not h5py.is_hdf5(path):
        return False
    try:
        with h5py.File(path, "r") as f:
            return _weights_group(f) is not None
    except OSError:
        return False


def load_keras_applications_weights(
    model: keras.Model, path: "str | Path", *, allow_new_head: bool = False
) -> LoadedWeights:
    """Loads a keras.applications weights file into a recipe-built Network.

    Fits `resnet50`, `resnet101`, `resnet152`, their V2 (`resnet50v2`, ...)
    and `inception_resnet_v2`
    (and recipes derived from them with the same blocks), with or without
    top. A top-included file loads into a model without head (the
    classifier is skipped). Nothing is assigned unless the whole file fits.

    Args:
        model: a `resblocks.Network` built from a recipe.
        path: the `.h5` file.
        allow_new_head: bool. If the model's classifier does not fit the
            file's (another class count, or a `_notop` file), load
            everything else and leave the head at its initialization, with
            a warning when the file had a classifier. Otherwise that is an
            error. `build(..., num_classes=N)` sets it.

    Returns:
        A `LoadedWeights` record.

    Raises:
        WeightsError: the file does not fit; names the first layers and
            shapes that differ.
        TypeError: `model` is not a resblocks Network.
    """
    path = Path(path)
    if not isinstance(model, Network):
        raise TypeError(
            f"keras.applications weights load into a Network built by resblocks "
            f"(`build('resnet50', weights=...)`). Received: a {type(model).__name__}."
        )
    pairs, problems = plan(model)
    file_layers = read_file_layers(path)
    resolved, count_problems = _resolve_unnamed(pairs, file_layers)
    problems += count_problems

    report = LoadedWeights(path)
    head = next((pair for pair in pairs if pair.head), None)
    if head is None:
        if "predictions" in file_layers:  # a top-included file into a model without top
            report.skipped.append("predictions")
    elif not _fits(head, file_layers.get("predictions")):
        resolved = [(pair, name) for pair, name in resolved if not pair.head]
        if allow_new_head:
            report.new.append(head.ours)
            if "predictions" in file_layers:
                report.skipped.append("predictions")
        else:
            problems.append(_head_problem(head, file_layers.get("predictions")))

    assignments = []
    consumed = set(report.skipped)
    for pair, name in resolved:
        if name not in file_layers:
            problems.append(
                f"keras layer '{name}' (for model layer {pair.ours}) is not in the file"
            )
            continue
        consumed.add(name)
        arrays = dict(file_layers[name])
        for variable in pair.layer.weights:
            array = arrays.pop(variable.name, None)
            if array is None:
                problems.append(
                    f"keras layer '{name}' has no {variable.name} for model layer {pair.ours}"
                )
            elif tuple(array.shape) != tuple(variable.shape):
                problems.append(
                    f"keras layer '{name}' has {variable.name} {tuple(array.shape)}, model layer "
                    f"{pair.ours} expects {tuple(variable.shape)}"
                )
            else:
                assignments.append((variable, array))
        for role in arrays:
            problems.append(
                f"keras layer '{name}' has {role}, which model layer {pair.ours} does not have"
            )
    for name in file_layers:
        if name not in consumed:
            problems.append(f"keras layer '{name}' of the file has no counterpart in the model")

    if problems:
        raise WeightsError(_message(path, model, problems, file_layers))
    for variable, array in assignments:
        variable.assign(array.astype(variable.dtype))
    report.layers = len(consumed) - len(report.skipped)
    if report.skipped and report.new:
        warnings.warn(
            f"Loaded {path.name} into '{model.name}' except its classifier "
            f"({', '.join(report.skipped)}): the model's head {', '.join(report.new)} does not "
            "fit it (another number of classes) and keeps its random initialization. Train it "
            "before use.",
            stacklevel=2,
        )
    return report


def plan(model: Network) -> tuple[list[Pair], list[str]]:
    """Our leaf layers with weights, each paired with the keras layer that holds them.

    Returns the pairs and, for blocks that keras.applications has no
    counterpart for, the problems.
    """
    pairs: list[Pair] = []
    problems: list[str] = []
    unnamed = {kind: 0 for kind in UNNAMED_KINDS}

    def add_unnamed(path: str, conv_bn: keras.layers.Layer) -> None:
        for kind, leaf in zip(UNNAMED_KINDS, (conv_bn.conv, conv_bn.bn)):
            pairs.append(Pair(f"{path}/{leaf.name}", leaf, Unnamed(kind, unnamed[kind])))
            unnamed[kind] += 1

    def add_conv_bn(path: str, conv_bn: ConvBN, conv_name: str, bn_name: str) -> None:
        pairs.append(Pair(f"{path}/conv", conv_bn.conv, conv_name))
        pairs.append(Pair(f"{path}/bn", conv_bn.bn, bn_name))

    for block in model.body:
        name = block.name
        for setting, allowed in KERAS_SETTINGS.get(type(block), {}).items():
            if getattr(block, setting) not in allowed:
                problems.append(
                    f"model layer {name} has {setting}={getattr(block, setting)!r}, "
                    "keras.applications' "
                    f"has {setting}={allowed[0]!r}: its weights would compute something else"
                )
        if type(block) is ResNetStem:
            add_conv_bn(f"{name}/conv1", block.conv, "conv1_conv", "conv1_bn")
        elif type(block) is PreActStem:
            pairs.append(Pair(f"{name}/conv", block.conv, "conv1_conv"))
        elif type(block) is PreActBottleNeck:
            for ours, keras_name in RESNET_V2_BOTTLENECK.items():
                sub = _sublayer(block, ours)
                if sub is None or not sub.weights:  # identity or subsampling shortcut
                    continue
                if not isinstance(sub, (keras.layers.Conv2D, keras.layers.BatchNormalization)):
                    problems.append(
                        f"model layer {name}/{ours} is a {type(sub).__name__}; keras.applications' "
                        "ResNet-V2 projects shortcuts with a 1x1 conv"
                    )
                    continue
                pairs.append(Pair(f"{name}/{ours}", sub, keras_name.format(block=name)))
        elif type(block) is PostNorm:  # ResNet-V2's post_bn, from a stage named "post"
            pairs.append(Pair(f"{name}/bn", block.bn, f"{name}_bn"))
        elif isinstance(block, BottleNeck):
            for ours, number in RESNET_BOTTLENECK.items():
                sub = getattr(block, ours)
                if sub is not None:
                    if not isinstance(sub, ConvBN):
                        problems.append(
                            f"model layer {name}/{ours} is a {type(sub).__name__}; "
                            "keras.applications' "
                            "ResNets project shortcuts with a 1x1 conv and BN"
                        )
                        continue
                    add_conv_bn(
                        f"{name}/{ours}", sub, f"{name}_{number}_conv", f"{name}_{number}_bn"
                    )
        elif type(block) in INCEPTION_CREATION_ORDER:
            children = _children(block)
            for child in INCEPTION_CREATION_ORDER[type(block)]:
                add_unnamed(f"{name}/{child}", children[child])
            if isinstance(block, INCEPTION_BLOCKS):
                pairs.append(Pair(f"{name}/conv", block.up, f"{name}_conv"))
        elif type(block) is ConvBN:  # Inception-ResNet-V2's conv_7b
            add_conv_bn(name, block, name, f"{name}_bn")
        elif block.weights:
            problems.append(
                f"model layer {name} is a {type(block).__name__}, which no keras.applications "
                "network has (they have ResNet-50/101/152 V1 and V2 bottlenecks and "
                "Inception-ResNet-V2 blocks)"
            )
    head = model.head
    if isinstance(head, Classifier) and not head.hidden_units:
        pairs.append(Pair(f"{head.name}/predictions", head.predictions, "predictions", head=True))
    elif head is not None:
        problems.append(
            f"model layer {head.name} ({type(head).__name__}) has hidden layers; "
            "keras.applications' "
            "classifier is a single dense layer 'predictions'. Build with include_top=False."
        )
    return pairs, problems


def read_file_layers(path: Path) -> dict[str, list[tuple[str, np.ndarray]]]:
    """The file's layers that hold weights: name -> [(role, array)], in file order.

    Arrays are read into memory, so a damaged file fails here, before
    anything is assigned.
    """
    try:
        with h5py.File(path, "r") as f:
            group = _weights_group(f)
            if group is None:
                raise WeightsError(
                    f"{path} is an HDF5 file without `layer_names`, so not a keras.applications "
                    "(Keras-2 `save_weights`) weights file. resblocks' own files end in "
                    ".weights.h5 or .keras."
                )
            layers = {}
            for name in _attribute(group, "layer_names"):
                weight_names = _attribute(group[name], "weight_names")
                if weight_names:
                    layers[name] = [(_role(w), np.asarray(group[name][w])) for w in weight_names]
            return layers
    except (OSError, KeyError) as error:
        raise WeightsError(
            f"Cannot read {path} as a keras.applications weights file: {error}. The file may be "
            "truncated or damaged (an interrupted download?); nothing was loaded. Fetch it again."
        ) from None


def _resolve_unnamed(pairs: list[Pair], file_layers) -> tuple[list[tuple[Pair, str]], list[str]]:
    """Replaces each `Unnamed` by the file's layer name, ordered by numeric suffix."""
    problems = []
    ordered = {}
    for kind in UNNAMED_KINDS:
        pattern = re.compile(rf"^{kind}(?:_(\d+))?$")
        found = [(int(m.group(1) or 0), name) for name in file_layers if (m := pattern.match(name))]
        ordered[kind] = [name for _, name in sorted(found)]
        wanted = sum(
            1 for p in pairs if isinstance(p.keras_name, Unnamed) and p.keras_name.kind == kind
        )
        if wanted != len(ordered[kind]):
            problems.append(
                f"the model expects {wanted} unnamed keras layers {kind}_N, the file has "
                f"{len(ordered[kind])}"
            )
    resolved = []
    for pair in pairs:
        name = pair.keras_name
        if isinstance(name, Unnamed):
            names = ordered[name.kind]
            if name.index >= len(names):
                continue  # counted above
            name = names[name.index]
        resolved.append((pair, name))
    return resolved, problems


def _head_problem(head: Pair, file_layer) -> str:
    if file_layer is None:
        return (
            f"the model has a classifier ({head.ours}) but the file has none (a `_notop` file). "
            "Build with include_top=False, or give num_classes to train a new head."
        )
    kernel = dict(file_layer).get("kernel")
    if kernel is None or kernel.ndim != 2:
        expected = tuple(head.layer.kernel.shape)
        return (
            f"keras layer 'predictions' has no 2-D kernel; model layer {head.ours} "
            f"expects {expected}"
        )
    theirs, ours = tuple(kernel.shape), tuple(head.layer.kernel.shape)
    return (
        f"keras layer 'predictions' has kernel {theirs} ({theirs[1]} classes), model layer "
        f"{head.ours} expects {ours} ({ours[1]} classes). Build with num_classes={theirs[1]} "
        "to load it, or with another num_classes to load everything but the classifier."
    )


def _fits(pair: Pair, file_layer) -> bool:
    if file_layer is None:
        return False
    arrays = dict(file_layer)
    return all(
        w.name in arrays and tuple(arrays[w.name].shape) == tuple(w.shape)
        for w in pair.layer.weights
    )


def _sublayer(block: keras.layers.Layer, path: str) -> "keras.layers.Layer | None":
    """`conv1/bn` -> block.conv1.bn; None where an attribute is None (no projection)."""
    layer = block
    for part in path.split("/"):
        layer = getattr(layer, part)
        if layer is None:
            return None
    return layer


def _children(block: keras.layers.Layer) -> dict[str, keras.layers.Layer]:
    return {child.name: child for child in sublayers(block)}


def _weights_group(f: h5py.File):
    for group in (f, f.get("model_weights")):
        if isinstance(group, h5py.Group) and (
            "layer_names" in group.attrs or "layer_names0" in group.attrs
        ):
            return group
    return None


def _attribute(group, name: str) -> list[str]:
    """A list attribute, which Keras splits into name0, name1, ... when it is long."""
    if name in group.attrs:
        values = list(group.attrs[name])
    else:
        values, chunk = [], 0
        while f"{name}{chunk}" in group.attrs:
            values.extend(group.attrs[f"{name}{chunk}"])
            chunk += 1
    return [v.decode("utf8") if isinstance(v, bytes) else str(v) for v in values]


def _role(weight_name: str) -> str:
    match = ROLE.search(weight_name)
    return match.group(1) if match else weight_name


def _message(path: Path, model: keras.Model, problems: list[str], file_layers) -> str:
    shown = "\n".join(f"  - {p}" for p in problems[:SHOWN])
    more = f"\n  ... and {len(problems) - SHOWN} more" if len(problems) > SHOWN else ""
    return (
        f"Weights file {path} does not fit model '{model.name}', so nothing was loaded. "
        f"{describe_file(file_layers)} {len(problems)} difference(s), the first:\n{shown}{more}\n"
        "keras.applications files load into the recipe of the same network: resnet50, resnet101, "
        "resnet152, resnet50v2, resnet101v2, resnet152v2 or inception_resnet_v2 (with or without "
        "top)."
    )


def describe_file(file_layers) -> str:
    """A guess at which keras.applications network wrote the file, for messages."""
    names = list(file_layers)
    top = "with top" if "predictions" in file_layers else "without top"
    blocks = [int(m.group(1)) for n in names if (m := re.match(r"^conv4_block(\d+)_", n))]
    resnets = {
        6: ("ResNet-50", "resnet50"),
        23: ("ResNet-101", "resnet101"),
        36: ("ResNet-152", "resnet152"),
    }
    network, recipe = resnets.get(max(blocks, default=0), (None, None))
    if network is not None and "post_bn" in file_layers:  # pre-activation: ResNet-V2
        network, recipe = f"{network} V2", f"{recipe}v2"
    if network is None and any(n.startswith("block35_") for n in names):
        network, recipe = "Inception-ResNet-V2", "inception_resnet_v2"
    if network is None:
        first = ", ".join(names[:3]) or "none"
        return f"The file holds {len(names)} layers with weights (first: {first})."
    return f"The file looks like keras.applications' {network} ({top}), whose recipe is '{recipe}'."
