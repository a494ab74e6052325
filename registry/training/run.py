"""train(): a recipe and data in, a run folder with the trained model out.

Resumable after any interruption. The data is an image folder, a classic
data set by name, or numpy arrays (see `sources`):

    history = train(
        "recipes/digits_demo.yaml", data="digits/train", val="digits/val", out="runs/digits"
    )
    history = train("resnet20_cifar", data="fashion_mnist", out="runs/fashion")
    history = train("resnet20_cifar", data=(x, y), val=(x_val, y_val), out="runs/arrays")

The run folder (see `rundir`) holds `model.keras` (best validation
accuracy), `last.keras` (the resume point, optimizer state included),
`history.csv`, `curves.png`, `recipe.yaml` (the recipe as run, train
section resolved), `class_names.json` and TensorBoard `logs/`. The class
names are also inside both models (the head's `class_names`), and the
recipe's preprocessing is the model's first layer, so a saved model takes
raw 0-255 RGB images and needs nothing else to predict.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import keras
import tensorflow as tf
import yaml
from pydantic import ValidationError

from registry.assembly import model_from_recipe
from registry.errors import Problem, RecipeError, short_repr
from registry.pretrained.weights import load_model
from registry.recipe import Recipe, load_recipe, validate_recipe
from registry.recipe.messages import problems_of
from registry.recipe.train_spec import TrainSpec
from registry.training import rundir, speed
from registry.training.augment import augment_images, mix_batches
from registry.training.callbacks import (
    CommitEpoch,
    ScalarLog,
    StopOnNonFiniteLoss,
    StopOnSignal,
    TrainingInterrupted,
    early_stop_reason,
)
from registry.training.data import ImageSource, image_dataset
from registry.training.distribution import (
    MultiHost,
    ProcessGroup,
    ProcessLost,
    check_same_images,
    from_process_0,
)
from registry.training.ema import ema_callbacks, statistic_shapes
from registry.training.finetune import freeze as freeze_layers
from registry.training.finetune import load_pretrained
from registry.training.losses import class_weights, head_activation, make_loss
from registry.training.optim import make_optimizer
from registry.training.plots import plot_curves
from registry.training.rundir import RunDir, RunDirError, RunState
from registry.training.sources import check_same_data, data_record, describe, training_sources
from registry.training.strategy import (
    Strategy,
    fit_scope,
    is_chief,
    make_strategy,
    split_batches,
)


def train(
    recipe: str | os.PathLike | Mapping | Recipe,
    *,
    data: str | os.PathLike | tuple,
    out: str | os.PathLike,
    val: str | os.PathLike | tuple | None = None,
    val_split: float | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    image_size: int | Sequence[int] | None = None,
    weights: str | os.PathLike | None = None,
    freeze: Sequence[str] | None = None,
    seed: int | None = None,
    strategy: str | Strategy | None = None,
    processes: ProcessGroup | None = None,
    skip_bad_images: bool | None = None,
    class_names: Sequence[str] | None = None,
    download: bool = False,
    overrides: Mapping[str, Any] | None = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    allow_plugins: bool = False,
    verbose: int = 1,
) -> keras.callbacks.History:
    """Trains a recipe on an image folder, a named data set or arrays, or resumes the run in `out`.

    The recipe's `train:` section gives the settings (defaults where it has
    none); the arguments below override it. If `out` holds an unfinished
    run of the same recipe and settings, training resumes after its last
    completed epoch; a finished one is returned as it is (raise `epochs`
    to train it further: the saved optimizer goes on as it was, its
    learning-rate schedule included).

    Args:
        recipe: a recipe name, YAML path, mapping or `Recipe`.
        data: The training images: a folder with one subfolder per class;
            a data set's name ("fashion_mnist", "mnist", "cifar10",
            "cifar100": its training split), or a folder of its files;
            or `(images, labels)` numpy arrays as `keras.datasets` gives
            them (see `registry.training.arrays` for the rules).
        out: str or path. The run folder.
        val: Validation images: a folder with the same class folders,
            `(images, labels)` arrays, or "test" for a named set's test
            split (as published tables do). None holds out `val_split` of
            each class of `data` instead, so a named set's test split stays
            unseen until `evaluate`.
        val_split: float or None. Overrides `train.val_split`.
        epochs, batch_size, image_size, weights, freeze, seed,
            skip_bad_images: override the `train:` keys of the same names.
        strategy: "default", "mirrored" (TensorFlow), "data_parallel" or
            "multi_host" (JAX), or a `tf.distribute.Strategy`; see
            `registry.training.strategy`. The batch size is the global one.
        processes: ProcessGroup or None. This process's place in a
            multi_host job; None reads KERAS_DISTRIBUTION_* variables.
        class_names: sequence of str or None. Names of the classes of
            arrays' labels (default "0", "1", ...); named sets and folders
            bring their own.
        download: bool. Let `keras.datasets` download a named set that is
            not found (needs internet; never by default).
        overrides: dotted recipe paths to values, as in `build()`.
        callbacks: extra Keras callbacks.
        allow_plugins: bool. Import the recipe's `plugins:` (custom blocks
            in Python modules), as in `build()`. They are code: trust them first.
        verbose: int. 0 silent, 1 a progress bar per epoch, 2 a line per epoch.

    Returns:
        A `keras.callbacks.History` of every epoch of the run, resumed ones
        included (`history.history["val_accuracy"]`); its `model` is the
        model after the last epoch.

    Raises:
        RecipeError: the recipe or a setting is invalid.
        DataError: the data cannot be found or used.
        RunDirError: `out` holds something else, or a run with other settings.
        TrainingInterrupted: SIGINT or SIGTERM; the last epoch is saved.
        ProcessLost: another process of a multi_host job stopped.
        NonFiniteLoss: the loss became NaN; the last good epoch is kept.
    """
    # A multi-process strategy must exist before TensorFlow or JAX runs anything else.
    strategy = make_strategy(strategy, processes)
    replicas = strategy.num_replicas_in_sync
    recipe = load_recipe(recipe, overrides=overrides, allow_plugins=allow_plugins)
    spec = resolve_spec(
        recipe,
        epochs=epochs,
        batch_size=batch_size,
        image_size=image_size,
        val_split=val_split,
        seed=seed,
        weights=os.fspath(weights) if weights is not None else None,
        freeze=list(freeze) if freeze is not None else None,
        skip_bad_images=skip_bad_images,
    )
    say = print if verbose else (lambda *a, **k: None)

    train_source, val_source = training_sources(
        data,
        val,
        val_split=spec.val_split,
        seed=spec.seed,
        skip_bad_images=spec.skip_bad_images,
        class_names=class_names,
        download=download,
    )
    say(describe(train_source, val_source, val))
    hw = spec.image_hw or _recipe_hw(recipe)
    resolved = resolve_recipe(recipe, spec, train_source.class_names, hw)
    record = data_record(data, val, train_source, val_source, spec)
    # Before anything heavy: a misnamed class is a recipe error.
    weights = class_weights(spec, train_source.class_names, train_source.labels, recipe.source)
    if weights:
        say(
            "Class weights: "
            + ", ".join(f"{train_source.class_names[c]} {w:.3g}" for c, w in weights.items())
            + "."
        )

    run = RunDir(out, writable=is_chief(strategy))
    multi_host = isinstance(strategy, MultiHost)
    state = run.open() if run.writable or not multi_host else None
    if state is not None and run.writable:
        check_same_run(run, resolved)
        check_same_data(run, record)
    resume = run / rundir.LAST if state is not None and (run / rundir.LAST).is_file() else None
    scratch = tempfile.TemporaryDirectory(prefix="resblocks-resume-") if multi_host else None
    if multi_host:  # only process 0 reads the run folder; it sends the others the resume point
        check_same_images(strategy, (train_source, val_source))
        state, resume = _resume_point_from_process_0(strategy, state, resume, Path(scratch.name))
    run.write_text(rundir.RECIPE, recipe_yaml(resolved))
    run.write_text(rundir.CLASS_NAMES, json.dumps(list(train_source.class_names), indent=1) + "\n")
    run.write_text(rundir.DATA, json.dumps(record, indent=1) + "\n")
    if state is not None and _finished(state, spec, run, say):
        return history_of(state, None)
    initial_epoch = state.epoch if state else 0

    steps = math.ceil(len(train_source) / spec.batch_size)
    multiple = split_batches(strategy, spec.batch_size, train_source, val_source, say)
    shard = (strategy.process_id, strategy.num_processes) if multi_host else (0, 1)
    train_data, val_data = make_datasets(
        spec,
        train_source,
        val_source,
        hw,
        initial_epoch,
        multiple=multiple,
        shard=shard,
        channels=resolved.input_shape[2],
    )
    if multi_host:
        say(strategy.describe(spec.batch_size))
    with precision(spec.mixed_precision), strategy.scope():
        # Before loading too: under multi_host every process must create the
        # same initial values, even those that loading then replaces.
        keras.utils.set_random_seed(spec.seed)
        if state is not None and resume is not None:
            model = load_model(resume, safe_mode=True)
            say(
                f"Resuming '{run.path}' after epoch {state.epoch} of {spec.epochs} "
                f"(best validation accuracy so far {state.best_val_accuracy:.4f})."
            )
        else:
            state = RunState()
            model = new_model(resolved, spec, steps, say)
    if scratch is not None:
        scratch.cleanup()
    where = f" on {replicas} devices ({type(strategy).__name__})" if replicas > 1 else ""
    say(
        f"Training {resolved.name} ({model.count_params():,} parameters) for "
        f"{_plural(spec.epochs, 'epoch')} "
        f"of {_plural(steps, 'step')} (batch {spec.batch_size}){where}{speed_note(spec, model)}; "
        f"run folder '{run.path}'."
    )

    state = _fit(
        model,
        train_data,
        spec=spec,
        state=state,
        run=run,
        strategy=strategy,
        callbacks=callbacks,
        validation_data=val_data,
        initial_epoch=initial_epoch,
        class_weight=weights,
        verbose=verbose,
    )
    if state.stopped:
        say(f"Stopped early after epoch {state.epoch}: {state.stopped}.")
    say(summary_line(state, run))
    return history_of(state, model)


def _finished(state: RunState, spec: TrainSpec, run: RunDir, say) -> bool:
    """Whether the run in `run` has nothing left to train (it stopped early, or is complete)."""
    if state.stopped:
        say(f"The run in '{run.path}' stopped early after epoch {state.epoch}: {state.stopped}.")
    elif state.epoch >= spec.epochs:
        say(
            f"The run in '{run.path}' is complete ({state.epoch} epochs); give more --epochs to "
            "train it further."
        )
    else:
        return False
    say(summary_line(state, run))
    return True


def _fit(
    model: keras.Model,
    train_data: tf.data.Dataset,
    *,
    spec: TrainSpec,
    state: RunState,
    run: RunDir,
    strategy: Strategy,
    callbacks: Sequence[keras.callbacks.Callback],
    **fit_args: Any,
) -> RunState:
    """`model.fit` for `spec.epochs` from `state`, each finished epoch committed to `run`.

    `fit_args` go to `fit` as they are; the pipeline shuffles, `fit` does
    not. Returns the run's state after the last epoch.

    SIGINT and SIGTERM, and a lost process of a multi_host job, become
    errors that say what was kept and how to resume.
    """
    signals = StopOnSignal()
    scalars = ScalarLog(run / rundir.LOGS) if run.writable else None
    commit = CommitEpoch(
        run,
        state,
        plot=plot_curves,
        on_commit=scalars.write if scalars else None,
        stop=stop_rule(spec),
    )
    fit_callbacks = [signals, StopOnNonFiniteLoss(_nan_advice(spec, run)), commit, *callbacks]
    fit_callbacks += ema_callbacks(model)  # validation (and the best model) on the average
    signals.install()
    try:
        with fit_scope(strategy):
            model.fit(
                train_data, epochs=spec.epochs, shuffle=False, callbacks=fit_callbacks, **fit_args
            )
    except TrainingInterrupted as stop:
        done = commit.state.epoch
        raise TrainingInterrupted(
            stop.signal_name,
            stop.epoch,
            f"Training stopped by {stop.signal_name} during epoch {stop.epoch} of {spec.epochs}. "
            + (
                _saved(done, run)
                if done
                else "No epoch had finished, so there is nothing to keep. "
            )
            + f"Run the same command again to resume from epoch {done + 1}.",
        ) from None
    except Exception as error:
        lost = strategy.lost(error) if isinstance(strategy, MultiHost) else None
        if lost is None:
            raise
        raise _process_lost(lost, strategy, commit.state.epoch, spec.epochs, run) from None
    finally:
        signals.restore()
        if scalars is not None:
            scalars.close()
    return commit.state


def stop_rule(spec: TrainSpec):
    """The `early_stopping:` rule as a function of the history, or None."""
    rule = spec.early_stopping
    if rule is None:
        return None
    return lambda history: early_stop_reason(history, rule.monitor, rule.patience, rule.min_delta)


def speed_note(spec: TrainSpec, model: keras.Model) -> str:
    """ ", mixed_bfloat16, XLA"-style words when the model runs other than float32 without XLA.

    Also says why `true` may mean float32.
    """
    policy = model.dtype_policy.name
    words = [policy] if policy != "float32" else []
    if spec.mixed_precision is True and policy == "float32":
        words.append(
            "float32: this CPU has no bfloat16 hardware, where emulated bfloat16 is slower "
            "(mixed_precision: bfloat16 forces it)"
        )
    if model.jit_compile and keras.config.backend() != "jax":  # JAX always compiles
        words.append("XLA" if keras.config.backend() == "tensorflow" else "torch.compile")
    return "".join(f", {word}" for word in words)


def resolve_spec(recipe: Recipe, **flags: Any) -> TrainSpec:
    """The recipe's `train:` section, with `flags` that are not None laid over it.

    Defaults if the recipe has no `train:` section.
    """
    base = recipe.train.model_dump() if recipe.train is not None else {}
    given = {key: value for key, value in flags.items() if value is not None}
    if isinstance(given.get("image_size"), (list, tuple)):
        given["image_size"] = list(given["image_size"])
    try:
        return TrainSpec.model_validate({**base, **given})
    except ValidationError as error:
        raise RecipeError(recipe.source, problems_of(error, "train", TrainSpec)) from None


def resolve_recipe(
    recipe: Recipe, spec: TrainSpec, class_names: Sequence[str], hw: tuple[int, int]
) -> Recipe:
    """The recipe as this run trains it: input size, classes and train section filled in."""
    if recipe.head is None:
        raise RecipeError(
            recipe.source,
            Problem("head", "training needs a head. Add `head: {block: classifier}`."),
        )
    channels = recipe.input_shape[2]
    if channels not in (1, 3):
        raise RecipeError(
            recipe.source,
            Problem(
                "input_shape",
                f"the image pipeline gives RGB (3 channels) or grayscale (1) images, but the "
                f"recipe takes {channels}. Set the third number to 3 or 1.",
            ),
        )
    raw = copy.deepcopy(recipe.raw)
    raw.pop("base", None)
    raw["input_shape"] = [hw[0], hw[1], channels]
    raw["head"] = {**raw["head"], "num_classes": len(class_names), "class_names": list(class_names)}
    if spec.loss == "bce":  # each class a yes/no question: sigmoid scores
        given = raw["head"].get("activation")
        if given not in (None, "sigmoid"):
            raise RecipeError(
                recipe.source,
                Problem(
                    "head.activation",
                    f"train.loss: bce scores each class with a sigmoid, but the head's "
                    f"activation is {given!r}. Remove head.activation (bce sets sigmoid), "
                    "or train with loss: categorical.",
                ),
            )
        raw["head"]["activation"] = head_activation(spec)
    raw["train"] = spec.model_dump(mode="json")
    return validate_recipe(raw, recipe.source)


def recipe_yaml(recipe: Recipe) -> str:
    header = (
        f"# The recipe of this run as trained (from {recipe.source}), every train setting\n"
        "# filled in. Train it again with: resblocks train THIS_FILE --data DIR --out NEW_DIR\n"
    )
    return header + yaml.safe_dump(recipe.raw, sort_keys=False, allow_unicode=True)


def new_model(recipe: Recipe, spec: TrainSpec, steps_per_epoch: int, say=print) -> keras.Model:
    """Builds (with preprocessing inside), loads weights, freezes and compiles the network."""
    model = model_from_recipe(recipe, include_preprocessing=True)
    if spec.weights:
        say(load_pretrained(model, recipe, spec.weights))
    if spec.freeze:
        frozen = freeze_layers(model, recipe, spec.freeze)
        say(f"Frozen: {', '.join(frozen)}.")
    # XLA as registry.training.speed decides for the device; under tf.distribute only
    # when asked for by name (Keras' own "auto" rule).
    xla = speed.jit_compile(spec.xla) and (spec.xla is True or not tf.distribute.has_strategy())
    model.compile(
        optimizer=make_optimizer(spec, steps_per_epoch, statistic_shapes(model)),
        loss=make_loss(spec),
        metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")],
        jit_compile=xla,
    )
    return model


def make_datasets(
    spec: TrainSpec,
    train_source: ImageSource,
    val_source: ImageSource,
    hw,
    initial_epoch: int = 0,
    multiple: int = 1,
    shard: tuple[int, int] = (0, 1),
    channels: int = 3,
):
    """(training, validation) tf.data pipelines.

    Decoded, cached, augmented per image, batched, one-hot labels, mixed
    (mixup / cutmix: soft targets), prefetched; with `multiple`
    > 1, every batch cut to a multiple of it (see `split_batches`); with a
    `shard` (process, processes), this process's slice of every batch.
    """
    n = len(train_source.class_names)

    def one_hot(images, labels):
        return images, tf.one_hot(labels, n)

    # A resumed run shuffles on from another seed rather than replaying epoch 1's order.
    seed = spec.seed + initial_epoch
    batches = dict(
        image_size=hw,
        batch_size=spec.batch_size,
        multiple=multiple,
        shard=shard,
        channels=channels,
    )
    # Each process draws its own augmentations: the same seed would flip the same places.
    augment_seed = seed + shard[0]
    train_data = image_dataset(
        train_source,
        shuffle=True,
        seed=seed,
        augment=augment_images(spec.augment, augment_seed),
        **batches,
    )
    # Validation is an evaluation: fitted as `evaluate` fits it (train.eval; no test-time flip).
    val_data = image_dataset(val_source, shuffle=False, fit=spec.eval, **batches)
    parallel = dict(num_parallel_calls=tf.data.AUTOTUNE)
    train_data, val_data = (dataset.map(one_hot, **parallel) for dataset in (train_data, val_data))
    # With mixup or cutmix, label smoothing goes into the soft targets (timm).
    train_data = mix_batches(train_data, spec.augment, augment_seed, spec.label_smoothing)
    return tuple(dataset.prefetch(tf.data.AUTOTUNE) for dataset in (train_data, val_data))


def dtype_policy(mixed: bool | str) -> str:
    """The Keras dtype policy of a `mixed_precision:` setting on this machine.

    `registry.training.speed` decides.
    """
    return speed.mixed_precision_policy(mixed)


@contextlib.contextmanager
def precision(mixed: bool | str):
    """Sets Keras' global dtype policy for the run, and restores it after."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(dtype_policy(mixed))
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def history_of(state: RunState, model: keras.Model | None) -> keras.callbacks.History:
    """A Keras History holding every epoch of the run."""
    history = keras.callbacks.History()
    history.epoch = [row["epoch"] - 1 for row in state.history]
    keys = [key for key in state.history[0] if key != "epoch"] if state.history else []
    history.history = {key: [row.get(key, float("nan")) for row in state.history] for key in keys}
    if model is not None:
        history.set_model(model)
    return history


