"""`resblocks compare`: several run folders side by side, as a table and one figure of curves.

He et al. 2015 (Figure 6) compare networks by drawing their training and
validation curves in one plot, one colour per network, training dashed,
validation solid; this does the same for run folders, and prints what a
reader asks next: how big each network is, how long it trained and how far
it got.

Everything is read from the files a run leaves (`history.csv`,
`recipe.yaml`, and the weights inside `model.keras`), never by building or
loading a model, so comparing needs neither Keras nor TensorFlow and
answers at once.
"""

from __future__ import annotations

import dataclasses
import io
import math
import os
import zipfile
from collections.abc import Sequence
from pathlib import Path

import yaml

from registry.training import rundir
from registry.training.rundir import RunDirError, read_history_csv

# What `resblocks train --out RUN` leaves, named in the errors.
RUN_FILES = (rundir.HISTORY, rundir.RECIPE, rundir.STATE, rundir.BEST, rundir.LAST)


@dataclasses.dataclass
class RunSummary:
    """What `compare` tells about one run.

    Args:
        name: str. The run's label in the figure and the table: its folder's name.
        path: Path. The run folder.
        recipe: str or None. The recipe's `name:` as run.
        parameters: int or None. Weights of the network (trainable and not,
            as `model.count_params()` counts them); None when no model file is there.
        epochs: int. Epochs done.
        seconds: float. Training time: the epochs' `seconds` summed (validation included).
        best_val_accuracy: float or None. The highest validation accuracy; None
            for a run without validation.
        best_epoch: int or None. The first epoch that reached it.
        final_loss: float or None. The training loss of the last epoch.
        history: list of dict. `history.csv`'s rows.
    """

    name: str
    path: Path
    recipe: str | None
    parameters: int | None
    epochs: int
    seconds: float
    best_val_accuracy: float | None
    best_epoch: int | None
    final_loss: float | None
    history: list[dict[str, float]]

    def to_json(self) -> dict:
        """The table row as plain data (`compare --json`), without the history."""
        row = dataclasses.asdict(self)
        row.pop("history")
        row["path"] = str(self.path)
        return row


def read_run(path: str | os.PathLike) -> RunSummary:
    """A run folder's summary; `RunDirError` for a folder that is not a run or has no epoch yet.

    Args:
        path: str or path. A folder written by `resblocks train --out`.
    """
    folder = Path(path)
    if not folder.is_dir():
        what = "a file" if folder.exists() else "not found"
        raise RunDirError(
            f"'{folder}' is {what}; compare takes run folders, the --out of `resblocks train`."
        )
    present = [name for name in RUN_FILES if (folder / name).exists()]
    if not present:
        raise RunDirError(
            f"'{folder}' is not a run folder: it holds none of {', '.join(RUN_FILES)}. "
            "Pass the --out folder of a `resblocks train` run."
        )
    history_file = folder / rundir.HISTORY
    if not history_file.is_file():
        raise RunDirError(
            f"The run in '{folder}' has no history yet ({rundir.HISTORY} is written when its "
            "first epoch ends). Compare it once an epoch is done."
        )
    try:
        history = read_history_csv(history_file)
    except (ValueError, KeyError) as error:
        raise RunDirError(f"'{history_file}' cannot be read: {error}.") from None
    if not history:
        raise RunDirError(
            f"The run in '{folder}' has no history yet ({rundir.HISTORY} holds no epoch). "
            "Compare it once an epoch is done."
        )
    best_val, best_epoch = _best(history, "val_accuracy")
    return RunSummary(
        name=folder.resolve().name,
        path=folder,
        recipe=_recipe_name(folder / rundir.RECIPE),
        parameters=count_parameters(folder),
        epochs=int(history[-1]["epoch"]),
        seconds=round(sum(row.get("seconds", 0.0) for row in history), 3),
        best_val_accuracy=best_val,
        best_epoch=best_epoch,
        final_loss=history[-1].get("loss"),
        history=history,
    )


def compare_runs(
    paths: Sequence[str | os.PathLike], png: str | os.PathLike | None = None
) -> list[RunSummary]:
    """Reads each run folder and, with `png`, draws their curves into one figure.

    Args:
        paths: list of str or path. One or more run folders.
        png: str, path or None. The PNG file to write (`plots.plot_comparison`).

    Returns:
        One `RunSummary` per run, in the order given.
    """
    if len(paths) < 1:
        raise RunDirError(
            "compare needs at least 1 run folder (the --out of `resblocks train`). Received: none."
        )
    runs = [read_run(path) for path in paths]
    _unique_names(runs)
    if png is not None:
        from registry.training.plots import plot_comparison

        plot_comparison({run.name: run.history for run in runs}, png)
    return runs


def format_table(runs: Sequence[RunSummary]) -> str:
    """The runs as an aligned text table, one line each."""
    header = (
        "run",
        "recipe",
        "parameters",
        "epochs",
        "time",
        "best val acc",
        "at epoch",
        "final loss",
    )
    rows = [
        (
            run.name,
            run.recipe or "-",
            "-" if run.parameters is None else f"{run.parameters:,}",
            str(run.epochs),
            _duration(run.seconds),
            "-" if run.best_val_accuracy is None else f"{run.best_val_accuracy:.4f}",
            "-" if run.best_epoch is None else str(run.best_epoch),
            "-" if run.final_loss is None else f"{run.final_loss:.4f}",
        )
        for run in runs
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    # Names left-aligned, numbers right-aligned, as in any table of figures.
    lines = [
        "  ".join(
            cell.ljust(width) if i < 2 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths))
        ).rstrip()
        for row in (header, *rows)
    ]
    return "\n".join(lines)


def count_parameters(folder: Path) -> int | None:
    """The network's weights, counted from the weights file inside `model.keras` (or `last.keras`).

    A `.keras` file is a zip holding `model.weights.h5`; the network's
    weights are the arrays under its `layers` group (the optimizer's are
    under `optimizer`), which is what `model.count_params()` adds up.
    """
    for name in (rundir.BEST, rundir.LAST):
        path = folder / name
        if path.is_file():
            try:
                return _weights_in(path)
            except (OSError, KeyError, zipfile.BadZipFile):
                continue
    return None


def _weights_in(path: Path) -> int:
    import h5py

    with zipfile.ZipFile(path) as archive:
        data = archive.read("model.weights.h5")
    total = 0

    def add(name: str, item) -> None:
        nonlocal total
        if isinstance(item, h5py.Dataset):
            total += int(item.size)

    with h5py.File(io.BytesIO(data), "r") as weights:
        weights["layers"].visititems(add)
    return total


def _best(history: list[dict[str, float]], key: str) -> tuple[float | None, int | None]:
    values = [
        (row[key], int(row["epoch"])) for row in history if math.isfinite(row.get(key, math.nan))
    ]
    if not values:
        return None, None
    best = max(value for value, _ in values)
    return best, next(epoch for value, epoch in values if value == best)


def _recipe_name(path: Path) -> str | None:
    if not path.is_file():
        return None
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError:
        return None
    name = raw.get("name") if isinstance(raw, dict) else None
    return name if isinstance(name, str) else None


def _unique_names(runs: list[RunSummary]) -> None:
    """Two folders of one name (`a/run`, `b/run`) are told apart by their parents."""
    names = [run.name for run in runs]
    for run in runs:
        if names.count(run.name) > 1:
            resolved = run.path.resolve()
            run.name = f"{resolved.parent.name}/{resolved.name}"


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
