"""Keras callbacks of a training run: commit each epoch, stop cleanly on a signal or a NaN loss.

An epoch is either committed whole (see `rundir`) or not at all, so the
two ways of stopping early both abandon the epoch in progress by raising
out of `fit`: whatever was committed last stays the resume point, and
`model.keras` is never replaced by a model from a broken epoch.
"""

from __future__ import annotations

import dataclasses
import math
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np

from registry.training.ema import save_ema, uses_ema
from registry.training.optim import current_learning_rate
from registry.training.rundir import RunDir, RunState
from registry.training.stops import NonFiniteLoss, TrainingInterrupted


class StopOnSignal(keras.callbacks.Callback):
    """Turns SIGINT and SIGTERM into a clean stop at the next step boundary.

    The first signal asks to stop: at the end of the step in progress (or of
    the validation step) `TrainingInterrupted` is raised, abandoning the
    epoch; a commit in progress always finishes first, since commits run
    between steps. A second signal raises at once. The previous handlers
    are restored when training ends. Signals can only be caught in the main
    thread; elsewhere this callback does nothing.
    """

    SIGNALS = ("SIGINT", "SIGTERM")

    def __init__(self):
        super().__init__()
        self.received: str | None = None
        self.epoch = 0
        self._previous: dict[int, object] = {}

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for name in self.SIGNALS:
            number = getattr(signal, name)
            self._previous[number] = signal.signal(number, self._handle)

    def restore(self) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        self._previous.clear()

    def _handle(self, number, frame) -> None:
        name = signal.Signals(number).name
        if self.received is not None:
            raise TrainingInterrupted(name, self.epoch)
        self.received = name

    def _check(self) -> None:
        if self.received is not None:
            raise TrainingInterrupted(self.received, self.epoch)

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch + 1
        self._check()

    def on_train_batch_end(self, batch, logs=None):
        self._check()

    def on_test_batch_end(self, batch, logs=None):
        self._check()


class StopOnNonFiniteLoss(keras.callbacks.Callback):
    """Raises `NonFiniteLoss` as soon as the training loss is NaN or infinite.

    Like `keras.callbacks.TerminateOnNaN`, but it abandons the epoch
    instead of finishing it, so the broken weights are never committed.

    Args:
        advice: str. What to try, appended to the message.
    """

    def __init__(self, advice: str = ""):
        super().__init__()
        self.advice = advice
        self.epoch = 0
        self.steps: int | None = None

    def on_train_begin(self, logs=None):
        self.steps = self.params.get("steps") if self.params else None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch + 1

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(np.asarray(loss))):
            of = f" of {self.steps}" if self.steps else ""
            raise NonFiniteLoss(
                f"The training loss became {float(np.asarray(loss))} at epoch {self.epoch}, "
                f"step {batch + 1}{of}; training stopped. {self.advice}".rstrip()
            )


def early_stop_reason(
    history: list[dict[str, float]], monitor: str, patience: int, min_delta: float = 0.0
) -> str | None:
    """Why the run should stop after its last epoch, or None: Keras' EarlyStopping, on the history.

    An epoch improves on the best so far when its `monitor` is better by
    more than `min_delta` (lower for a loss, higher for an accuracy); the
    run stops once `patience` epochs in a row have not. Read off the whole
    history, so a resumed run counts as an uninterrupted one would.
    """
    maximize = "accuracy" in monitor
    best, best_epoch, wait = None, None, 0
    for row in history:
        value = row.get(monitor)
        if value is None:
            continue
        better = best is None or (
            value - min_delta > best if maximize else value + min_delta < best
        )
        if better:
            best, best_epoch, wait = value, row["epoch"], 0
        else:
            wait += 1
    if best is None or wait < patience:
        return None
    by = f" by more than {min_delta:g}" if min_delta else ""
    return (
        f"early_stopping: {monitor} has not improved{by} for {wait} epochs "
        f"(patience {patience}); its best was {best:.4f} at epoch {best_epoch}"
    )