def summary_line(state: RunState, run: RunDir) -> str:
    if state.best_epoch is None:
        return f"No epoch completed; run folder '{run.path}'."
    return (
        f"Best validation accuracy {state.best_val_accuracy:.4f} at epoch {state.best_epoch} of "
        f"{state.epoch}; best model '{run / rundir.BEST}', curves '{run / rundir.CURVES}'."
    )


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _resume_point_from_process_0(
    strategy: MultiHost, state: RunState | None, last: Path | None, scratch: Path
) -> tuple[RunState | None, Path | None]:
    """Process 0's run state and resume checkpoint, on every process of the job.

    The other processes get the checkpoint's bytes and write them under `scratch`.
    """
    chief = strategy.process_id == 0
    text = from_process_0(state.to_json().encode() if chief and state is not None else None)
    state = RunState.from_json(text.decode()) if text else None
    data = from_process_0(last.read_bytes() if chief and last is not None else None)
    if not data:
        return state, None
    if chief:
        return state, last
    copy_of_last = scratch / rundir.LAST
    copy_of_last.write_bytes(data)
    return state, copy_of_last


def _process_lost(lost: str, strategy: MultiHost, done: int, epochs: int, run: RunDir):
    """The error of a process whose job lost another: what is kept, and how to resume."""
    kept = ""
    if done:
        kept = _saved(done, run) if run.writable else _saved(done, None)
    return ProcessLost(
        f"{lost} during epoch {done + 1} of {epochs}; this process stops too. {kept}"
        f"Start the {strategy.num_processes} processes again with the same commands to "
        f"resume from epoch {done + 1}."
    )


