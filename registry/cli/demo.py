"""`resblocks demo`, the main job of `make run`: a CIFAR-style ResNet on scikit-learn's digits.

Real images with no download: the 1797 handwritten digits inside
scikit-learn are written out as PNG class folders, then go through exactly
what a user's folder does (`train`, `evaluate`, `predict`).
"""

import contextlib
import io
import shutil
import sys
import time
from pathlib import Path

from registry.training.stops import TrainingInterrupted

RECIPE = "digits_demo"


class _Tee(io.TextIOBase):
    """Standard output that is also written to a file (Keras' epoch lines included)."""

    def __init__(self, stream, file):
        self.stream, self.file = stream, file

    def write(self, text: str) -> int:
        self.file.write(text)
        return self.stream.write(text)

    def flush(self) -> None:
        self.file.flush()
        self.stream.flush()

    def isatty(self) -> bool:
        return self.stream.isatty()


def cmd_demo(args) -> int:
    """Runs the demo, its output also written to RUN_DIR/transcript.txt (README's sample)."""
    from registry.training.rundir import TRANSCRIPT

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out.parent / f".{out.name}.{TRANSCRIPT}", "w", encoding="utf-8") as file:
        with contextlib.redirect_stdout(_Tee(sys.stdout, file)):
            code = _demo(args)
    shutil.move(out.parent / f".{out.name}.{TRANSCRIPT}", out / TRANSCRIPT)
    return code


def _demo(args) -> int:
    from registry.cli.training import progress
    from registry.training import rundir
    from registry.training.digits import write_digits_folder
    from registry.training.evaluate import evaluate
    from registry.training.predict import predict
    from registry.training.run import train

    start = time.perf_counter()
    out = Path(args.out)
    print(
        f"resblocks demo: the '{RECIPE}' recipe on scikit-learn's handwritten digits, on this "
        "machine's CPU or GPU."
    )
    train_dir, val_dir = write_digits_folder(args.data_dir, image_size=32)
    print(f"Digits written as 32x32 PNG class folders: '{train_dir}' and '{val_dir}'.")
    _clear_finished_run(out, rundir)
    try:
        train(
            RECIPE,
            data=train_dir,
            val=val_dir,
            out=out,
            epochs=args.epochs,
            verbose=progress(args.verbose),
        )
    except TrainingInterrupted as stop:
        raise TrainingInterrupted(
            stop.signal_name, stop.epoch, f"{stop} (`make run` again resumes it.)"
        ) from None

    model = out / rundir.BEST
    result = evaluate(model, val_dir, confusion_png=out / "confusion_val.png")
    print(
        f"\nValidation accuracy of {model}: {result.accuracy:.4f} on {len(result.paths)} held-out "
        "digits."
    )
    print(
        "Per digit: "
        + ", ".join(f"{name}: {value:.2f}" for name, value in result.per_class.items())
    )

    picks = [str(sorted((val_dir / str(digit)).glob("*.png"))[0]) for digit in (0, 3, 5, 7, 9)]
    print(f"\n$ {command_name()} predict {model} {' '.join(picks[:2])} ...")
    for prediction in predict(model, picks):
        print(f"{prediction.line()}   (true: {Path(prediction.path).parent.name})")

    print(
        f"\nRun folder '{out}': {rundir.BEST} (best), {rundir.LAST}, {rundir.HISTORY}, "
        f"{rundir.CURVES}, "
        f"confusion_val.png, {rundir.RECIPE}, {rundir.TRANSCRIPT}, {rundir.LOGS}/ (TensorBoard). "
        f"{time.perf_counter() - start:.0f} s in all."
    )
    return 0


def command_name() -> str:
    """How to type `resblocks` here: `.venv/bin/resblocks` when it is not on the PATH."""
    script = Path(sys.prefix) / "bin" / "resblocks"
    if shutil.which("resblocks") == str(script) or not script.is_file():
        return "resblocks"
    try:
        return str(script.relative_to(Path.cwd()))
    except ValueError:
        return str(script)


def _clear_finished_run(out: Path, rundir) -> None:
    """A finished demo run is trained again from scratch; an interrupted one resumes."""
    from registry.errors import RecipeError
    from registry.recipe.strict_yaml import load_yaml  # here: `resblocks --help` needs no pydantic

    state_file = out / rundir.STATE
    if not state_file.is_file():
        return
    state = rundir.RunDir(out).open()
    try:  # the run's own recipe says how many epochs make it finished
        train_section = load_yaml(out / rundir.RECIPE).get("train") or {}
    except RecipeError:
        return  # no readable recipe: not a finished run; `train` tells what is wrong
    epochs = train_section.get("epochs") if isinstance(train_section, dict) else None
    if state is not None and isinstance(epochs, int) and state.epoch >= epochs:
        shutil.rmtree(out)


def add_to(commands) -> None:
    p = commands.add_parser(
        "demo", help="the main job of `make run`: train on scikit-learn's digits, evaluate, predict"
    )
    p.add_argument(
        "--out",
        default="runs/digits_demo",
        metavar="RUN_DIR",
        help="run folder (default: runs/digits_demo)",
    )
    p.add_argument(
        "--data-dir",
        default="demo_data/digits",
        metavar="DIR",
        help="where the digit images are written",
    )
    p.add_argument("--epochs", type=int, default=None, metavar="N", help="default: the recipe's")
    p.add_argument(
        "--verbose",
        type=int,
        choices=(0, 1, 2),
        help="0 quiet, 1 progress bars, 2 a line per epoch (default: 1 on a terminal, else 2)",
    )
    p.set_defaults(run=cmd_demo)
