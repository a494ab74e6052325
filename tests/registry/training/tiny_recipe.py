"""Smallest network worth training in a test: a 3x3 stem of 8 filters and two one-block stages."""

from pathlib import Path

import yaml

TINY = {
    "name": "tiny",
    "input_shape": [32, 32, 3],
    "preprocessing": "rescale",
    "stem": {"block": "cifar_stem", "filters": 8},
    "stages": [
        {"name": "conv2", "block": "res_block", "filters": 8},
        {"name": "conv3", "block": "res_block", "filters": 16, "strides": 2},
    ],
    "head": {"block": "classifier", "num_classes": 3},
    "train": {
        "batch_size": 6,
        "epochs": 2,
        "val_split": 0.25,
        "augment": {"horizontal_flip": True},
    },
}


def write_tiny_recipe(path: Path, **train) -> Path:
    """TINY as a YAML file, with `train` keys laid over its train section."""
    recipe = {**TINY, "train": {**TINY["train"], **train}}
    path.write_text(yaml.safe_dump(recipe, sort_keys=False))
    return path
