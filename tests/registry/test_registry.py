"""The block registry: register, get, list, and argument models from signatures."""

import inspect

import keras
import pytest

from registry import get_block, list_blocks, register_block
from registry.blocks import KINDS


def test_unknown_name_lists_the_closest():
    with pytest.raises(
        ValueError,
        match=r"unknown block 'bottlenek'\. Did you mean 'bottle_neck' or 'pre_act_bottle_neck'\?",
    ):
        get_block("bottlenek")


def test_duplicate_name_is_an_error():
    with pytest.raises(
        ValueError, match="An entry is already registered under the name 'res_block'"
    ):
        register_block("res_block")(type("Other", (keras.layers.Layer,), {}))


def test_only_layers_can_be_registered():
    with pytest.raises(TypeError, match="must be a keras.layers.Layer subclass"):
        register_block("not_a_layer_block")(object)


def test_list_filters_with_fnmatch_and_sorts():
    assert list_blocks("inception_resnet_*") == [
        "inception_res_block35",
        "inception_res_block17",
        "inception_res_block8",
        "inception_res_net_stem",
        "inception_resnet_v1_a",
        "inception_resnet_v1_b",
        "inception_resnet_v1_c",
        "inception_resnet_v1_stem",
    ]
    assert list_blocks(exclude="*stem*", kind="block") == sorted(list_blocks(kind="block"))
    assert list_blocks(kind="head") == ["classifier"]


@pytest.mark.parametrize("name", list_blocks())
def test_argument_model_mirrors_the_constructor(name):
    entry = get_block(name)
    assert entry.kind in KINDS
    signature = inspect.signature(entry.cls.__init__)
    arguments = {
        n: p
        for n, p in signature.parameters.items()
        if n != "self" and p.kind is p.POSITIONAL_OR_KEYWORD
    }
    fields = entry.args.model_fields
    assert set(fields) == set(arguments)
    for field_name, parameter in arguments.items():
        if parameter.default is not parameter.empty:
            assert fields[field_name].default == parameter.default, field_name


def test_a_user_block_is_registered_validated_and_saved(tmp_path):
    @register_block("test_user_scale_block")
    class ScaleBlock(keras.layers.Layer):
        def __init__(self, factor: float = 2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def call(self, x):
            return x * self.factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

    from registry import RecipeError, build

    recipe = {
        "name": "tiny",
        "input_shape": [16, 16, 3],
        "stem": {"block": "cifar_stem", "filters": 4},
        "stages": [{"block": "test_user_scale_block", "factor": 0.5}],
        "head": {"num_classes": 2},
    }
    model = build(recipe)
    assert model.get_layer("stage1").factor == 0.5
    path = tmp_path / "tiny.keras"
    model.save(path)
    assert keras.saving.load_model(path, safe_mode=True).get_layer("stage1").factor == 0.5

    recipe["stages"][0]["factor"] = "half"
    with pytest.raises(
        RecipeError, match=r"stages\[0\]\.factor: expected a number\. Received: 'half' \(a string\)"
    ):
        build(recipe)


def test_a_class_defined_again_replaces_its_entry_as_a_rerun_notebook_cell_does():
    from plugin_files import forgetting_plugins

    def define():
        class NotebookBlock(keras.layers.Layer):
            def __init__(self, filters: int = 4, **kwargs):
                super().__init__(**kwargs)
                self.filters = filters

            def get_config(self):
                return {**super().get_config(), "filters": self.filters}

        return register_block("notebook_block")(NotebookBlock)

    with forgetting_plugins():
        first, second = define(), define()
        assert first is not second and get_block("notebook_block").cls is second
        with pytest.raises(ValueError, match="already registered under the name 'notebook_block'"):
            register_block("notebook_block")(type("Other", (keras.layers.Layer,), {}))
