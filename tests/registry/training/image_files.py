"""Helpers that write small solid-colour images in every format and colour mode we accept."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

RED = (255, 0, 0)
GREEN = (0, 255, 0)
BLUE = (0, 0, 255)


def write_image(path: Path, kind: str, size: tuple[int, int] = (32, 32), rgb=RED) -> Path:
    """Write a solid-colour image of `kind` (a PIL mode, or a special case) to `path`.

    The format follows the extension. `size` is (width, height).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    solid = Image.new("RGB", size, rgb)
    if kind == "RGB":
        image = solid
    elif kind == "RGBA":
        image = Image.new("RGBA", size, (*rgb, 128))  # half transparent
    elif kind == "L":
        image = Image.new("L", size, 128)
    elif kind == "LA":
        image = Image.new("LA", size, (128, 64))
    elif kind == "1":
        image = Image.new("1", size, 1)
    elif kind == "P":
        image = Image.new("P", size, 1)
        image.putpalette([0, 0, 0, *rgb] + [0] * (256 * 3 - 6))
    elif kind == "P+transparency":
        image = Image.new("P", size, 1)
        image.putpalette([0, 0, 0, *rgb] + [0] * (256 * 3 - 6))
        image.info["transparency"] = 1  # the coloured entry itself is transparent
    elif kind == "CMYK":
        image = solid.convert("CMYK")
    elif kind == "I;16":
        image = Image.fromarray(np.full(size[::-1], 40000, np.uint16))  # -> 40000 / 257 = 156
    elif kind == "animated":
        first = Image.new("RGB", size, rgb).convert("P")
        second = Image.new("RGB", size, BLUE).convert("P")
        first.save(path, save_all=True, append_images=[second], duration=100)
        return path
    else:
        raise ValueError(f"unknown kind {kind!r}")
    kwargs = {}
    if kind == "P+transparency" and path.suffix.lower() in (".png", ".gif"):
        kwargs["transparency"] = 1
    if path.suffix.lower() in (".jpg", ".jpeg"):
        kwargs["quality"] = 95
    image.save(path, **kwargs)
    return path


# (file name, kind, expected RGB after decoding). JPEG is lossy, so values
# are compared with a tolerance.
COLOUR_CASES = [
    ("rgb.png", "RGB", RED),
    ("rgba.png", "RGBA", RED),
    ("grey.png", "L", (128, 128, 128)),
    ("grey_alpha.png", "LA", (128, 128, 128)),
    ("bilevel.png", "1", (255, 255, 255)),
    ("palette.png", "P", RED),
    ("palette_transparent.png", "P+transparency", RED),
    ("grey16.png", "I;16", (156, 156, 156)),
    ("rgb.jpg", "RGB", RED),
    ("grey.jpeg", "L", (128, 128, 128)),
    ("cmyk.jpg", "CMYK", RED),
    ("rgb.bmp", "RGB", RED),
    ("palette.bmp", "P", RED),
    ("bilevel.bmp", "1", (255, 255, 255)),
    ("palette.gif", "P", RED),
    ("palette_transparent.gif", "P+transparency", RED),
    ("animated.gif", "animated", RED),
    ("UPPER.PNG", "RGB", RED),
]
