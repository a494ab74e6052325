"""timm's Inception-ResNet-V2, SENets and ResNet-50-GN: trainable parameters equal timm's.

Counted from timm 1.0.31's models (`sum(p.numel() for p in
create_model(name).parameters())`, all trainable) at 1000 classes. The
recipes of more than 20 blocks build in `make test-slow` only (helpers.is_large).
"""

from helpers import trainable_parameters_test

from registry import load_recipe

TRAINABLE = {
    "inception_resnet_v2_timm": 55_843_464,
    "resnet50_gn": 25_557_032,
    "legacy_seresnet18": 11_778_592,
    "legacy_seresnet34": 21_958_868,
    "legacy_seresnet50": 28_088_024,
    "legacy_seresnet101": 49_326_872,
    "legacy_seresnet152": 66_821_848,
    "legacy_seresnext26_32x4d": 16_790_280,
    "legacy_seresnext50_32x4d": 27_559_896,
    "legacy_seresnext101_32x4d": 48_955_416,
    "legacy_senet154": 115_088_984,
    "senet154": 115_088_984,
}


test_trainable_parameters_equal_timms = trainable_parameters_test(TRAINABLE)


def test_timms_inception_resnet_v2_is_the_timm_recipe():
    # keras.applications' layout has no BN scale; timm's is `inception_resnet_v2_timm`.
    assert load_recipe("timm/inception_resnet_v2").name == "inception_resnet_v2_timm"
    assert load_recipe("timm/legacy_senet154").name == "legacy_senet154"
