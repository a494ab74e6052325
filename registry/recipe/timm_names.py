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

# timm name -> recipe, for every timm ResNet whose layout a shipped recipe is.
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
    "resnext50_32x4d": "resnext50_32x4d",
    "resnext101_32x8d": "resnext101_32x8d",
    "resnext101_64x4d": "resnext101_64x4d",
    "seresnet18": "seresnet18",
    "seresnet34": "seresnet34",
    "seresnet50": "seresnet50",
    "seresnext50_32x4d": "seresnext50_32x4d",
    "wide_resnet50_2": "wide_resnet50_2",
    "wide_resnet101_2": "wide_resnet101_2",
    # timm's ResNetV2 (models/resnetv2.py): the recipes have timm's names
    "resnetv2_18": "resnetv2_18",
    "resnetv2_18d": "resnetv2_18d",
    "resnetv2_34": "resnetv2_34",
    "resnetv2_34d": "resnetv2_34d",
    "resnetv2_50": "resnetv2_50",
    "resnetv2_50d": "resnetv2_50d",
    "resnetv2_50d_gn": "resnetv2_50d_gn",
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
