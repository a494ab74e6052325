"""A training run's folder: its files, and the per-epoch commit that lets a killed run resume.

A resumed run goes on where it stopped.

Every epoch's files (the resume checkpoint `last.keras`, `model.keras` when
the epoch is the best so far, `history.csv`, `curves.png`, `state.json`) are
written into `.staging/`, which is then renamed to `.commit/` in one atomic
step: that rename is the moment the epoch counts as done. The files are
then moved into place one by one (each move atomic too), `state.json` last.
Whatever kills the process (SIGKILL, power loss, a full disk), a later
`open()` finds either a staging folder to throw away or a commit to finish,
so the folder always holds one consistent, loadable epoch and never a
half-written `model.keras`.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from registry.errors import ResblocksError

RECIPE = "recipe.yaml"
CLASS_NAMES = "class_names.json"
DATA = "data.json"  # where the images came from: export checks on the validation ones
BEST = "model.keras"
LAST = "last.keras"
HISTORY = "history.csv"
CURVES = "curves.png"
STATE = "state.json"
LOGS = "logs"
TRANSCRIPT = "transcript.txt"  # what `resblocks demo` printed
_STAGING = ".staging"
_COMMIT = ".commit"
# Names a run folder may hold, so a folder of someone else's files is never taken for one.
_OURS = {
    *(RECIPE, CLASS_NAMES, DATA, BEST, LAST, HISTORY, CURVES, STATE, LOGS, TRANSCRIPT),
    *(_STAGING, _COMMIT),
}
# history.csv columns in this order first; any other metric follows, sorted.
_COLUMNS = ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "learning_rate", "seconds"]


class RunDirError(ResblocksError):
    """A run folder that cannot be used for this run; the message says why and what to do."""


@dataclasses.dataclass
class RunState:
    """Where a run stands after its last completed epoch.

    Args:
        epoch: int. Epochs completed.
        history: list of dict. One row per completed epoch: `epoch` (1-based)
            and each metric (`loss`, `accuracy`, `val_loss`, ...).
        best_epoch: int or None. The epoch `model.keras` was saved at.
        best_val_accuracy: float or None. Its validation accuracy.
        stopped: str or None. Why the run stopped early (`early_stopping`);
            a stopped run is complete and does not train on.
    """

    epoch: int = 0
    history: list[dict[str, float]] = dataclasses.field(default_factory=list)
    best_epoch: int | None = None
    best_val_accuracy: float | None = None
    stopped: str | None = None

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=1) + "\n"

    @classmethod
    def from_json(cls, text: str) -> RunState:
        return cls(**json.loads(text))


class RunDir:
    """The files of one training run.

    Args:
        path: str or path. The run folder (`--out`).
        writable: bool. False for the processes other than 0 of a multi-process
            run: they read the folder to resume but leave writing to the chief.
    """

    def __init__(self, path: str | os.PathLike, *, writable: bool = True):
        self.path = Path(path)
        self.writable = writable

    def __truediv__(self, name: str) -> Path:
        return self.path / name

    def open(self) -> RunState | None:
        """Checks the folder is a run folder (or new), finishes or drops an
        interrupted commit, and returns the state of the last completed
        epoch, or None for a run with no epoch done yet."""
        if self.path.exists() and not self.path.is_dir():
            raise RunDirError(
                f"The run folder '{self.path}' is a file. Pass a folder path to --out."
            )
        if self.path.is_dir():
            foreign = sorted(
                name
                for name in os.listdir(self.path)
                if name not in _OURS and not name.startswith(".") and not _is_evaluation(name)
            )
            if foreign and not (self.path / STATE).is_file() and not (self.path / _COMMIT).is_dir():
                raise RunDirError(
                    f"The folder '{self.path}' is not a resblocks run folder: it holds "
                    f"{', '.join(foreign[:5])}{', ...' if len(foreign) > 5 else ''}. "
                    "Pass a new or empty folder to --out (or the folder of a run to resume)."
                )
        if self.writable:
            self.path.mkdir(parents=True, exist_ok=True)
            if (self.path / _COMMIT).is_dir():
                self._publish()
            shutil.rmtree(self.path / _STAGING, ignore_errors=True)
        state_file = self.path / STATE
        if not state_file.is_file():
            return None
        try:
            return RunState.from_json(state_file.read_text(encoding="utf-8"))
        except (ValueError, TypeError) as error:
            raise RunDirError(
                f"'{state_file}' cannot be read ({error}). It is written atomically, so "
                "something else changed it. Delete the run folder to start over."
            ) from None

    def clear(self) -> list[str]:
        """Removes what a run wrote here (`train --restart`); returns the names removed.

        Only a run folder's own files go (models, history, curves, logs,
        evaluations); a folder holding anything else is refused, so a
        mistyped --out never deletes someone's files.
        """
        if not self.path.is_dir():
            return []
        names = sorted(os.listdir(self.path))
        foreign = [
            n for n in names if n not in _OURS and not n.startswith(".") and not _is_evaluation(n)
        ]
        if foreign:
            raise RunDirError(
                f"--restart removes a run folder's own files only, and '{self.path}' also holds "
                f"{', '.join(foreign[:5])}{', ...' if len(foreign) > 5 else ''}. Pass a new "
                "--out, or move those files first."
            )
        for name in names:
            target = self.path / name
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            else:
                target.unlink()
        return [n for n in names if n not in (_STAGING, _COMMIT)]

    def write_text(self, name: str, text: str) -> None:
        """Writes a file of the run atomically: a temporary file, then a rename."""
        if self.writable:
            atomic_write(self.path / name, lambda tmp: tmp.write_text(text, encoding="utf-8"))

    def commit_epoch(
        self,
        state: RunState,
        save_last: Callable[[Path], None],
        *,
        best: bool,
        plot: Callable[[list[dict[str, float]], Path], None] | None = None,
        save_best: Callable[[Path], None] | None = None,
    ) -> None:
        """Makes epoch `state.epoch` durable: all of its files, or none.

        Args:
            state: RunState. The state after this epoch.
            save_last: function of a path; saves the resume checkpoint there.
            best: bool. Whether this epoch's model is also the new `model.keras`.
            plot: function of (history, path), or None; draws `curves.png`.
            save_best: function of a path, or None; saves `model.keras` when
                it is not the resume checkpoint's copy (the weights' moving average).
        """
        if not self.writable:
            # Saving a model distributed over several processes takes part in
            # collective steps, so a process that keeps nothing saves all the
            # same, into a folder that is then deleted (as tf.distribute's
            # non-chief workers do).
            with tempfile.TemporaryDirectory(prefix="resblocks-unkept-") as scratch:
                save_last(Path(scratch) / LAST)
                if best and save_best is not None:
                    save_best(Path(scratch) / BEST)
            return
        staging = self.path / _STAGING
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        save_last(staging / LAST)
        if best and save_best is not None:
            save_best(staging / BEST)
        elif best:
            _link_or_copy(staging / LAST, staging / BEST)
        (staging / HISTORY).write_text(history_csv(state.history), encoding="utf-8")
        if plot is not None:
            plot(state.history, staging / CURVES)
        (staging / STATE).write_text(state.to_json(), encoding="utf-8")
        for name in os.listdir(staging):
            _fsync(staging / name)
        _fsync(staging)
        os.rename(staging, self.path / _COMMIT)  # the commit point
        _fsync(self.path)
        self._publish()

    def _publish(self) -> None:
        """Moves a committed epoch's files into place, the state last."""
        commit = self.path / _COMMIT
        names = sorted(os.listdir(commit), key=lambda name: name == STATE)
        for name in names:
            os.replace(commit / name, self.path / name)
        _fsync(self.path)
        commit.rmdir()


