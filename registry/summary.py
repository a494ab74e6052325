"""The stage table of `resblocks show`: one row per stage, with totals."""

from dataclasses import dataclass

import keras

from registry.recipe import Recipe


@dataclass(frozen=True)
class StageRow:
    stage: str
    block: str
    repeats: int
    output_shape: tuple
    params: int


def stage_rows(recipe: Recipe, model: keras.Model) -> list[StageRow]:
    """Per-stage output shape and parameter count of a model built from `recipe`."""

    def params(names):
        return sum(model.get_layer(name).count_params() for name in names)

    def shape(name):
        return tuple(model.get_layer(name).output.shape[1:])

    rows = [StageRow("stem", recipe.stem.block, 1, shape("stem"), params(["stem"]))]
    for stage in recipe.stages:
        label = stage.name.replace("{index}", f"1..{stage.repeats}")  # block35_1..10
        rows.append(StageRow(label, stage.call.block, stage.repeats, shape(stage.layer_names[-1]), params(stage.layer_names)))
    if recipe.head is not None and "head" in [layer.name for layer in model.layers]:
        rows.append(StageRow("head", recipe.head.block, 1, shape("head"), params(["head"])))
    return rows


def format_table(recipe: Recipe, rows: list[StageRow], model: keras.Model) -> str:
    """A plain-text table; totals use Keras' count (BN statistics included)."""
    header = ("stage", "block", "repeats", "output", "params")
    body = [(r.stage, r.block, str(r.repeats), "x".join(map(str, r.output_shape)), f"{r.params:,}") for r in rows]
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
    line = "  ".join("{:<%d}" % w if i < 2 else "{:>%d}" % w for i, w in enumerate(widths))
    trainable = sum(int(keras.ops.size(w)) for w in model.trainable_weights)
    out = [f"{recipe.name}  ({recipe.source})", line.format(*header), line.format(*("-" * w for w in widths))]
    out += [line.format(*row) for row in body]
    out.append(f"total params: {model.count_params():,}  (trainable {trainable:,})")
    return "\n".join(out)
