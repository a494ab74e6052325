"""timm's ResNet variants as shipped recipes: the trainable parameters timm counts.

Each count is timm 1.0.31's `sum(p.numel() for p in create_model(name).parameters())`
at 1000 classes (read in a scratch environment; the tests never import
timm). The recipes of more than 20 blocks are built in `make test-slow`
only (helpers.is_large); `timm/NAME` names each recipe.
"""

import pytest
from helpers import trainable_parameters_test

from registry import load_recipe

# timm name (= recipe name) -> trainable parameters at 1000 classes.
TIMM_TRAINABLE = {
    # The blocks existed: other depths, widths, SE, the deep stem, avg_down.
    "resnet26": 15_995_176,
    "resnet34d": 21_816_904,
    "resnet101c": 44_568_392,
    "resnet152c": 60_212_040,
    "resnet101s": 44_672_936,
    "resnet152s": 60_316_584,
    "resnet200": 64_673_832,
    "resnext50d_32x4d": 25_048_136,
    "resnext101_32x4d": 44_177_704,
    "resnext101_32x16d": 194_026_792,
    "resnext101_32x32d": 468_530_472,
    "seresnet101": 49_326_872,
    "seresnet152": 66_821_848,
    "seresnet152d": 66_841_080,
    "seresnet200d": 71_855_096,
    "seresnet269d": 113_672_760,
    "seresnext26d_32x4d": 16_809_512,
    "seresnext101_32x4d": 48_955_416,
    "seresnext101_32x8d": 93_569_048,
    "seresnext101_64x4d": 88_232_984,
    "seresnext101d_32x8d": 93_588_280,
    # timm's tiered deep stem (deep_stem's first_width)
    "resnet10t": 5_435_488,
    "resnet14t": 10_081_632,
    "resnet26t": 16_011_872,
    "resnet50t": 25_573_728,
    "seresnet50t": 28_104_720,
    "seresnext26t_32x4d": 16_806_976,
    # ResNet-RS: a strided convolution pools in the stem (deep_stem's conv_pool), SE at 1/4
    "resnetrs50": 35_691_912,
    "resnetrs101": 63_618_696,
    "resnetrs152": 86_621_576,
    "resnetrs200": 93_209_992,
    "resnetrs270": 129_861_448,
    "resnetrs350": 163_956_168,
    "resnetrs420": 191_891_656,
}


test_trainable_parameters_equal_timms = trainable_parameters_test(TIMM_TRAINABLE)


@pytest.mark.parametrize("name", list(TIMM_TRAINABLE))
def test_the_timm_name_is_the_recipe(name):
    assert load_recipe(f"timm/{name}").name == name