def _saved(done: int, run: RunDir | None) -> str:
    """Which epochs are saved where (None: in process 0's run folder, on its machine)."""
    epochs = "Epoch 1 is" if done == 1 else f"Epochs 1-{done} are"
    where = f"'{run.path}'" if run is not None else "process 0's run folder"
    return f"{epochs} saved in {where}. "


def _recipe_hw(recipe: Recipe) -> tuple[int, int]:
    h, w = recipe.input_shape[:2]
    if h is None or w is None:
        raise RecipeError(
            recipe.source,
            Problem(
                "train.image_size",
                "the recipe takes any image size; say which to train at with "
                "`train: {image_size: N}` or --image-size N.",
            ),
        )
    return (h, w)


def check_same_run(run: RunDir, recipe: Recipe) -> None:
    """Refuses to resume a run of another recipe or other settings (a longer run is fine)."""
    path = run / rundir.RECIPE
    if not path.is_file():
        return
    saved = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    now = copy.deepcopy(recipe.raw)
    for raw in (saved, now):
        raw.get("train", {}).pop("epochs", None)
    # A train key added to the format since the run started, left at its default, is no change.
    # So is one added inside a section (train.augment's keys).
    _drop_new_defaults(
        now.get("train", {}), saved.get("train", {}), TrainSpec().model_dump(mode="json")
    )
    # How the model is evaluated does not change its training: a shipped recipe that has
    # since declared its `eval` (torchvision's crop) still resumes a run started without it.
    if "eval" not in saved.get("train", {}):
        now.get("train", {}).pop("eval", None)
    differences = _differences(saved, now)
    if differences:
        listed = "; ".join(
            f"{where}: {short_repr(a)} in the run, {short_repr(b)} now"
            for where, a, b in differences[:5]
        )
        more = f" and {len(differences) - 5} more" if len(differences) > 5 else ""
        raise RunDirError(
            f"'{run.path}' holds a run with other settings ({listed}{more}). Resume it with the "
            "same recipe, data and flags (only --epochs may change), pass a new --out, or "
            "start this run over with --restart (it removes the old run's files)."
        )


