"""The block registry: register, get, list, and argument models from signatures."""

import keras
import pytest
from helpers import constructor_arguments, tiny_recipe

from registry import build, get_block, list_blocks, register_block
from registry.blocks import KINDS
from registry.blocks.builtin import BUILTIN_BLOCKS, OLD_NAMES
from registry.keras_compat import weights_layout
from registry.names import natural_sorted, snake_case


def test_unknown_name_lists_the_closest():
    with pytest.raises(
        ValueError,
        match=r"unknown block 'bottlenek'\. Did you mean 'bottle_neck' or ",  # the closest first
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
    assert list_blocks("inception_res_*") == [
        "inception_res_block8",
        "inception_res_block17",
        "inception_res_block35",
        "inception_res_net_stem",
    ]
    assert list_blocks(exclude="*stem*", kind="block") == natural_sorted(list_blocks(kind="block"))
    assert list_blocks(kind="head") == ["classifier", "embedding"]


@pytest.mark.parametrize("name", list_blocks())
def test_argument_model_mirrors_the_constructor(name):
    entry = get_block(name)
    assert entry.kind in KINDS
    arguments = constructor_arguments(entry.cls)
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

    recipe = tiny_recipe(stages=[{"block": "test_user_scale_block", "factor": 0.5}])
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


def test_each_builtin_name_is_the_keras_default_name_of_its_class():
    # One rule: the name Keras gives a layer of the class (to_snake_case).
    for cls, _ in BUILTIN_BLOCKS:
        assert get_block(snake_case(cls.__name__)).cls is cls
    assert [snake_case(n) for n in ("ResBlock", "BottleNeck", "ConvBN", "InceptionResBlock35")] == [
        "res_block",
        "bottle_neck",
        "conv_bn",
        "inception_res_block35",
    ]
    assert snake_case("PreActResBlock") == "pre_act_res_block"
    assert {snake_case(c.__name__) for c, _ in BUILTIN_BLOCKS} <= set(list_blocks())


@pytest.mark.parametrize("old", sorted(OLD_NAMES))
def test_old_names_resolve_to_the_new_block_and_warn(old):
    cls, preset = OLD_NAMES[old]
    new = snake_case(cls.__name__)
    with pytest.warns(FutureWarning, match=f"'{old}' is the old name of the block '{new}'"):
        entry = get_block(old)
    assert entry.cls is cls
    assert entry.alias_of == new
    assert dict(entry.preset) == preset
    assert old not in list_blocks()


def _network(stem: str, blocks: list[str]):
    recipe = {
        "name": "aliases",
        "input_shape": [32, 32, 3],
        "stem": {"block": stem, "filters": 8},
        "stages": [
            {"name": f"s{i}", "block": block, "filters": 4, "strides": 1 + (i > 0)}
            for i, block in enumerate(blocks)
        ],
        "head": {"block": "classifier", "num_classes": 3},
    }
    return build(recipe)


def test_old_names_build_the_same_network():
    with pytest.warns(FutureWarning, match="'bottleneck' is the old name"):
        old = _network("resnet_stem", ["bottleneck", "preact_block", "preact_bottleneck"])
    new = _network("res_net_stem", ["bottle_neck", "pre_act_res_block", "pre_act_bottle_neck"])
    assert old.count_params() == new.count_params()
    assert weights_layout(old).keys() == weights_layout(new).keys()
    layout = {k: {n: tuple(v.shape) for n, v in g.items()} for k, g in weights_layout(new).items()}
    assert layout == {
        k: {n: tuple(v.shape) for n, v in g.items()} for k, g in weights_layout(old).items()
    }
