"""Each timm recipe fits and normalises images as timm does for that name's checkpoint.

`data/timm_pretrained_cfgs.json` holds timm's `pretrained_cfg` of every name
in `TIMM_RECIPES` (written by `timm_pretrained_cfgs.py`, run by hand where
timm is installed; the tests never import timm). The recipe a timm name
resolves to, `base:` included, must state that checkpoint's input size,
its centre crop (`train.eval`: `shorter_side` at its `crop_pct`, its
interpolation) and a `preprocessing` that computes its mean and std, so
that `predict` with a timm file sees the pixels timm's evaluation does.
"""

import functools
import json
import math
from pathlib import Path

import keras
import numpy as np
import pytest

from registry import load_recipe
from registry.recipe.timm_names import TIMM_RECIPES
from registry.training.predict_pretrained import declared_eval
from resblocks.preprocessing import Preprocess

CFGS = json.loads(
    (Path(__file__).parent / "data" / "timm_pretrained_cfgs.json").read_text(encoding="utf-8")
)

# torchvision's networks: their recipes are torchvision's (docs/tutorials/
# pretrained_resnet18_torchvision.md) and evaluate as torchvision does, which
# is timm's `tv_in1k` checkpoint of the same name. timm's default checkpoint
# of these names is a later training (a1_in1k, a1h_in1k, racm_in1k) with its
# own crop and bicubic resampling.
TORCHVISION = {
    "resnet18",
    "resnet34",
    "resnet50",
    "resnet101",
    "resnet152",
    "resnext50_32x4d",
    "wide_resnet50_2",
}


def checkpoint(name: str) -> dict:
    """The stored cfg of the checkpoint the recipe of timm's `name` follows."""
    return CFGS["tv_in1k" if name in TORCHVISION else "default"][name]


@functools.cache
def normalises_as(mode: str, mean: tuple[float, ...], std: tuple[float, ...]) -> bool:
    """Whether `Preprocess(mode)` is timm's `(pixels / 255 - mean) / std`, channel by channel."""
    pixels = np.random.default_rng(0).uniform(0, 255, (1, 4, 4, 3)).astype("float32")
    got = keras.ops.convert_to_numpy(Preprocess(mode)(pixels))
    return np.allclose(got, (pixels / 255.0 - np.array(mean)) / np.array(std), atol=1e-5)


def test_every_timm_name_has_its_checkpoint_stored():
    assert set(CFGS["default"]) == set(TIMM_RECIPES)
    assert TORCHVISION <= set(CFGS["tv_in1k"])


def test_the_torchvision_exceptions_are_needed():
    # Each name here is one whose default checkpoint is not torchvision's.
    assert all(CFGS["default"][name]["tag"] != "tv_in1k" for name in TORCHVISION)


def test_normalises_as_tells_the_conventions_apart():
    imagenet = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
    half = ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
    assert normalises_as("torch", *imagenet) and normalises_as("tf", *half)
    assert not normalises_as("tf", *imagenet) and not normalises_as("caffe", *imagenet)


@pytest.mark.parametrize("name", list(TIMM_RECIPES))
def test_the_recipe_evaluates_as_timms_checkpoint(name):
    cfg = checkpoint(name)
    recipe = load_recipe(TIMM_RECIPES[name])
    where = f"timm {name} ({cfg['tag']}), recipe {recipe.name}"
    channels, height, width = cfg["input_size"]
    assert tuple(recipe.input_shape) == (height, width, channels), f"{where}: input_shape"
    fit = declared_eval(recipe)
    assert fit is not None, f"{where}: no train.eval, so images would be squashed"
    assert cfg["crop_mode"] == "center", f"{where}: only timm's centre crop is expressible"
    assert fit.resize == "shorter_side", f"{where}: train.eval.resize"
    assert fit.crop_pct == cfg["crop_pct"], f"{where}: train.eval.crop_pct"
    assert fit.interpolation == cfg["interpolation"], f"{where}: train.eval.interpolation"
    # timm's transforms_imagenet_eval: Resize(floor(size / crop_pct)), then CenterCrop(size).
    scale = (math.floor(height / cfg["crop_pct"]), math.floor(width / cfg["crop_pct"]))
    assert fit.resize_size((height, width)) == scale, f"{where}: the size resized to"
    assert fit.tta == "none", f"{where}: timm evaluates without test-time flips"
    mean, std = tuple(cfg["mean"]), tuple(cfg["std"])
    assert normalises_as(recipe.preprocessing, mean, std), f"{where}: preprocessing"
