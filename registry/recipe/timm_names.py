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
    # timm's other residual networks: inception_resnet_v2.py, senet.py and resnet50_gn.
    # Its inception_resnet_v2 is keras.applications' layout with BN scales: another recipe.
    "inception_resnet_v2": "inception_resnet_v2_timm",
    "resnet50_gn": "resnet50_gn",
    "legacy_senet154": "legacy_senet154",
    "legacy_seresnet18": "legacy_seresnet18",
    "legacy_seresnet34": "legacy_seresnet34",
    "legacy_seresnet50": "legacy_seresnet50",
    "legacy_seresnet101": "legacy_seresnet101",
    "legacy_seresnet152": "legacy_seresnet152",
    "legacy_seresnext26_32x4d": "legacy_seresnext26_32x4d",
    "legacy_seresnext50_32x4d": "legacy_seresnext50_32x4d",
    "legacy_seresnext101_32x4d": "legacy_seresnext101_32x4d",
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
