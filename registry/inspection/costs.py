"""profile(): parameters and multiply-accumulates per stage, counted from the layers themselves.

A network's cost is read off its built layers, not looked up: every
convolution costs `H_out * W_out * K_h * K_w * C_in / groups * C_out`
multiply-accumulates (MACs) and every dense layer `inputs * outputs`, at the
input size the network was built for. Batch normalization is listed apart
(one multiply-add per element at inference, and foldable into the
convolution before it); pooling, activations and residual sums are not
counted. The "FLOPs" of He et al. 2015, Table 1 are such multiply-adds.
"""

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import keras

from registry.errors import ResblocksError
from registry.keras_compat import leaf_layers
from registry.recipe import Recipe, load_recipe
from registry.recipe.spec import ReferenceSpec

CONVOLUTIONS = (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)


@dataclass(frozen=True)
class Cost:
    """What a layer (with all its sublayers) holds and computes for one image.

    Attributes:
        params: int. All weights, batch-norm statistics included (Keras' count).
        trainable: int. Trainable weights.
        macs: int. Multiply-accumulates of convolutions and dense layers.
        bn_ops: int. Elements normalized by batch normalization.
    """

    params: int = 0
    trainable: int = 0
    macs: int = 0
    bn_ops: int = 0

    def __add__(self, other: "Cost") -> "Cost":
        return Cost(
            self.params + other.params,
            self.trainable + other.trainable,
            self.macs + other.macs,
            self.bn_ops + other.bn_ops,
        )


@dataclass(frozen=True)
class ProfileRow:
    """One stage: its name, layers and cost."""

    stage: str
    layers: list[str]
    cost: Cost


@dataclass(frozen=True)
class Profile:
    """The cost of a network per stage and in total.

    Attributes:
        name: str. The network.
        input_shape: tuple. The size it was counted at.
        rows: list of `ProfileRow`, in network order.
        total: `Cost`.
        references: published figures to compare with (`ReferenceSpec`).
    """

    name: str
    input_shape: tuple
    rows: list[ProfileRow]
    total: Cost
    references: list[ReferenceSpec]


def layer_cost(layer: keras.layers.Layer) -> Cost:
    """The cost of one built layer and everything inside it."""
    trainable = sum(math.prod(w.shape) for w in layer.trainable_weights)
    macs = bn_ops = 0
    for leaf in leaf_layers(layer):
        if isinstance(leaf, (*CONVOLUTIONS, keras.layers.Dense, keras.layers.BatchNormalization)):
            input_shape = _input_shape(leaf)
            if isinstance(leaf, CONVOLUTIONS):
                output_shape = leaf.compute_output_shape(input_shape)
                macs += math.prod(output_shape[1:-1]) * math.prod(leaf.kernel.shape)
            elif isinstance(leaf, keras.layers.Dense):
                macs += math.prod(input_shape[1:-1]) * math.prod(leaf.kernel.shape)
            else:
                bn_ops += math.prod(input_shape[1:])
    return Cost(layer.count_params() if layer.weights else 0, trainable, macs, bn_ops)


