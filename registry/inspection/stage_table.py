"""The stage table of `resblocks show`: one row per stage, with totals and published figures."""

from dataclasses import dataclass
from pathlib import Path

import keras

from registry.errors import RecipeError, ResblocksError
from registry.inspection.costs import Cost, Profile, layer_cost, reference_lines
from registry.recipe import Recipe, find_recipe, load_recipe
from registry.recipe.strict_yaml import load_yaml


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
        origin = references_origin(recipe)
        if origin is None:
            out += reference_lines(
                Profile(recipe.name, tuple(model.input_shape[1:]), [], total, recipe.references)
            )
        else:
            out.append(
                f"published figures: those of {origin.name}, whose network this recipe changes "
                "(blocks, repeats, widths, classes or input size); not compared."
            )
    return "\n".join(out)


def references_origin(recipe: Recipe) -> "Recipe | None":
    """The recipe whose published figures `recipe` inherited, if its network is another one.

    None when the figures were published for this very network: the file
    that declares them (the recipe's own, or a `base:` of it), loaded as it
    is, has the same input size, blocks, repeat counts and arguments. An
    exercise answer, a `base:` with changes or `--num-classes` makes
    another network, and its 3.66 G MACs compared with ResNet-50's 3.80 G
    (+103.5% of a figure for another network) would make a right answer
    look wrong.
    """
    if not recipe.references:
        return None
    origin = _declaring_file(Path(recipe.source))
    if origin is None:
        return None
    published = load_recipe(str(origin))
    return None if _network(published) == _network(recipe) else published


def _declaring_file(path: Path) -> "Path | None":
    """The file of `path`'s `base:` chain that declares its references (None: not a file)."""
    try:
        raw = load_yaml(path) if path.is_file() else None
    except RecipeError:
        return None
    if not isinstance(raw, dict):
        return None
    if "references" in raw or not isinstance(raw.get("base"), str):
        return path
    return _declaring_file(find_recipe(raw["base"], relative_to=path.parent))


def _network(recipe: Recipe) -> tuple:
    """What the published figures depend on: input size, and every block with its arguments."""
    calls = [recipe.stem, *(s.call for s in recipe.stages), recipe.head]
    return (
        tuple(recipe.input_shape),
        [s.repeats for s in recipe.stages],
        [(c.block, sorted(c.args.items(), key=str)) if c else None for c in calls],
    )


def _giga(macs: int | None) -> str:
    return "-" if macs is None else f"{macs / 1e9:.3f} G"
