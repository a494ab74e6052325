"""A stage's own keys (repeats, name, tap, ...) get the "did you mean" of block arguments."""

import pytest

from registry.errors import RecipeError
from registry.recipe import validate_recipe


def _recipe(*stages):
    return {
        "name": "stage_keys",
        "input_shape": [32, 32, 3],
        "stem": {"block": "cifar_stem"},
        "stages": list(stages),
        "head": {"block": "classifier", "num_classes": 10},
    }


def test_repeat_suggests_repeats_once_for_every_stage():
    with pytest.raises(RecipeError) as caught:
        validate_recipe(
            _recipe(
                {"block": "res_block", "filters": 16, "repeat": 3},
                {"block": "res_block", "filters": 32, "repeat": 3, "strides": 2},
                {"block": "res_block", "filters": 64, "repeat": 3, "strides": 2},
            )
        )
    message = str(caught.value)
    assert message.count("unknown argument 'repeat'") == 1
    assert "stages[0].repeat, stages[1].repeat, stages[2].repeat:" in message
    assert "Did you mean 'repeats'?" in message
    assert "the keys beside them: repeats, stride_at_block, name, tap" in message


def test_tap_typo_suggests_tap():
    with pytest.raises(RecipeError, match="Did you mean 'tap'"):
        validate_recipe(_recipe({"block": "res_block", "filters": 16, "tapp": "c2"}))


def test_block_argument_typo_still_suggests_the_argument():
    with pytest.raises(RecipeError, match="Did you mean 'filters'"):
        validate_recipe(_recipe({"block": "res_block", "filtres": 16}))


def test_different_mistakes_stay_apart():
    with pytest.raises(RecipeError) as caught:
        validate_recipe(
            _recipe(
                {"block": "res_block", "filters": 16, "repeat": 2},
                {"block": "res_block", "filters": 32, "nmae": "conv3"},
            )
        )
    assert "(2 problems)" in str(caught.value)
