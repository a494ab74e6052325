"""A recipe made of a plugin block trains with --allow-plugins.

Its run is evaluated in a fresh process.
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import pytest
from helpers import training_recipe, write_image_folder, write_recipe
from plugin_files import block_source, forgetting_plugins

from registry.cli import main

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def plugin_run(tmp_path):
    """A recipe file whose first stage is a plugin block, its plugin file, and an image folder."""
    block = f"plugin_conv_{os.getpid()}"
    (tmp_path / "my_blocks.py").write_text(block_source(block))
    recipe = training_recipe(epochs=1)
    recipe.update(name="tiny_plugin", plugins=["my_blocks.py"])
    recipe["stages"][0] = {"name": "conv2", "block": block, "filters": 8}
    write_recipe(tmp_path / "tiny_plugin.yaml", recipe)
    with forgetting_plugins():
        yield (
            tmp_path / "tiny_plugin.yaml",
            write_image_folder(tmp_path / "data", 6, seed=3),
            tmp_path / "run",
        )


def train(recipe, data, run, *flags) -> int:
    return main(
        ["train", str(recipe), "--data", str(data), "--out", str(run), "--verbose", "0", *flags]
    )


def test_train_refuses_plugins_unless_allowed_then_trains_and_saves_a_loadable_model(
    plugin_run, capsys
):
    recipe, data, run = plugin_run
    code = train(recipe, data, run)
    err = capsys.readouterr().err
    assert code == 2 and "wants to run Python code" in err and "--allow-plugins" in err
    assert not run.exists()  # refused before anything was written

    code = train(recipe, data, run, "--allow-plugins")
    assert code == 0, capsys.readouterr().err
    model = keras.saving.load_model(run / "model.keras", safe_mode=True)
    assert type(model.get_layer("conv2")).__name__ == "PluginConv"


def test_a_fresh_process_evaluates_the_run_only_with_allow_plugins(plugin_run, capsys):
    recipe, data, run = plugin_run
    assert train(recipe, data, run, "--allow-plugins") == 0, capsys.readouterr().err
    script = textwrap.dedent(f"""
        import contextlib, io
        from registry.cli import main
        for flags in ([], ["--allow-plugins"]):
            err = io.StringIO()
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                code = main(["evaluate", {str(run)!r}, "--data", {str(data)!r}, *flags])
            print(code, err.getvalue().replace(chr(10), " "))
    """)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300
    )
    without, allowed = done.stdout.splitlines()[-2:]
    assert without.split()[0] == "2" and "PluginConv" in without and "--allow-plugins" in without, (
        done.stderr
    )
    assert allowed.split() == ["0"], done.stderr
