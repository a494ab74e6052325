"""Draws the block-level graph of `graph` as SVG or PNG.

One layout, two painters: `layout()` places boxes, ⊕ sums, arrows and
shortcut curves as plain shapes; the SVG painter writes them as text (no
Graphviz needed), the PNG painter draws them with matplotlib. Shortcuts:
solid for identity, dashed for a 1x1 projection (option B), dotted for
zero padding (option A); plain blocks have none.
"""

import html
from dataclasses import dataclass, field
from pathlib import Path

from registry.inspection.graph import Node

BOX_W, BOX_H, STACK = 320, 62, 5
GAP, RADIUS = 24, 9
CX = 20 + BOX_W // 2 + STACK
BEND_X = CX + BOX_W // 2 + STACK + 26  # where shortcut curves run down
WIDTH = BEND_X + 170
FILLS = {"input": "#eeeeee", "stem": "#d6e4f5", "block": "#fdf3d0", "head": "#d9f0d3"}
DASHES = {"identity": None, "scaled": None, "projection": (6, 4), "zero_pad": (1.5, 3.5)}


@dataclass(frozen=True)
class Shape:
    """A thing to paint: "rect", "circle", "path" (with arrow head) or "text"."""

    kind: str
    points: tuple = ()
    size: tuple = ()
    text: str = ""
    style: dict = field(default_factory=dict)


def layout(nodes: list[Node], title: str) -> tuple[list[Shape], int]:
    """The shapes of the picture, top to bottom, and its height."""
    shapes = [Shape("text", ((20, 28),), text=title, style={"size": 15, "weight": "bold"})]
    y = 50
    previous_bottom = None
    for node in nodes:
        if node.repeats > 1:
            y += 2 * STACK  # room for the cards behind
        if previous_bottom is not None:
            shapes.append(Shape("path", ((CX, previous_bottom), (CX, y)), style={"arrow": True}))
        top = y
        if node.repeats > 1:  # a stack of cards: several blocks in one box
            for k in (2, 1):
                shapes.append(
                    Shape(
                        "rect",
                        ((CX - BOX_W / 2 + k * STACK, top - k * STACK),),
                        (BOX_W, BOX_H),
                        style={"fill": FILLS[node.kind]},
                    )
                )
        shapes.append(
            Shape(
                "rect", ((CX - BOX_W / 2, top),), (BOX_W, BOX_H), style={"fill": FILLS[node.kind]}
            )
        )
        lines = [
            f"{node.block} · {node.shape_text}",
            node.params_text if node.kind != "input" else "",
        ]
        shapes.append(
            Shape(
                "text",
                ((CX, top + 21),),
                text=node.title,
                style={"size": 13, "weight": "bold", "anchor": "middle"},
            )
        )
        for k, line in enumerate(filter(None, lines)):
            shapes.append(
                Shape(
                    "text",
                    ((CX, top + 39 + 15 * k),),
                    text=line,
                    style={"size": 11, "anchor": "middle"},
                )
            )
        bottom = top + BOX_H
        if node.shortcut is not None and previous_bottom is not None:
            start = previous_bottom + (top - previous_bottom) / 2
            center = bottom + GAP
            shapes.append(
                Shape("path", ((CX, bottom), (CX, center - RADIUS)), style={"arrow": True})
            )
            shapes.append(Shape("circle", ((CX, center),), (RADIUS,)))
            shapes.append(
                Shape(
                    "text", ((CX, center + 4.5),), text="+", style={"size": 13, "anchor": "middle"}
                )
            )
            shapes.append(
                Shape(
                    "path",
                    ((CX, start), (BEND_X, start), (BEND_X, center), (CX + RADIUS, center)),
                    style={"arrow": True, "dash": DASHES[node.shortcut]},
                )
            )
            label = node.shortcut_text + (f" (x{node.repeats})" if node.repeats > 1 else "")
            shapes.append(
                Shape(
                    "text",
                    ((BEND_X + 6, (start + center) / 2 + 4),),
                    text=label,
                    style={"size": 11},
                )
            )
            bottom = center + RADIUS
        previous_bottom = bottom
        y = bottom + GAP
    y += 4
    for i, (kind, words) in enumerate(
        (
            ("identity", "identity shortcut"),
            ("projection", "projection (option B)"),
            ("zero_pad", "zero-padding (option A)"),
        )
    ):
        x = 20 + i * 170
        shapes.append(Shape("path", ((x, y), (x + 30, y)), style={"dash": DASHES[kind]}))
        shapes.append(Shape("text", ((x + 36, y + 4),), text=words, style={"size": 11}))
    return shapes, int(y + 20)


