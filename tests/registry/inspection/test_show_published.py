"""`resblocks show` compares published figures only with the network they were published for."""

import pytest

from registry.cli import main
from registry.inspection.stage_table import references_origin
from registry.recipe import find_recipe, list_models, load_recipe
from registry.recipe.strict_yaml import load_yaml

ANSWER = """\
base: resnet50
name: resnet50_basic
stages: {0: {block: res_block}, 1: {block: res_block}, 2: {block: res_block}, 3: {block: res_block}}
"""


def test_an_exercise_answer_shows_its_own_counts_without_percentages(tmp_path, capsys):
    answer = tmp_path / "answer.yaml"
    answer.write_text(ANSWER, encoding="utf-8")
    assert main(["show", str(answer)]) == 0
    out = capsys.readouterr().out
    assert "3.664 G" in out
    assert "%" not in out
    assert "published figures: those of resnet50" in out


def test_the_published_network_is_compared(capsys):
    assert main(["show", "resnet50"]) == 0
    assert "counted 25,636,712 (+0.0%)" in capsys.readouterr().out


def test_another_class_count_is_another_network():
    assert references_origin(load_recipe("resnet50", num_classes=5)).name == "resnet50"


def test_a_base_without_changes_keeps_the_comparison(tmp_path):
    same = tmp_path / "same.yaml"
    same.write_text("base: resnet50\nname: my_resnet50\n", encoding="utf-8")
    assert references_origin(load_recipe(str(same))) is None


# Recipes that add only a train: section to their base: the same network, so the
# base's published figures are theirs too and are compared.
SAME_NETWORK_AS_BASE = {"resnet50_rsb_a3", "resnet50_tv_v2"}


@pytest.mark.parametrize("name", list_models())
def test_shipped_recipes_compare_only_the_figures_they_declare(name):
    """plain20_cifar inherits ResNet-20's figures, remote_sensing_resnet50 ResNet-50's."""
    recipe = load_recipe(name)
    declares = "references" in load_yaml(find_recipe(name))
    origin = references_origin(recipe)
    if declares or not recipe.references or name in SAME_NETWORK_AS_BASE:
        assert origin is None
    else:
        assert origin is not None and origin.name != name