def _drop_new_defaults(now: dict, saved: dict, defaults: dict) -> None:
    """Removes from `now` the keys `saved` has not and that hold their default, at every depth."""
    for key, value in list(now.items()):
        if key not in saved:
            if value == defaults.get(key):
                del now[key]
        elif isinstance(value, dict) and isinstance(saved[key], dict):
            inner = defaults.get(key)
            _drop_new_defaults(value, saved[key], inner if isinstance(inner, dict) else {})


def _differences(a: Any, b: Any, where: str = "") -> list[tuple[str, Any, Any]]:
    """The keys that differ, as short paths (`stages[2].filters`), not whole sections."""
    if isinstance(a, dict) and isinstance(b, dict):
        found = []
        for key in list(a) + [k for k in b if k not in a]:
            found += _differences(a.get(key), b.get(key), f"{where}.{key}" if where else str(key))
        return found
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        found = []
        for i, (x, y) in enumerate(zip(a, b)):
            found += _differences(x, y, f"{where}[{i}]")
        return found
    if isinstance(a, list) and isinstance(b, list):
        return [(f"{where} length", len(a), len(b))]
    return [] if a == b else [(where, a, b)]


def _nan_advice(spec: TrainSpec, run: RunDir) -> str:
    return (
        f"The last good epoch stays in '{run.path}' (model.keras and last.keras are unchanged). "
        "Lower the learning rate (train.optimizer.learning_rate, now "
        f"{spec.optimizer.learning_rate:g}), "
        "warm it up (train.schedule.warmup_epochs), clip gradients (train.optimizer.clipnorm)"
        + (" or turn off mixed precision" if spec.mixed_precision else "")
        + ", then train into a new --out, starting from --weights "
        + f"'{run / rundir.BEST}' if it exists."
    )