class CommitEpoch(keras.callbacks.Callback):
    """At the end of each epoch: adds its row to the history and commits the run folder.

    The epoch is the new best (and becomes `model.keras`) when its
    validation accuracy is higher than every earlier one's. With `ema`,
    that accuracy is the moving average's (see `ema.AverageStatistics`)
    and `model.keras` holds the average; `last.keras` holds the raw model
    with the average in the optimizer, so a resumed run goes on exactly.

    Args:
        run: RunDir. Where to commit.
        state: RunState. The state so far (empty for a new run); updated.
        plot: function of (history, path) or None. Draws the curves.
        on_commit: function of (RunState) or None. Called after each commit.
        stop: function of (history) or None. Why to stop after this epoch,
            or None (see `early_stop_reason`): recorded in the committed
            state, then training stops.
    """

    def __init__(
        self,
        run: RunDir,
        state: RunState,
        plot: Callable[[list[dict[str, float]], Path], None] | None = None,
        on_commit: Callable[[RunState], None] | None = None,
        stop: Callable[[list[dict[str, float]]], str | None] | None = None,
    ):
        super().__init__()
        self.run = run
        self.state = state
        self.plot = plot
        self.on_commit = on_commit
        self.stop = stop
        self._started = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        logs = {key: float(np.asarray(value)) for key, value in (logs or {}).items()}
        if not math.isfinite(logs.get("loss", 0.0)):
            return  # StopOnNonFiniteLoss raises at the batch; this is a last guard.
        row = {"epoch": epoch + 1, **logs}
        row["learning_rate"] = current_learning_rate(self.model.optimizer)
        row["seconds"] = round(time.perf_counter() - self._started, 3)
        score = row.get("val_accuracy", row.get("accuracy"))
        best = self.state.best_val_accuracy is None or (
            score is not None and score > self.state.best_val_accuracy
        )
        state = dataclasses.replace(
            self.state,
            epoch=epoch + 1,
            history=[r for r in self.state.history if r["epoch"] < epoch + 1] + [row],
        )
        if best:
            state.best_epoch, state.best_val_accuracy = epoch + 1, score
        if self.stop is not None:
            state.stopped = self.stop(state.history)
        save_best = (lambda path: save_ema(self.model, path)) if uses_ema(self.model) else None
        self.run.commit_epoch(
            state,
            lambda path: self.model.save(path),
            best=best,
            plot=self.plot,
            save_best=save_best,
        )
        self.state = state  # only once committed: an epoch that failed to save is not done
        if self.on_commit is not None:
            self.on_commit(state)
        if state.stopped:
            self.model.stop_training = True


class ScalarLog:
    """Writes each committed epoch's metrics as TensorBoard scalars.

    The layout of `keras.callbacks.TensorBoard` (`train/` and `validation/`
    folders, tags `epoch_loss`, `epoch_accuracy`, ...), so `tensorboard
    --logdir RUN/logs` shows the curves; but written with `tf.summary.write`,
    which needs no `tensorboard` package installed. Written after the
    commit, so a resumed run never logs an epoch twice.

    Args:
        log_dir: str or path. The `logs` folder of the run.
    """

    def __init__(self, log_dir: str | Path):
        import tensorflow as tf
        from tensorflow.core.framework import summary_pb2

        self._tf = tf
        self._metadata = summary_pb2.SummaryMetadata(
            plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars")
        )
        self._writers = {
            split: tf.summary.create_file_writer(str(Path(log_dir) / split))
            for split in ("train", "validation")
        }

    def write(self, state: RunState) -> None:
        tf = self._tf
        row = state.history[-1]
        for key, value in row.items():
            if key in ("epoch", "seconds"):
                continue
            split, name = ("validation", key[4:]) if key.startswith("val_") else ("train", key)
            with self._writers[split].as_default():
                tf.summary.write(
                    f"epoch_{name}",
                    tf.constant(value, tf.float32),
                    step=row["epoch"],
                    metadata=self._metadata,
                )
        for writer in self._writers.values():
            writer.flush()

    def close(self) -> None:
        for writer in self._writers.values():
            writer.close()
