"""Pictures of a network in files: SVG, PNG or Mermaid, by the file's suffix (`show --diagram`)."""

from pathlib import Path

import keras

from registry.errors import ResblocksError
from registry.inspection import drawing
from registry.inspection.graph import block_nodes, to_mermaid
from registry.recipe import Recipe


def diagram_format(path: "str | Path") -> str:
    """The format a file name asks for: "svg", "png" or "mermaid"; ResblocksError otherwise."""
    suffix = Path(path).suffix.lower()
    formats = {".svg": "svg", ".png": "png", ".md": "mermaid", ".mmd": "mermaid"}
    if suffix not in formats:
        raise ResblocksError(
            f"Cannot tell the diagram format of {str(path)!r}: use a file ending in "
            ".svg, .png, .md (Mermaid in a Markdown fence) or .mmd (Mermaid). Received: suffix "
            f"{suffix!r}"
        )
    return formats[suffix]


def write_diagram(
    path: "str | Path", recipe: Recipe, model: keras.Model, expand: bool = False
) -> str:
    """Writes the picture of `model` to `path` in the format its suffix names.

    Returns:
        The format written: "svg", "png" or "mermaid".
    """
    kind = diagram_format(path)
    nodes = block_nodes(recipe, model, expand=expand)
    title = f"{recipe.name}: {model.count_params():,} parameters"
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "svg":
        path.write_text(drawing.to_svg(nodes, title), encoding="utf-8")
    elif kind == "png":
        drawing.to_png(nodes, title, path)
    else:
        text = to_mermaid(nodes, title)
        if path.suffix.lower() == ".md":
            text = f"# {title}\n\n```mermaid\n{text}```\n"
        path.write_text(text, encoding="utf-8")
    return kind