def to_svg(nodes: list[Node], title: str) -> str:
    """The picture as an SVG document (text)."""
    shapes, height = layout(nodes, title)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="Helvetica, Arial, sans-serif">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
        'fill="#444"/></marker></defs>',
        f'<rect width="{WIDTH}" height="{height}" fill="white"/>',
    ]
    for shape in shapes:
        out.append(_svg(shape))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _num(value: float) -> str:
    return f"{value:g}"


def _svg(shape: Shape) -> str:
    style = shape.style
    if shape.kind == "rect":
        (x, y), (w, h) = shape.points[0], shape.size
        return (
            f'<rect x="{_num(x)}" y="{_num(y)}" width="{w}" height="{h}" rx="6" '
            f'fill="{style["fill"]}" stroke="#444" stroke-width="1.2"/>'
        )
    if shape.kind == "circle":
        (x, y), (r,) = shape.points[0], shape.size
        return (
            f'<circle cx="{_num(x)}" cy="{_num(y)}" r="{r}" '
            'fill="white" stroke="#444" stroke-width="1.2"/>'
        )
    if shape.kind == "path":
        d = "M " + " L ".join(f"{_num(x)} {_num(y)}" for x, y in shape.points)
        dash = style.get("dash")
        extra = f' stroke-dasharray="{_num(dash[0])} {_num(dash[1])}"' if dash else ""
        marker = ' marker-end="url(#arrow)"' if style.get("arrow") else ""
        return f'<path d="{d}" fill="none" stroke="#444" stroke-width="1.4"{extra}{marker}/>'
    (x, y) = shape.points[0]
    anchor = f' text-anchor="{style["anchor"]}"' if "anchor" in style else ""
    weight = f' font-weight="{style["weight"]}"' if "weight" in style else ""
    return (
        f'<text x="{_num(x)}" y="{_num(y)}" font-size="{style["size"]}"{anchor}{weight}>'
        f"{html.escape(shape.text)}</text>"
    )


def to_png(nodes: list[Node], title: str, path: "str | Path", dpi: int = 144) -> None:
    """Paints the picture with matplotlib (no display needed) into a PNG file."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Circle, FancyBboxPatch

    shapes, height = layout(nodes, title)
    figure = Figure(figsize=(WIDTH / 100, height / 100), dpi=dpi)
    FigureCanvasAgg(figure)
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_xlim(0, WIDTH)
    axes.set_ylim(height, 0)
    axes.axis("off")
    points_per_pixel = 72 / 100
    for shape in shapes:
        style = shape.style
        if shape.kind == "rect":
            (x, y), (w, h) = shape.points[0], shape.size
            axes.add_patch(
                FancyBboxPatch(
                    (x, y),
                    w,
                    h,
                    boxstyle="round,pad=0,rounding_size=6",
                    facecolor=style["fill"],
                    edgecolor="#444",
                    linewidth=1,
                )
            )
        elif shape.kind == "circle":
            axes.add_patch(
                Circle(
                    shape.points[0], shape.size[0], facecolor="white", edgecolor="#444", linewidth=1
                )
            )
        elif shape.kind == "path":
            xs, ys = zip(*shape.points)
            dash = style.get("dash")
            line = axes.plot(xs, ys, color="#444", linewidth=1.1)[0]
            if dash:
                line.set_dashes(dash)
            if style.get("arrow"):
                axes.annotate(
                    "",
                    xy=shape.points[-1],
                    xytext=shape.points[-2],
                    arrowprops={
                        "arrowstyle": "-|>",
                        "color": "#444",
                        "lw": 1.1,
                        "shrinkA": 0,
                        "shrinkB": 0,
                    },
                )
        else:
            axes.text(
                *shape.points[0],
                shape.text,
                fontsize=style["size"] * points_per_pixel,
                fontweight=style.get("weight", "normal"),
                ha={"middle": "center"}.get(style.get("anchor", ""), "left"),
                va="baseline",
            )
    figure.savefig(path, format="png", dpi=dpi, facecolor="white")
