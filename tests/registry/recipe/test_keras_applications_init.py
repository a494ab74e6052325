"""The keras.applications ResNets initialize as keras.applications does: glorot_uniform kernels."""

import pytest

from registry import load_recipe


@pytest.mark.parametrize("name", ["resnet50", "resnet101", "resnet152"])
def test_resnet_kernels_start_as_in_keras_applications(name):
    recipe = load_recipe(name)
    calls = [recipe.stem, *(stage.call for stage in recipe.stages)]
    assert {call.args["kernel_initializer"] for call in calls} == {"glorot_uniform"}
