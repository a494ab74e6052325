"""timm's Res2Net, ResNeSt and Selective Kernel ResNets: the recipes have timm's parameters.

Trainable parameters at 1000 classes, counted from timm 1.0.31's models
(`sum(p.numel() for p in create_model(name).parameters())`). The `timm/NAME`
aliases name these recipes.
"""

import pytest
from helpers import trainable_parameters_test

from registry import load_recipe

TRAINABLE = {
    "res2net50_26w_4s": 25_699_120,
    "res2net50_26w_6s": 37_051_448,
    "res2net50_26w_8s": 48_403_776,
    "res2net50_48w_2s": 25_287_304,
    "res2net50_14w_8s": 25_059_816,
    "res2net101_26w_4s": 45_206_688,
    "res2next50": 24_671_464,
    "res2net50d": 25_718_352,
    "res2net101d": 45_225_920,
    "resnest14d": 10_611_688,
    "resnest26d": 17_069_448,
    "resnest50d": 27_483_240,
    "resnest101e": 48_275_016,
    "resnest200e": 70_201_544,
    "resnest269e": 110_929_480,
    "resnest50d_4s2x40d": 30_417_592,
    "resnest50d_1s4x24d": 25_677_000,
    "skresnet18": 11_958_056,
    "skresnet34": 22_282_376,
    "skresnet50": 25_803_160,
    "skresnet50d": 25_822_392,
    "skresnext50_32x4d": 27_479_784,
}


test_trainable_parameters_equal_timms = trainable_parameters_test(TRAINABLE)


@pytest.mark.parametrize("name", list(TRAINABLE))
def test_the_timm_name_finds_the_recipe(name):
    assert load_recipe(f"timm/{name}").name == name
