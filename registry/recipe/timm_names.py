"""timm's model names and the shipped recipes of their layouts: `build("timm/resnet50")`.

timm names most of its ResNets as the recipes are named; its `resnet50`,
`resnet101` and `resnet152` are torchvision's "v1.5" layout (the stride on
the 3x3), which the recipes call `resnet50_tv`, `resnet101_tv` and
`resnet152_tv` because `resnet50` is keras.applications' layout (the
stride on the first 1x1). `timm/NAME` finds the recipe whose layout is
timm's NAME, so its weights load: docs/reference/timm.md lists them, and
the timm ResNets that need blocks resblocks does not have yet.
"""

PREFIX = "timm/"

# timm name -> recipe, for every timm ResNet whose layout a shipped recipe is (Res2Net,
# ResNeSt and SK-ResNet included: timm builds them on the same `ResNet` class).
TIMM_RECIPES = {
    "resnet18": "resnet18",
    "resnet18d": "resnet18d",
    "resnet26d": "resnet26d",
    "resnet34": "resnet34",
    "resnet50": "resnet50_tv",
    "resnet50c": "resnet50c",
    "resnet50d": "resnet50d",
    "resnet50s": "resnet50s",
    "resnet101": "resnet101_tv",
    "resnet101d": "resnet101d",
    "resnet152": "resnet152_tv",
    "resnet152d": "resnet152d",
    "resnet200d": "resnet200d",
    "res2net50_26w_4s": "res2net50_26w_4s",
    "res2net50_26w_6s": "res2net50_26w_6s",
    "res2net50_26w_8s": "res2net50_26w_8s",
    "res2net50_48w_2s": "res2net50_48w_2s",
    "res2net50_14w_8s": "res2net50_14w_8s",
    "res2net101_26w_4s": "res2net101_26w_4s",
    "res2net50d": "res2net50d",
    "res2net101d": "res2net101d",
    "res2next50": "res2next50",
    "resnest14d": "resnest14d",
    "resnest26d": "resnest26d",
    "resnest50d": "resnest50d",
    "resnest50d_1s4x24d": "resnest50d_1s4x24d",
    "resnest50d_4s2x40d": "resnest50d_4s2x40d",
    "resnest101e": "resnest101e",
    "resnest200e": "resnest200e",
    "resnest269e": "resnest269e",
    "resnext50_32x4d": "resnext50_32x4d",
    "resnext101_32x8d": "resnext101_32x8d",
    "resnext101_64x4d": "resnext101_64x4d",
    "seresnet18": "seresnet18",
    "seresnet34": "seresnet34",
    "seresnet50": "seresnet50",
    "seresnext50_32x4d": "seresnext50_32x4d",
    "skresnet18": "skresnet18",
    "skresnet34": "skresnet34",
    "skresnet50": "skresnet50",
    "skresnet50d": "skresnet50d",
    "skresnext50_32x4d": "skresnext50_32x4d",
    "wide_resnet50_2": "wide_resnet50_2",
    "wide_resnet101_2": "wide_resnet101_2",
    # Efficient channel attention (`attention: eca`) and anti-aliased downsampling (`anti_alias`).
    "ecaresnet26t": "ecaresnet26t",
    "ecaresnet50d": "ecaresnet50d",
    "ecaresnet50t": "ecaresnet50t",
    "ecaresnet101d": "ecaresnet101d",
    "ecaresnet200d": "ecaresnet200d",
    "ecaresnet269d": "ecaresnet269d",
    "ecaresnetlight": "ecaresnetlight",
    # Pruned (each block's widths its own: a stage's `per_block`).
    "ecaresnet50d_pruned": "ecaresnet50d_pruned",
    "ecaresnet101d_pruned": "ecaresnet101d_pruned",
    "ecaresnext26t_32x4d": "ecaresnext26t_32x4d",
    "ecaresnext50t_32x4d": "ecaresnext50t_32x4d",
    "resnetaa34d": "resnetaa34d",
    "resnetaa50": "resnetaa50",
    "resnetaa50d": "resnetaa50d",
    "resnetaa101d": "resnetaa101d",
    "seresnetaa50d": "seresnetaa50d",
    "seresnextaa101d_32x8d": "seresnextaa101d_32x8d",
    "seresnextaa201d_32x8d": "seresnextaa201d_32x8d",
    "resnetblur18": "resnetblur18",
    "resnetblur50": "resnetblur50",
    "resnetblur50d": "resnetblur50d",
    "resnetblur101d": "resnetblur101d",
    # other depths, widths and SE of the layouts above
    "resnet26": "resnet26",
    "resnet34d": "resnet34d",
    "resnet101c": "resnet101c",
    "resnet152c": "resnet152c",
    "resnet101s": "resnet101s",
    "resnet152s": "resnet152s",
    "resnet200": "resnet200",
    "resnext50d_32x4d": "resnext50d_32x4d",
    "resnext101_32x4d": "resnext101_32x4d",
    "resnext101_32x16d": "resnext101_32x16d",
    "resnext101_32x32d": "resnext101_32x32d",
    "seresnet101": "seresnet101",
    "seresnet152": "seresnet152",
    "seresnet152d": "seresnet152d",
    "seresnet200d": "seresnet200d",
    "seresnet269d": "seresnet269d",
    "seresnext26d_32x4d": "seresnext26d_32x4d",
    "seresnext101_32x4d": "seresnext101_32x4d",
    "seresnext101_32x8d": "seresnext101_32x8d",
    "seresnext101_64x4d": "seresnext101_64x4d",
    "seresnext101d_32x8d": "seresnext101d_32x8d",
    # the tiered deep stem
    "resnet10t": "resnet10t",
    "resnet14t": "resnet14t",
    "resnet26t": "resnet26t",
    "resnet50t": "resnet50t",
    "seresnet50t": "seresnet50t",
    "seresnext26t_32x4d": "seresnext26t_32x4d",
    # ResNet-RS: the deep stem pooling with a strided convolution
    "resnetrs50": "resnetrs50",
    "resnetrs101": "resnetrs101",
    "resnetrs152": "resnetrs152",
    "resnetrs200": "resnetrs200",
    "resnetrs270": "resnetrs270",
    "resnetrs350": "resnetrs350",
    "resnetrs420": "resnetrs420",
    # timm's ResNetV2 (models/resnetv2.py): the recipes have timm's names
    "resnetv2_18": "resnetv2_18",
    "resnetv2_18d": "resnetv2_18d",
    "resnetv2_34": "resnetv2_34",
    "resnetv2_34d": "resnetv2_34d",
    "resnetv2_50": "resnetv2_50",
    "resnetv2_50d": "resnetv2_50d",
    "resnetv2_50d_gn": "resnetv2_50d_gn",
    "resnetv2_50d_frn": "resnetv2_50d_frn",
    "resnetv2_50d_evos": "resnetv2_50d_evos",
    "resnetv2_50t": "resnetv2_50t",
    "resnetv2_101": "resnetv2_101",
    "resnetv2_101d": "resnetv2_101d",
    "resnetv2_152": "resnetv2_152",
    "resnetv2_152d": "resnetv2_152d",
    "resnetv2_50x1_bit": "resnetv2_50x1_bit",
    "resnetv2_50x3_bit": "resnetv2_50x3_bit",
    "resnetv2_101x1_bit": "resnetv2_101x1_bit",
    "resnetv2_101x3_bit": "resnetv2_101x3_bit",
    "resnetv2_152x2_bit": "resnetv2_152x2_bit",
    "resnetv2_152x4_bit": "resnetv2_152x4_bit",
    # timm's other residual networks: inception_resnet_v2.py, senet.py and resnet50_gn.
    # Its inception_resnet_v2 is keras.applications' layout with BN scales: another recipe.
    "inception_resnet_v2": "inception_resnet_v2_timm",
    "resnet50_gn": "resnet50_gn",
    "legacy_senet154": "legacy_senet154",
    "senet154": "senet154",
    "legacy_seresnet18": "legacy_seresnet18",
    "legacy_seresnet34": "legacy_seresnet34",
    "legacy_seresnet50": "legacy_seresnet50",
    "legacy_seresnet101": "legacy_seresnet101",
    "legacy_seresnet152": "legacy_seresnet152",
    "legacy_seresnext26_32x4d": "legacy_seresnext26_32x4d",
    "legacy_seresnext50_32x4d": "legacy_seresnext50_32x4d",
    "legacy_seresnext101_32x4d": "legacy_seresnext101_32x4d",
    # byobnet.py's ReLU ResNet-50-T with global context (`attention: gc`) after each 3x3.
    "gcresnet50t": "gcresnet50t",
}


def is_timm_name(recipe: str) -> bool:
    """`timm/NAME`: a timm model name, not a path (no further separator, no YAML suffix)."""
    rest = recipe[len(PREFIX) :]
    return (
        recipe.startswith(PREFIX)
        and bool(rest)
        and "/" not in rest
        and "\\" not in rest
        and not rest.endswith((".yaml", ".yml"))
    )


def timm_recipe(recipe: str) -> str | None:
    """The shipped recipe of `timm/NAME`, or None if no recipe has that layout."""
    return TIMM_RECIPES.get(recipe[len(PREFIX) :])
