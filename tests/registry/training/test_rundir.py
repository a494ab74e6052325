"""The run folder's commit: an epoch's files appear all together or not at all.

This holds whenever the process dies.
"""

import json
import os

import pytest

from registry.training import rundir
from registry.training.rundir import RunDir, RunDirError, RunState, history_csv, read_history_csv


def fake_save(text):
    def save(path):
        path.write_text(text)

    return save


def state_after(epoch, best=True):
    history = [{"epoch": e, "loss": 1.0 / e, "val_accuracy": 0.1 * e} for e in range(1, epoch + 1)]
    return RunState(epoch=epoch, history=history, best_epoch=epoch, best_val_accuracy=0.1 * epoch)


def test_a_committed_epoch_has_all_its_files(tmp_path):
    run = RunDir(tmp_path / "run")
    assert run.open() is None
    run.commit_epoch(state_after(1), fake_save("epoch 1"), best=True)
    assert (run / rundir.LAST).read_text() == "epoch 1"
    assert (run / rundir.BEST).read_text() == "epoch 1"
    assert read_history_csv(run / rundir.HISTORY) == [
        {"epoch": 1, "loss": 1.0, "val_accuracy": 0.1}
    ]
    assert RunDir(run.path).open().epoch == 1
    assert not (run / ".staging").exists() and not (run / ".commit").exists()


def test_model_keras_changes_only_on_a_better_epoch(tmp_path):
    run = RunDir(tmp_path / "run")
    run.open()
    run.commit_epoch(state_after(1), fake_save("epoch 1"), best=True)
    run.commit_epoch(state_after(2), fake_save("epoch 2"), best=False)
    assert (run / rundir.BEST).read_text() == "epoch 1"
    assert (run / rundir.LAST).read_text() == "epoch 2"


def test_a_death_while_staging_leaves_the_last_epoch(tmp_path):
    run = RunDir(tmp_path / "run")
    run.open()
    run.commit_epoch(state_after(1), fake_save("epoch 1"), best=True)

    def dies(path):
        path.write_text("half of epoch 2")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run.commit_epoch(state_after(2), dies, best=True)
    state = RunDir(run.path).open()
    assert state.epoch == 1
    assert (run / rundir.LAST).read_text() == "epoch 1"
    assert not (run / ".staging").exists()


def test_a_death_while_publishing_is_finished_on_open(tmp_path, monkeypatch):
    run = RunDir(tmp_path / "run")
    run.open()
    run.commit_epoch(state_after(1), fake_save("epoch 1"), best=True)
    real_replace = os.replace
    moved = []

    def dies_after_one(source, target):
        if moved:
            raise KeyboardInterrupt
        moved.append(target)
        real_replace(source, target)

    monkeypatch.setattr(rundir.os, "replace", dies_after_one)
    with pytest.raises(KeyboardInterrupt):
        run.commit_epoch(state_after(2), fake_save("epoch 2"), best=True)
    monkeypatch.setattr(rundir.os, "replace", real_replace)
    assert (run / ".commit").is_dir()
    state = RunDir(run.path).open()
    assert state.epoch == 2
    assert (run / rundir.LAST).read_text() == "epoch 2"
    assert (run / rundir.BEST).read_text() == "epoch 2"
    assert [row["epoch"] for row in read_history_csv(run / rundir.HISTORY)] == [1, 2]


def test_a_folder_of_other_files_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(
        RunDirError,
        match=r"is not a resblocks run folder: it holds notes.txt. Pass a new or empty folder",
    ):
        RunDir(tmp_path).open()


def test_history_csv_puts_known_columns_first():
    text = history_csv([{"epoch": 1, "val_accuracy": 0.5, "zeta": 1.0, "loss": 2.0}])
    assert text.splitlines()[0] == "epoch,loss,val_accuracy,zeta"


def test_state_round_trips_through_json():
    state = state_after(3)
    assert RunState.from_json(state.to_json()) == state
    assert json.loads(state.to_json())["epoch"] == 3
