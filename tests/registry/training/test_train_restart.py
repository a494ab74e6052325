"""`train --restart` starts a run over in its folder; other settings get a short diff."""

from pathlib import Path

import pytest
import yaml
from helpers import PNG, tiny_recipe, write_image_folder, write_recipe

from registry.cli import main
from registry.training.rundir import RunDir, RunDirError

RECIPE = tiny_recipe(
    name="restart_tiny",
    preprocessing="rescale",
    train={"batch_size": 4, "epochs": 1, "val_split": 0.25},
    **{"head.num_classes": 2},
)


@pytest.fixture
def job(tmp_path) -> dict:
    write_image_folder(tmp_path / "data", {"a": 6, "b": 6}, size=16, variants=PNG)
    recipe = write_recipe(tmp_path / "tiny.yaml", RECIPE)
    return {"recipe": recipe, "data": tmp_path / "data", "out": tmp_path / "run"}


def _train(job, *extra) -> int:
    words = ["train", str(job["recipe"]), "--data", str(job["data"]), "--out", str(job["out"])]
    return main([*words, "--verbose", "0", *extra])


def test_other_settings_are_refused_with_the_keys_that_differ(job, capsys):
    assert _train(job) == 0
    changed = {**RECIPE, "stages": [RECIPE["stages"][0], {**RECIPE["stages"][1], "filters": 16}]}
    job["recipe"].write_text(yaml.safe_dump(changed, sort_keys=False), encoding="utf-8")
    capsys.readouterr()
    assert _train(job) == 2
    err = capsys.readouterr().err
    assert "stages[1].filters: 8 in the run, 16 now" in err
    assert "'block': 'res_block'" not in err  # not the whole stage list
    assert "--restart" in err


def test_restart_says_what_it_removes_and_trains_again(job, capsys):
    assert _train(job) == 0
    changed = {**RECIPE, "train": {**RECIPE["train"], "batch_size": 2}}
    job["recipe"].write_text(yaml.safe_dump(changed, sort_keys=False), encoding="utf-8")
    capsys.readouterr()
    assert _train(job, "--restart") == 0
    out = capsys.readouterr().out
    assert f"--restart: removing the run in '{job['out']}'" in out
    assert "model.keras" in out.split("removed:", 1)[1].splitlines()[0]
    saved = yaml.safe_load((job["out"] / "recipe.yaml").read_text(encoding="utf-8"))
    assert saved["train"]["batch_size"] == 2


def test_restart_never_removes_other_files(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "thesis.tex").write_text("years of work", encoding="utf-8")
    (folder / "model.keras").write_bytes(b"")
    with pytest.raises(RunDirError, match="thesis.tex"):
        RunDir(folder).clear()
    assert (folder / "thesis.tex").is_file() and (folder / "model.keras").is_file()


def test_restart_of_a_new_folder_just_trains(job):
    assert _train(job, "--restart") == 0
    assert Path(job["out"], "model.keras").is_file()
