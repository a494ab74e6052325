"""Recipe files and validation errors: located, worded, with the fix."""

import pytest

from registry import RecipeError, build, load_recipe
from registry.recipe.json_schema import recipe_schema


def write(tmp_path, text, name="net.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


TINY = """
name: tiny
input_shape: [32, 32, 3]
stem: {block: cifar_stem, filters: 8}
stages:
  - {block: res_block, filters: 8, repeats: 2, tap: c2}
  - {block: res_block, filters: 16, repeats: 2, strides: 2, tap: c3}
head: {block: classifier, num_classes: 3}
"""


def test_a_file_builds(tmp_path):
    model = build(write(tmp_path, TINY))
    assert [layer.name for layer in model.layers][1:] == [
        "stem",
        "stage1_block1",
        "stage1_block2",
        "stage2_block1",
        "stage2_block2",
        "head",
    ]


def test_typo_in_a_block_name_suggests_the_closest():
    with pytest.raises(RecipeError) as error:
        build("resnet50", overrides={"stages.0.block": "bottlenek"})
    message = str(error.value)
    assert "resnet50.yaml" in message and "stages[0].block" in message
    assert "Did you mean 'bottle_neck' or " in message  # the closest first


def test_every_problem_is_located(tmp_path):
    text = TINY.replace("filters: 8, repeats: 2", "filters: 0, repeats: 2").replace(
        "filters: 16", "filterz: 16"
    )
    with pytest.raises(RecipeError) as error:
        load_recipe(write(tmp_path, text))
    message = str(error.value)
    assert "net.yaml (3 problems)" in message
    assert "stages[0].filters: must be at least 1. Received: 0." in message
    assert (
        "stages[1].filters: required argument 'filters' of block 'res_block' is missing." in message
    )
    assert (
        "stages[1].filterz: unknown argument 'filterz' for block 'res_block'. Did you mean "
        "'filters'? Its arguments: activation," in message
    )


def test_structure_is_checked_first(tmp_path):
    with pytest.raises(
        RecipeError, match=r"stages\[0\]\.repeats: must be at least 1\. Received: 0\."
    ):
        load_recipe(write(tmp_path, TINY.replace("repeats: 2, tap: c2", "repeats: 0, tap: c2")))


def test_duplicate_keys_are_refused(tmp_path):
    with pytest.raises(RecipeError, match=r"duplicate key 'stem' on line 5 \(first on line 4\)"):
        load_recipe(write(tmp_path, TINY.replace("stages:", "stem: {block: cifar_stem}\nstages:")))


def test_python_tags_are_refused(tmp_path):
    with pytest.raises(RecipeError, match="no Python tags"):
        load_recipe(write(tmp_path, "name: !!python/object/apply:os.system ['true']\n"))


def test_base_merges_and_patches_lists_by_index(tmp_path):
    write(tmp_path, TINY, "tiny.yaml")
    path = write(
        tmp_path, "base: tiny.yaml\nname: deeper\nstages: {1: {repeats: 3}}\n", "deeper.yaml"
    )
    recipe = load_recipe(path)
    assert recipe.name == "deeper"
    assert [stage.repeats for stage in recipe.stages] == [2, 3]


def test_cyclic_bases_are_refused(tmp_path):
    write(tmp_path, "base: b.yaml\n", "a.yaml")
    write(tmp_path, "base: a.yaml\n", "b.yaml")
    with pytest.raises(RecipeError, match="the bases form a cycle: a.yaml -> b.yaml -> a.yaml"):
        load_recipe(str(tmp_path / "a.yaml"))


def test_unused_defaults_are_refused(tmp_path):
    with pytest.raises(
        RecipeError,
        match="defaults.use_biass: no block of this recipe takes an argument 'use_biass'",
    ):
        load_recipe(write(tmp_path, TINY + "defaults: {use_biass: true}\n"))


def test_identity_shortcut_where_the_shape_changes(tmp_path):
    text = TINY.replace("strides: 2, tap: c3", "strides: 2, shortcut: identity, tap: c3")
    with pytest.raises(
        RecipeError, match=r"stages\[1\].*identity shortcut needs the block to keep its input shape"
    ):
        build(write(tmp_path, text))


def test_unknown_feature_names_the_taps():
    with pytest.raises(
        RecipeError, match="unknown feature 'c9'. This recipe taps: c1, c2, c3, c4, c5"
    ):
        build("resnet18", include_top=False, features=["c9"])


def test_unknown_recipe_name():
    with pytest.raises(RecipeError, match="unknown recipe 'resnet05'. Did you mean 'resnet50'"):
        load_recipe("resnet05")


def test_schema_covers_every_block():
    schema = recipe_schema()
    stage_blocks = {
        variant["properties"]["block"]["const"] for variant in schema["$defs"]["StageSpec"]["oneOf"]
    }
    assert {"bottle_neck", "res_block", "inception_res_block35", "conv_bn"} <= stage_blocks
    bottleneck = next(
        v for v in schema["$defs"]["StageSpec"]["oneOf"] if v["title"] == "bottle_neck"
    )
    assert bottleneck["properties"]["filters"]["maximum"] == 8192
