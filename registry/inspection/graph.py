"""The block-level graph of a built network: the nodes every picture of it is drawn from.

One node per block (stem, each stage's blocks, head) with its output shape,
parameters and shortcut, read from the built layers themselves so the
picture can never disagree with the model. Long runs of alike blocks
collapse into one node ("block17_1 ... block17_20, x20"). The pictures are
drawn by `drawing` (SVG, PNG) and `to_mermaid` (Markdown); `diagram`
writes them to files.
"""

from dataclasses import dataclass, replace

import keras

from registry.recipe import Recipe

# A run of at least this many alike blocks becomes one node: two stay two,
# so ResNet-18 is drawn block by block.
COLLAPSE_FROM = 3

SHORTCUT_LABELS = {
    "identity": "identity",
    "projection": "1x1 conv",
    "zero_pad": "zero-pad",
    "scaled": "identity",
}


@dataclass(frozen=True)
class Node:
    """A box of the picture: one block, or a collapsed run of alike blocks.

    Attributes:
        names: list of str. The layer names (several when collapsed).
        block: str. Registry name of the block ("bottle_neck"), or "input".
        kind: str. "input", "stem", "block" or "head".
        shape: tuple. Output shape without the batch axis.
        params: int. Parameters of one block of the run.
        shortcut: str or None. "identity", "projection" (option B),
            "zero_pad" (option A), "scaled" (Inception-ResNet); None where
            nothing is added (plain blocks, stems, reductions, heads).
        strides: int. The block's stride, for the shortcut's label.
        scale: float or None. The residual scale of a "scaled" shortcut.
    """

    names: tuple[str, ...]
    block: str
    kind: str
    shape: tuple
    params: int
    shortcut: str | None = None
    strides: int = 1
    scale: float | None = None

    @property
    def repeats(self) -> int:
        return len(self.names)

    @property
    def title(self) -> str:
        if self.repeats == 1:
            return self.names[0]
        return f"{self.names[0]} … {self.names[-1]}"

    @property
    def shape_text(self) -> str:
        return "×".join("?" if d is None else str(d) for d in self.shape)

    @property
    def params_text(self) -> str:
        each = f"{self.params:,} params"
        return f"x{self.repeats}, {each} each" if self.repeats > 1 else each

    @property
    def shortcut_text(self) -> str:
        """`1x1 conv /2`, `zero-pad /2`, `identity` or `x0.17`."""
        if self.shortcut == "scaled":
            return f"identity + {self.scale:g}·F"
        text = SHORTCUT_LABELS.get(self.shortcut or "", "")
        return f"{text} /{self.strides}" if self.strides > 1 else text

    def alike(self, other: "Node") -> bool:
        return (self.block, self.shape, self.params, self.shortcut, self.strides, self.scale) == (
            other.block, other.shape, other.params, other.shortcut, other.strides, other.scale,
        )  # fmt: skip


def shortcut_of(layer: keras.layers.Layer) -> tuple[str | None, float | None]:
    """What a block adds to its residual branch: (kind, scale).

    Read from the built block's public `shortcut_kind` ("identity",
    "projection", "zero_pad", "scaled" or None), which the residual blocks
    define and a user's block may define too; "scaled" comes with the
    block's `scale`.
    """
    kind = getattr(layer, "shortcut_kind", None)
    if kind == "scaled":
        return "scaled", float(layer.scale)
    return (kind, None) if kind in SHORTCUT_LABELS else (None, None)


def block_nodes(recipe: Recipe, model: keras.Model, expand: bool = False) -> list[Node]:
    """The nodes of `model` (built from `recipe`), input first, in order.

    Args:
        recipe: the recipe the model was built from.
        model: the built network.
        expand: bool. True draws every block; False collapses runs of
            `COLLAPSE_FROM` or more alike blocks within a stage.
    """
    layer_names = {layer.name for layer in model.layers}
    nodes = [Node(("image",), "input", "input", tuple(model.inputs[0].shape[1:]), 0)]
    nodes.append(_node(model, "stem", recipe.stem.block, "stem"))
    for stage in recipe.stages:
        run = [_node(model, name, stage.call.block, "block") for name in stage.layer_names]
        nodes += run if expand else _collapse(run)
    if recipe.head is not None and "head" in layer_names:
        nodes.append(_node(model, "head", recipe.head.block, "head"))
    return nodes


def _node(model: keras.Model, name: str, block: str, kind: str) -> Node:
    layer = model.get_layer(name)
    shortcut, scale = shortcut_of(layer)
    strides = getattr(layer, "strides", 1)
    return Node(
        names=(name,),
        block=block,
        kind=kind,
        shape=tuple(layer.output.shape[1:]),
        params=layer.count_params(),
        shortcut=shortcut,
        strides=strides if isinstance(strides, int) else 1,
        scale=scale,
    )


def _collapse(run: list[Node]) -> list[Node]:
    """Merges each run of COLLAPSE_FROM or more consecutive alike nodes."""
    groups: list[list[Node]] = []
    for node in run:
        if groups and groups[-1][0].alike(node):
            groups[-1].append(node)
        else:
            groups.append([node])
    out = []
    for group in groups:
        if len(group) >= COLLAPSE_FROM:
            names = tuple(name for node in group for name in node.names)
            out.append(replace(group[0], names=names))
        else:
            out += group
    return out


def to_mermaid(nodes: list[Node], title: str) -> str:
    """A Mermaid flowchart: boxes top to bottom, a ⊕ after each residual block.

    Shortcut edges: solid for identity, dashed for projection (option B),
    dotted for zero padding (option A).
    """
    lines = ["flowchart TB", f"  %% {title}: block-level graph drawn by `resblocks show --diagram`"]
    edges: list[tuple[str, str, str, str | None]] = []  # (from, to, arrow, style)
    previous = None
    for i, node in enumerate(nodes):
        box = f"n{i}"
        text = f"<b>{node.title}</b><br/>{node.block} · {node.shape_text}"
        if node.kind != "input":
            text += f"<br/>{node.params_text}"
        lines.append(f'  {box}["{text}"]')
        if previous is not None:
            edges.append((previous, box, "-->", None))
        if node.shortcut is None:
            previous = box
            continue
        plus = f"s{i}"
        lines.append(f'  {plus}(("+"))')
        edges.append((box, plus, "-->", None))
        label = node.shortcut_text + (f" (x{node.repeats})" if node.repeats > 1 else "")
        style = {"projection": "stroke-dasharray: 6 4", "zero_pad": "stroke-dasharray: 1 4"}.get(
            node.shortcut
        )
        edges.append((previous, plus, f'-. "{label}" .->' if style else f'-- "{label}" -->', style))
        previous = plus
    for source, target, arrow, _ in edges:
        lines.append(f"  {source} {arrow} {target}")
    for index, (*_, style) in enumerate(edges):
        if style:
            lines.append(f"  linkStyle {index} {style}")
    return "\n".join(lines) + "\n"