def history_csv(history: list[Mapping[str, Any]]) -> str:
    """The history as CSV text, one row per epoch, known columns first."""
    keys = {key for row in history for key in row}
    columns = [c for c in _COLUMNS if c in keys] + sorted(keys - set(_COLUMNS))
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\n")
    writer.writeheader()
    for row in history:
        writer.writerow({key: _cell(row.get(key)) for key in columns})
    return out.getvalue()


def read_history_csv(path: str | os.PathLike) -> list[dict[str, float]]:
    """Rows of a `history.csv`, numbers as float (`epoch` as int)."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [
        {k: (int(v) if k == "epoch" else float(v)) for k, v in row.items() if v != ""}
        for row in rows
    ]


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Calls `write(temporary_path)`, then renames the result to `path`."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        write(tmp)
        _fsync(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _is_evaluation(name: str) -> bool:
    """`resblocks evaluate` draws `confusion_<folder>.png` beside the model."""
    return name.startswith("confusion_") and name.endswith(".png")


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float) and math.isfinite(value):
        return f"{value:.6g}"
    return value


def _link_or_copy(source: Path, target: Path) -> None:
    # A hard link costs nothing; the files are never changed in place, only
    # replaced, so the two names cannot disturb each other.
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def _fsync(path: Path) -> None:
    """Flushes a file or folder to disk, where the platform allows it."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
