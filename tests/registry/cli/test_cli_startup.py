"""The command line answers at once: --help, list, validate, schema, exercises load no TensorFlow.

Startup time itself is not asserted (machines differ); what makes it slow
is: importing Keras imports TensorFlow, several seconds. Each command runs
in a fresh interpreter, which then reports the modules it loaded.
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from registry.cli import parser

ROOT = Path(__file__).resolve().parents[3]

PROBE = """
import json, sys
from registry.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as done:
    code = done.code
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras", "jax", "torch"))
print("\\nLOADED " + json.dumps({"code": code, "heavy": heavy[:5]}))
"""

LIGHT_COMMANDS = [
    ["--help"],
    ["list"],
    ["list", "res*"],
    ["validate", "recipes/resnet50.yaml", "recipes/inception_resnet_v2.yaml"],
    ["schema"],
    ["exercises"],
    *[[name, "--help"] for name in sorted(parser()._subparsers._group_actions[0].choices)],
]


def _run(words: list[str]) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *words],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    last = done.stdout.rsplit("LOADED ", 1)
    assert len(last) == 2, done.stdout[-2000:] + done.stderr[-2000:]
    return json.loads(last[1])


@pytest.mark.parametrize("words", LIGHT_COMMANDS, ids=" ".join)
def test_command_does_not_load_a_backend(words):
    result = _run(words)
    assert result["code"] == 0
    assert result["heavy"] == [], f"`resblocks {' '.join(words)}` imported {result['heavy']}"


def test_validate_of_a_bad_recipe_does_not_load_a_backend(tmp_path):
    recipe = tmp_path / "bad.yaml"
    recipe.write_text(
        "name: bad\nstem: {block: res_net_stem}\n"
        "stages:\n  - {block: res_block, filters: 64, repeats: 2, activation: rleu}\n"
        "head: {block: classifier, num_classes: 10}\n",
        encoding="utf-8",
    )
    result = _run(["validate", str(recipe)])
    assert result["code"] == 2
    assert result["heavy"] == []


def _options(command: argparse.ArgumentParser, prefix: str):
    for action in command._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _options(sub, f"{prefix} {name}")
        else:
            yield prefix, action


def test_every_option_of_every_command_has_help():
    missing = [
        f"{where}: {'/'.join(action.option_strings) or action.dest}"
        for where, action in _options(parser(), "resblocks")
        if not (action.help and action.help.strip())
    ]
    assert missing == []


def test_commands_that_load_tensorflow_print_no_start_up_lines():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)  # as a new user's shell has it
    done = subprocess.run(
        [sys.executable, "-m", "registry", "show", "resnet20_cifar"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "resnet20_cifar" in done.stdout
    assert done.stderr == ""  # absl's "All log messages before absl::InitializeLog()", oneDNN's


def test_compare_reads_run_folders_without_a_backend(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "recipe.yaml").write_text("name: tiny\n", encoding="utf-8")
    (run / "history.csv").write_text("epoch,loss,val_accuracy,seconds\n1,1.5,0.5,2\n")
    result = _run(["compare", str(run), "--out", str(tmp_path / "curves.png")])
    assert result["code"] == 0
    assert result["heavy"] == []
    assert (tmp_path / "curves.png").stat().st_size > 0