def profile(
    name_or_model: "str | Path | Mapping | Recipe | keras.Model",
    *,
    input_shape: "tuple | list | None" = None,
) -> Profile:
    """Parameters and MACs of a network, per stage and in total.

    Args:
        name_or_model: a recipe (name, path, mapping, `Recipe`), built at
            its input size, or a built resblocks Network.
        input_shape: [height, width, channels] to count a recipe at instead
            of its own.

    Returns:
        A `Profile`; `format_profile` prints it.

    Raises:
        ResblocksError: the network was built for any input size (None), so
            there is no size to count at.
    """
    from registry.assembly import model_from_recipe

    if isinstance(name_or_model, keras.Model):
        model, references = name_or_model, []
        groups = _groups_by_name([layer.name for layer in getattr(model, "body", model.layers)])
    else:
        recipe = load_recipe(name_or_model, input_shape=input_shape)
        if None in recipe.input_shape[:2]:
            raise ResblocksError(
                f"Cannot profile '{recipe.name}' at input_shape={list(recipe.input_shape)}: the "
                "cost depends on the image size. Pass input_shape=[height, width, channels]."
            )
        model, references = model_from_recipe(recipe), recipe.references
        groups = [("stem", ["stem"])]
        # Stage labels as `resblocks show` prints them: block35_{index} x10 -> block35_1..10.
        groups += [(s.label, s.layer_names) for s in recipe.stages]
    head = getattr(model, "head", None)
    if head is not None:
        groups.append(("head", [head.name]))
    rows = [
        ProfileRow(stage, names, _sum(layer_cost(model.get_layer(n)) for n in names))
        for stage, names in groups
    ]
    total = _sum(row.cost for row in rows)
    return Profile(model.name, tuple(model.input_shape[1:]), rows, total, list(references))


def format_profile(result: Profile) -> str:
    """A plain-text table: one row per stage, the total, and the published figures."""
    header = ("stage", "params", "trainable", "MACs", "BN ops")

    def cells(stage: str, cost: Cost) -> tuple:
        return (
            stage,
            f"{cost.params:,}",
            f"{cost.trainable:,}",
            _giga(cost.macs),
            f"{cost.bn_ops / 1e6:.2f} M",
        )

    body = [cells(r.stage, r.cost) for r in result.rows]
    total = cells("total", result.total)
    widths = [max(len(row[i]) for row in [header, *body, total]) for i in range(len(header))]
    line = "  ".join(f"{{:<{w}}}" if i == 0 else f"{{:>{w}}}" for i, w in enumerate(widths))
    out = [f"{result.name} at {'x'.join(map(str, result.input_shape))}", line.format(*header)]
    out.append(line.format(*("-" * w for w in widths)))
    out += [line.format(*row) for row in body]
    out.append(line.format(*total))
    out += reference_lines(result)
    return "\n".join(out)


def reference_lines(result: Profile) -> list[str]:
    """`published: 3.80 G MACs (He et al. 2015, Table 1); counted 3.86 G (+1.6%)`."""
    total = result.total
    lines = []
    for ref in result.references:
        figures = [
            ("MACs", ref.macs, total.macs, _giga),
            ("params", ref.params, total.params, "{:,}".format),
            ("trainable params", ref.trainable_params, total.trainable, "{:,}".format),
        ]
        for what, published, counted, show in figures:
            if published is not None:
                lines.append(
                    f"published {what}: {show(published)} ({ref.source}); "
                    f"counted {show(counted)} ({_diff(counted, published)})"
                )
    return lines


def _input_shape(layer: keras.layers.Layer) -> tuple:
    config = layer.get_build_config() or {}
    shape = config.get("input_shape")
    if shape is None or any(d is None for d in shape[1:]):
        raise ResblocksError(
            f"Cannot count the cost of layer '{layer.name}': it was built for input shape {shape}, "
            "with a size left open. Build the network at a fixed input_shape first."
        )
    return tuple(shape)


def _groups_by_name(names: list[str]) -> list[tuple[str, list[str]]]:
    """Consecutive layers named alike form a stage.

    conv2_block1..3 -> conv2, block35_1..10 -> block35.
    """
    groups: list[tuple[str, list[str]]] = []
    for name in names:
        stage = re.sub(r"(_block\d+|_\d+)$", "", name)
        if groups and groups[-1][0] == stage:
            groups[-1][1].append(name)
        else:
            groups.append((stage, [name]))
    return groups


def _sum(costs) -> Cost:
    total = Cost()
    for cost in costs:
        total = total + cost
    return total


def _giga(value: float) -> str:
    return f"{value / 1e9:.3f} G"


def _diff(counted: float, published: float) -> str:
    return f"{(counted - published) / published:+.1%}"
