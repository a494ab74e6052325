"""`timm/NAME` finds the recipe of timm's NAME: `timm/resnet50` is `resnet50_tv`."""

import pytest

from registry import RecipeError, build, list_models, load_recipe
from registry.recipe.timm_names import TIMM_RECIPES


@pytest.mark.parametrize(
    "timm_name, recipe",
    [("resnet50", "resnet50_tv"), ("resnet101", "resnet101_tv"), ("resnet152", "resnet152_tv")],
)
def test_timms_resnets_are_the_tv_recipes(timm_name, recipe):
    assert load_recipe(f"timm/{timm_name}").name == recipe


def test_every_timm_name_is_a_shipped_recipe():
    assert set(TIMM_RECIPES.values()) <= set(list_models())


def test_a_timm_name_builds_the_recipe():
    model = build("timm/resnet18d", input_shape=(64, 64, 3))
    assert model.name == "resnet18d"


def test_a_timm_model_without_a_recipe_is_named_with_the_closest():
    with pytest.raises(RecipeError) as caught:
        load_recipe("timm/resnet50_clip")  # CLIP's attention pool: left out
    message = str(caught.value)
    assert "unknown timm model 'timm/resnet50_clip'" in message
    assert "Did you mean 'timm/resnet50c' or 'timm/resnet50'" in message
    assert "docs/reference/timm.md" in message


def test_a_file_of_that_path_is_still_a_file(tmp_path, monkeypatch):
    (tmp_path / "timm").mkdir()
    (tmp_path / "timm" / "resnet50").write_text("name: mine\nbase: resnet18\n")
    monkeypatch.chdir(tmp_path)
    assert load_recipe("timm/resnet50").name == "mine"
