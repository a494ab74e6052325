"""A stage's `per_block`: each block's own arguments over the stage's, validated and located."""

import pytest
from helpers import tiny_recipe

from registry import RecipeError, build, load_recipe
from registry.recipe.json_schema import recipe_schema

# Two bottlenecks of 4 planes, each pruned to its own widths (the second keeps the stage's 16).
PRUNED = {
    "stages.1.block": "bottle_neck",
    "stages.1.filters": 4,
    "stages.1.repeats": 2,
    "stages.1.attention": "eca",
    "stages.1.eca_kernel_size": 5,
    "stages.1.per_block": [{"conv_widths": [3, 2, 5]}, {"conv_widths": [6, 4, 5]}],
}


def problems(**overrides) -> str:
    with pytest.raises(RecipeError) as caught:
        load_recipe(tiny_recipe(**{**PRUNED, **overrides}))
    return str(caught.value)


def test_each_block_gets_its_own_arguments_over_the_stages():
    recipe = load_recipe(tiny_recipe(**PRUNED))
    stage = recipe.stages[1]
    assert [stage.block_call(j).args["conv_widths"] for j in range(2)] == [[3, 2, 5], [6, 4, 5]]
    assert stage.block_call(1).args["eca_kernel_size"] == 5  # the stage's, under the block's own
    assert stage.block_call(1).location == "stages[1].per_block[1]"
    assert recipe.stages[0].block_call(0) is recipe.stages[0].call  # no per_block: the stage's
    model = build(recipe)
    first, second = model.get_layer("layer2_block1"), model.get_layer("layer2_block2")
    assert tuple(first.conv2.conv.kernel.shape) == (3, 3, 3, 2)
    assert tuple(second.conv1.conv.kernel.shape) == (1, 1, 5, 6)
    assert first.strides == 2 and second.strides == 1  # the stage's stride, on its first block
    assert second.se.kernel == 5 and model.output.shape == (None, 3)


def test_an_empty_mapping_keeps_the_stages_arguments():
    recipe = load_recipe(tiny_recipe(**{**PRUNED, "stages.1.per_block": [{}, {"filters": 8}]}))
    assert [recipe.stages[1].block_call(j).args["filters"] for j in range(2)] == [4, 8]


def test_a_list_of_another_length_than_repeats_is_refused():
    message = problems(**{"stages.1.repeats": 3})
    assert "stages[1].per_block: gives 2 mapping(s), but the stage has repeats: 3" in message
    assert "one mapping per block, in order ({} for a block" in message


def test_an_argument_the_block_does_not_take_is_refused_with_the_closest():
    message = problems(**{"stages.1.per_block": [{"conv_width": [3, 2, 5]}, {}]})
    assert "stages[1].per_block[0].conv_width: unknown argument 'conv_width'" in message
    assert "Did you mean 'conv_widths'" in message


def test_a_bad_value_is_located_at_its_block():
    message = problems(**{"stages.1.per_block": [{}, {"conv_widths": [3, 0, 5]}]})
    assert "stages[1].per_block[1].conv_widths[1]: must be at least 1. Received: 0." in message


@pytest.mark.parametrize(
    "key, value, reason",
    [
        ("repeats", 2, "a key of the stage, not an argument of its blocks"),
        ("tap", "c9", "a key of the stage, not an argument of its blocks"),
        ("block", "res_block", "every block of a stage is of the stage's kind"),
        ("strides", 2, "the stage's `strides` goes to its first block"),
    ],
)
def test_stage_keys_and_strides_are_not_a_blocks_own(key, value, reason):
    message = problems(**{"stages.1.per_block": [{}, {key: value}]})
    assert f"stages[1].per_block[1].{key}: {reason}" in message


def test_a_blocks_refusal_at_build_is_located_at_its_block():
    recipe = tiny_recipe(**{**PRUNED, "stages.1.per_block": [{}, {"conv_widths": [6, 4]}]})
    with pytest.raises(
        RecipeError, match=r"stages\[1\]\.per_block\[1\]\.conv_widths: .*expected 3"
    ):
        build(recipe)


def test_a_stage_argument_a_block_cannot_take_is_located_at_the_stage():
    # The stage's ECA k meets one block's own SE gate: the stage gives the refused argument.
    recipe = tiny_recipe(**{**PRUNED, "stages.1.per_block": [{}, {"attention": "se"}]})
    with pytest.raises(RecipeError) as caught:
        build(recipe)
    assert "stages[1].eca_kernel_size (for stages[1].per_block[1]): " in str(caught.value)
    assert "this block's gate is 'se'" in str(caught.value)


def test_a_derived_recipe_that_changes_repeats_must_give_per_block_again():
    with pytest.raises(RecipeError, match=r"stages\[0\]\.per_block: gives 3 mapping"):
        load_recipe("ecaresnet50d_pruned", overrides={"stages.0.repeats": 2})


def test_the_schema_offers_each_blocks_arguments_per_block():
    stages = recipe_schema()["$defs"]["StageSpec"]["oneOf"]
    bottleneck = next(v for v in stages if v["title"] == "bottle_neck")
    item = bottleneck["properties"]["per_block"]["anyOf"][0]["items"]
    assert "conv_widths" in item["properties"] and "eca_kernel_size" in item["properties"]
    assert "strides" not in item["properties"] and item["additionalProperties"] is False
