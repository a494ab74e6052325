"""Small learnable image folders for training tests.

Three pattern classes, in mixed formats and colour modes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

CLASSES = ("horizontal", "plain", "vertical")
# (extension, PIL mode) cycled through the images of each class.
VARIANTS = (
    ("png", "RGB"),
    ("jpg", "RGB"),
    ("png", "L"),
    ("png", "RGBA"),
    ("bmp", "RGB"),
    ("jpeg", "L"),
)


def pattern(name: str, rng: np.random.Generator, size: int = 32) -> np.ndarray:
    """An RGB uint8 image: stripes across, stripes down, or flat, with noise and a random colour."""
    colour = rng.uniform(0.4, 1.0, 3)
    base = np.zeros((size, size))
    period = int(rng.integers(4, 9))
    phase = int(rng.integers(0, period))
    stripes = ((np.arange(size) + phase) // (period // 2)) % 2
    if name == "horizontal":
        base = np.repeat(stripes[:, None], size, axis=1).astype(float)
    elif name == "vertical":
        base = np.repeat(stripes[None, :], size, axis=0).astype(float)
    else:
        base = np.full((size, size), 0.5)
    image = base[..., None] * colour * 200 + 30 + rng.normal(0, 8, (size, size, 3))
    return np.clip(image, 0, 255).astype(np.uint8)


def write_folder(
    root: Path, per_class: int, *, size: int = 32, seed: int = 0, classes=CLASSES
) -> Path:
    """Writes `root/<class>/<i>.<ext>` for each class, cycling formats and colour modes."""
    rng = np.random.default_rng(seed)
    for name in classes:
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            ext, mode = VARIANTS[i % len(VARIANTS)]
            image = Image.fromarray(pattern(name, rng, size)).convert(mode)
            image.save(root / name / f"{i:03d}.{ext}")
    return root
