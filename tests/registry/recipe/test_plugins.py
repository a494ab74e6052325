"""A recipe's `plugins:` run only when allowed, once per process.

They fail with a clear RecipeError.
"""

import itertools
import os
import sys
import textwrap

import pytest
from plugin_files import block_source, forgetting_plugins

from registry import RecipeError, build, list_blocks, load_recipe
from registry.cli import main

_NUMBERS = itertools.count()


def recipe_text(block: str, plugins: str) -> str:
    return textwrap.dedent(f"""
        name: with_plugin
        input_shape: [8, 8, 3]
        plugins: {plugins}
        stem: {{block: cifar_stem, filters: 4}}
        stages:
          - {{block: {block}, filters: 4}}
        head: {{block: classifier, num_classes: 2}}
    """)


@pytest.fixture(autouse=True)
def forget_plugin_blocks():
    """Unregisters what each test's plugins registered, so other tests see the built-in registry."""
    with forgetting_plugins():
        yield


@pytest.fixture
def plugin(tmp_path):
    """A recipe file and its plugin file, with a block name unique to this test."""
    block = f"plugin_conv_{next(_NUMBERS)}_{os.getpid()}"
    (tmp_path / "blocks").mkdir()
    (tmp_path / "blocks" / "conv.py").write_text(block_source(block))
    recipe = tmp_path / "net.yaml"
    recipe.write_text(recipe_text(block, "[blocks/conv.py]"))
    return block, recipe


def test_plugins_are_refused_unless_allowed(plugin):
    block, recipe = plugin
    with pytest.raises(RecipeError) as info:
        load_recipe(str(recipe))
    message = str(info.value)
    for fragment in (
        str(recipe),
        "plugins:",
        "wants to run Python code",
        "blocks/conv.py",
        "allow_plugins=True",
        "--allow-plugins",
    ):
        assert fragment in message
    assert block not in list_blocks()  # nothing ran


def test_allowed_plugins_register_their_blocks_before_validation(plugin):
    block, recipe = plugin
    model = build(str(recipe), allow_plugins=True)
    assert model.get_layer("stage1").__class__.__name__ == "PluginConv"
    assert block in list_blocks()


def test_loading_a_recipe_twice_imports_its_plugin_once(plugin):
    block, recipe = plugin
    first = load_recipe(str(recipe), allow_plugins=True)
    second = load_recipe(str(recipe), allow_plugins=True)
    assert first.stages[0].call.cls is second.stages[0].call.cls
    assert sys.modules[first.stages[0].call.cls.__module__].IMPORTS == 1


def test_a_loaded_recipe_needs_no_second_permission(plugin):
    _, recipe = plugin
    loaded = load_recipe(str(recipe), allow_plugins=True)
    assert build(loaded).name == "with_plugin"


def test_plugin_paths_are_relative_to_the_recipe_file(plugin, tmp_path, monkeypatch):
    _, recipe = plugin
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert load_recipe(str(recipe), allow_plugins=True).name == "with_plugin"


def test_plugins_of_a_base_are_relative_to_the_base(plugin, tmp_path):
    _, recipe = plugin
    derived = tmp_path / "derived" / "small.yaml"
    derived.parent.mkdir()
    derived.write_text("base: ../net.yaml\nname: derived\n")
    assert load_recipe(str(derived), allow_plugins=True).name == "derived"
    with pytest.raises(RecipeError, match="wants to run Python code"):
        load_recipe(str(derived))


def test_a_plugin_given_by_module_name(tmp_path, monkeypatch):
    block = f"plugin_module_{next(_NUMBERS)}"
    module = f"reliability_plugin_{next(_NUMBERS)}"
    (tmp_path / f"{module}.py").write_text(block_source(block))
    monkeypatch.syspath_prepend(str(tmp_path))
    raw = {
        "name": "by_module",
        "input_shape": [8, 8, 3],
        "plugins": [module],
        "stem": {"block": "cifar_stem", "filters": 4},
        "stages": [{"block": block, "filters": 4}],
    }
    assert load_recipe(raw, allow_plugins=True).stages[0].call.block == block


def test_a_plugin_that_raises_is_named_and_its_blocks_forgotten(tmp_path):
    block = f"plugin_broken_{next(_NUMBERS)}"
    plugin = tmp_path / "broken.py"
    plugin.write_text(block_source(block) + "\nraise RuntimeError('the plugin is broken')\n")
    recipe = tmp_path / "net.yaml"
    recipe.write_text(recipe_text(block, "[broken.py]"))
    with pytest.raises(RecipeError) as info:
        load_recipe(str(recipe), allow_plugins=True)
    message = str(info.value)
    for fragment in (
        str(recipe),
        "plugins[0]: importing plugin",
        "broken.py",
        "RuntimeError: the plugin is broken",
        "Fix the plugin's code",
    ):
        assert fragment in message
    assert block not in list_blocks()
    plugin.write_text(block_source(block))  # fixed: it loads, and its block registers once
    assert load_recipe(str(recipe), allow_plugins=True).stages[0].call.block == block


def test_a_plugin_with_a_syntax_error_is_named(tmp_path):
    (tmp_path / "typo.py").write_text("def broken(:\n")
    recipe = tmp_path / "net.yaml"
    recipe.write_text(recipe_text("res_block", "[typo.py]"))
    with pytest.raises(
        RecipeError, match=r"plugins\[0\]: importing plugin '.*typo.py' failed: SyntaxError"
    ):
        load_recipe(str(recipe), allow_plugins=True)


def test_a_missing_plugin_module_is_named():
    raw = {
        "name": "x",
        "input_shape": [8, 8, 3],
        "plugins": ["no_such_module_xyz"],
        "stem": {"block": "cifar_stem"},
        "stages": [{"block": "res_block", "filters": 4}],
    }
    with pytest.raises(RecipeError) as info:
        load_recipe(raw, allow_plugins=True)
    assert "plugins[0]: importing plugin 'no_such_module_xyz' failed: ModuleNotFoundError" in str(
        info.value
    )
    assert "Is it installed, and spelled right?" in str(info.value)


def test_a_missing_plugin_file_is_named(tmp_path):
    recipe = tmp_path / "net.yaml"
    recipe.write_text(recipe_text("res_block", "[gone.py]"))
    with pytest.raises(RecipeError, match=r"plugins\[0\]: plugin file '.*gone.py' not found"):
        load_recipe(str(recipe), allow_plugins=True)


@pytest.mark.parametrize(
    "plugins, fragment",
    [
        ("blocks.py", "plugins: must be a list of module names"),
        ([3], "plugins: must be a list of module names"),
        (["not a module!"], "plugins[0]: 'not a module!' is neither a module name"),
    ],
)
def test_a_malformed_plugin_list_is_refused(plugins, fragment):
    raw = {
        "name": "x",
        "input_shape": [8, 8, 3],
        "plugins": plugins,
        "stem": {"block": "cifar_stem"},
        "stages": [{"block": "res_block", "filters": 4}],
    }
    with pytest.raises(RecipeError) as info:
        load_recipe(raw, allow_plugins=True)
    assert fragment in str(info.value)


def test_the_command_line_refuses_plugins_unless_allowed(plugin, capsys):
    _, recipe = plugin
    assert main(["validate", str(recipe)]) == 2
    assert "--allow-plugins" in capsys.readouterr().err
    assert main(["validate", str(recipe), "--allow-plugins"]) == 0
    assert "ok (with_plugin, 1 stages)" in capsys.readouterr().out
