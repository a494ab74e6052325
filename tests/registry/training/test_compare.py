"""`resblocks compare`: a table equal to the runs' histories, and one figure of their curves."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import keras
import numpy as np
import pytest
from helpers import tiny_recipe
from PIL import Image

from registry.cli import main
from registry.training import rundir
from registry.training.compare import compare_runs, format_table, read_run
from registry.training.run import train
from registry.training.rundir import RunDirError, history_csv, read_history_csv


def run_cli(*argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def write_run(folder: Path, rows: list[dict], recipe: str = "hand") -> Path:
    """A run folder holding only a recipe.yaml and a history.csv in the real format."""
    folder.mkdir(parents=True)
    (folder / rundir.RECIPE).write_text(f"name: {recipe}\n")
    (folder / rundir.HISTORY).write_text(history_csv(rows))
    return folder


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> list[Path]:
    """A real run (the tiny network, 2 epochs on 16x16 arrays) and a hand-written 3-epoch one."""
    root = tmp_path_factory.mktemp("compare")
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 8)
    x = (y[:, None, None, None] * 80 + rng.integers(0, 40, (24, 16, 16, 3))).astype("uint8")
    recipe = tiny_recipe(name="tiny_real", train={"batch_size": 8, "epochs": 2})
    train(recipe, data=(x, y), val=(x[::2], y[::2]), out=root / "real", verbose=0)
    rows = [
        {
            "epoch": e,
            "loss": 2.0 / e,
            "accuracy": 0.3 * e,
            "val_loss": 2.2 / e,
            "val_accuracy": 0.25 * e,
            "seconds": 1.5,
        }
        for e in (1, 2, 3)
    ]
    return [root / "real", write_run(root / "hand", rows, recipe="tiny_hand")]


def test_the_table_holds_the_histories_figures(runs):
    for folder, epochs in zip(runs, (2, 3)):
        history = read_history_csv(folder / rundir.HISTORY)
        run = read_run(folder)
        best = max(row["val_accuracy"] for row in history)
        assert run.name == folder.name
        assert run.recipe == f"tiny_{folder.name}"
        assert run.epochs == epochs == len(history)
        assert run.seconds == pytest.approx(sum(row["seconds"] for row in history), abs=1e-3)
        assert run.best_val_accuracy == best
        assert run.best_epoch == next(r["epoch"] for r in history if r["val_accuracy"] == best)
        assert run.final_loss == history[-1]["loss"]
    real = keras.saving.load_model(runs[0] / rundir.BEST)
    assert read_run(runs[0]).parameters == real.count_params()
    assert read_run(runs[1]).parameters is None  # no model file in the hand-written run


def test_the_command_prints_the_table_and_draws_one_png(runs, tmp_path):
    png = tmp_path / "curves.png"
    code, out, err = run_cli("compare", *runs, "--out", png)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["run", "recipe", "parameters", "epochs"]
    for line, folder in zip(lines[1:3], runs):
        run = read_run(folder)
        parameters = "-" if run.parameters is None else f"{run.parameters:,}"
        assert line.split()[:4] == [folder.name, run.recipe, parameters, str(run.epochs)]
        assert f"{run.best_val_accuracy:.4f}" in line and f"{run.final_loss:.4f}" in line
    assert lines[-1] == f"curves: {png}"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert 20_000 < png.stat().st_size < 1_000_000
    with Image.open(png) as image:
        assert image.size == (1100, 450)  # two panels, 11 x 4.5 inches at 100 dpi


def test_json_gives_the_same_figures(runs):
    code, out, _ = run_cli("compare", *runs, "--json")
    assert code == 0
    answer = json.loads(out)
    assert answer["figure"] is None
    assert [row["name"] for row in answer["runs"]] == ["real", "hand"]
    for row, folder in zip(answer["runs"], runs):
        run = read_run(folder)
        assert row["parameters"] == run.parameters and row["epochs"] == run.epochs
        assert row["best_val_accuracy"] == run.best_val_accuracy
        assert row["best_epoch"] == run.best_epoch
        assert row["final_loss"] == run.final_loss
        assert row["seconds"] == run.seconds


def test_the_first_epoch_of_the_best_accuracy_counts_and_a_run_without_validation_has_none(
    tmp_path,
):
    rows = [
        {"epoch": 1, "loss": 2.0, "val_accuracy": 0.5, "seconds": 10.0},
        {"epoch": 2, "loss": 1.5, "val_accuracy": 0.75, "seconds": 11.5},
        {"epoch": 3, "loss": 1.25, "val_accuracy": 0.75, "seconds": 12.0},
    ]
    run = read_run(write_run(tmp_path / "a", rows))
    assert (run.best_val_accuracy, run.best_epoch, run.epochs) == (0.75, 2, 3)
    assert (run.final_loss, run.seconds, run.parameters) == (1.25, 33.5, None)
    plain = read_run(write_run(tmp_path / "b", [{"epoch": 1, "loss": 2.0, "seconds": 1.0}]))
    assert (plain.best_val_accuracy, plain.best_epoch) == (None, None)
    table = format_table([run, plain]).splitlines()
    assert table[1].split() == ["a", "hand", "-", "3", "33.5", "s", "0.7500", "2", "1.2500"]
    assert table[2].split() == ["b", "hand", "-", "1", "1.0", "s", "-", "-", "2.0000"]


def test_runs_of_one_folder_name_are_told_apart_by_their_parents(tmp_path):
    rows = [{"epoch": 1, "loss": 1.0, "val_accuracy": 0.5}]
    one = write_run(tmp_path / "x" / "run", rows)
    two = write_run(tmp_path / "y" / "run", rows)
    assert [run.name for run in compare_runs([one, two])] == ["x/run", "y/run"]


def test_a_folder_that_is_not_a_run_is_named_with_what_a_run_holds(tmp_path):
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "cat.jpg").write_bytes(b"\xff\xd8")
    code, _, err = run_cli("compare", tmp_path / "photos")
    assert code == 2
    assert f"'{tmp_path / 'photos'}' is not a run folder" in err
    assert "history.csv, recipe.yaml, state.json, model.keras, last.keras" in err
    code, _, err = run_cli("compare", tmp_path / "nowhere")
    assert code == 2 and f"'{tmp_path / 'nowhere'}' is not found" in err


def test_a_run_with_no_epoch_done_has_no_history_yet(tmp_path):
    started = tmp_path / "started"
    started.mkdir()
    (started / rundir.RECIPE).write_text("name: tiny\n")
    with pytest.raises(RunDirError, match=r"'.*started' has no history yet \(history.csv"):
        read_run(started)
    empty = write_run(tmp_path / "empty", [])
    with pytest.raises(RunDirError, match="holds no epoch"):
        read_run(empty)


def test_no_run_at_all_is_a_usage_error(tmp_path):
    code, _, err = run_cli("compare", "--out", tmp_path / "c.png")
    assert code == 2
    assert "compare needs at least 1 run folder" in err
    with pytest.raises(RunDirError, match="at least 1 run folder"):
        compare_runs([])


def test_out_must_be_a_png(tmp_path):
    run = write_run(tmp_path / "a", [{"epoch": 1, "loss": 1.0}])
    code, _, err = run_cli("compare", run, "--out", tmp_path / "c.jpg")
    assert code == 2 and "--out is a PNG file" in err
