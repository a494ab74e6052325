"""The stage table of `resblocks show`: one row per stage, with totals and published figures."""

from dataclasses import dataclass

import keras

from registry.errors import ResblocksError
from registry.inspection.costs import Cost, Profile, layer_cost, reference_lines
from registry.recipe import Recipe


@dataclass(frozen=True)
class StageRow:
    stage: str
    block: str
    repeats: int
    output_shape: tuple
    params: int
    macs: int | None  # None where the input size is left open


def stage_rows(recipe: Recipe, model: keras.Model) -> list[StageRow]:
    """Per-stage output shape, parameters and MACs of a model built from `recipe`."""

    def params(names):
        return sum(model.get_layer(name).count_params() for name in names)

    def shape(name):
        return tuple(model.get_layer(name).output.shape[1:])

    def macs(names):
        try:
            return sum(layer_cost(model.get_layer(name)).macs for name in names)
        except ResblocksError:  # built for any size: nothing to count at
            return None

    def row(stage, block, repeats, names):
        return StageRow(stage, block, repeats, shape(names[-1]), params(names), macs(names))

    rows = [row("stem", recipe.stem.block, 1, ["stem"])]
    for stage in recipe.stages:
        label = stage.label  # block35_1..10
        rows.append(row(label, stage.call.block, stage.repeats, stage.layer_names))
    if recipe.head is not None and "head" in [layer.name for layer in model.layers]:
        rows.append(row("head", recipe.head.block, 1, ["head"]))
    return rows


def format_table(recipe: Recipe, rows: list[StageRow], model: keras.Model) -> str:
    """A plain-text table; totals use Keras' count (BN statistics included)."""
    header = ("stage", "block", "repeats", "output", "params", "MACs")
    body = [
        (
            r.stage,
            r.block,
            str(r.repeats),
            "x".join(map(str, r.output_shape)),
            f"{r.params:,}",
            _giga(r.macs),
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
    line = "  ".join(f"{{:<{w}}}" if i < 2 else f"{{:>{w}}}" for i, w in enumerate(widths))
    trainable = sum(int(keras.ops.size(w)) for w in model.trainable_weights)
    out = [
        f"{recipe.name}  ({recipe.source})",
        line.format(*header),
        line.format(*("-" * w for w in widths)),
    ]
    out += [line.format(*row) for row in body]
    out.append(f"total params: {model.count_params():,}  (trainable {trainable:,})")
    macs = [r.macs for r in rows]
    if None not in macs:
        size = "x".join(map(str, model.input_shape[1:]))
        out.append(f"total multiply-accumulates: {_giga(sum(macs))} at {size}")
        total = Cost(model.count_params(), trainable, sum(macs), 0)
        out += reference_lines(
            Profile(recipe.name, tuple(model.input_shape[1:]), [], total, recipe.references)
        )
    return "\n".join(out)


def _giga(macs: int | None) -> str:
    return "-" if macs is None else f"{macs / 1e9:.3f} G"
