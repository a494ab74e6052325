"""Commands that train and measure models: train, evaluate (predict is in `predict`)."""

import argparse
import json
import os
import sys
from pathlib import Path

from registry.cli.options import (
    SAVED_PLUGINS_HELP,
    UsageError,
    add_data_option,
    add_image_size_option,
    add_recipe_options,
    add_tta_option,
    positive_int,
)
from registry.errors import MissingFileError
from registry.training.stops import TrainingInterrupted

PROCESS_FLAGS = ("coordinator", "num_processes", "process_id")


def cmd_train(args) -> int:
    from registry.training.distribution import ProcessGroup, ProcessLost
    from registry.training.run import train

    processes = None
    given = [
        f"--{key.replace('_', '-')}" for key in PROCESS_FLAGS if getattr(args, key) is not None
    ]
    if args.strategy == "multi_host":
        processes = ProcessGroup.from_settings(
            args.coordinator, args.num_processes, args.process_id
        )
    elif given:
        raise UsageError(f"{', '.join(given)} go with --strategy multi_host")
    if args.restart:
        _restart(args)
    try:
        train(
            args.recipe,
            data=args.data,
            out=args.out,
            val=args.val,
            val_split=args.val_split,
            epochs=args.epochs,
            batch_size=args.batch_size,
            image_size=args.image_size,
            weights=args.weights,
            freeze=args.freeze,
            seed=args.seed,
            strategy=args.strategy,
            processes=processes,
            skip_bad_images=args.skip_bad_images,
            download=args.download,
            allow_plugins=args.allow_plugins,
            verbose=progress(args.verbose),
        )
    except TrainingInterrupted:
        raise
    except ProcessLost as lost:
        # Leave at once: jax.distributed's exit barrier would wait for the
        # lost process, then abort with a C++ stack trace.
        print(f"error: {lost}", file=sys.stderr, flush=True)
        sys.stdout.flush()
        os._exit(2)
    except KeyboardInterrupt:  # before training began: nothing was committed
        raise TrainingInterrupted(
            "SIGINT", 0, "Interrupted before the first step; no epoch was saved."
        ) from None
    return 0


def _restart(args) -> None:
    """`--restart`: the run folder's files removed, after saying which."""
    from registry.training.rundir import RunDir

    if args.strategy == "multi_host":
        raise UsageError(
            "--restart goes with a single-process run; to start a multi_host run over, delete "
            f"'{args.out}' before launching it."
        )
    run = RunDir(args.out)
    if not run.path.is_dir() or not any(run.path.iterdir()):
        return
    print(f"--restart: removing the run in '{run.path}' to start over.", flush=True)
    removed = run.clear()
    print(f"removed: {', '.join(removed)}", flush=True)


def cmd_evaluate(args) -> int:
    from registry.training.eval_transform import with_tta
    from registry.training.evaluate import evaluate

    model_path = Path(args.model)
    if not (model_path.is_file() or (model_path / "model.keras").is_file()):
        raise MissingFileError(
            f"No model at '{model_path}': give a .keras file, or a run folder holding "
            "model.keras (`resblocks train --out RUN_DIR` writes one)."
        )
    if args.data is None:
        raise UsageError(
            f"--data DIR|NAME is required: the images or data set to evaluate '{model_path}' on."
        )
    folder = model_path if model_path.is_dir() else model_path.parent
    png = args.confusion_matrix
    if png is None:
        png = folder / f"confusion_{Path(args.data).resolve().name}.png"
    model = args.model
    if args.worst:  # loaded here: the grid needs the size the model takes
        from registry.training.saved import load_trained

        model = load_trained(args.model, allow_plugins=args.allow_plugins)
    result = evaluate(
        model,
        args.data,
        batch_size=args.batch_size,
        image_size=args.image_size,
        confusion_png=png,
        skip_bad_images=args.skip_bad_images,
        allow_plugins=args.allow_plugins,
        download=args.download,
        eval_transform=with_tta(args.model, args.tta),
    )
    worst_png = None
    if args.worst:
        from registry.training.saved import image_size
        from registry.training.worst import plot_worst

        worst_png = folder / f"worst_{Path(args.data).resolve().name}.png"
        plot_worst(result, args.worst, worst_png, image_size(model, args.image_size))
    if args.json:
        print(
            json.dumps(
                {
                    "accuracy": result.accuracy,
                    "per_class": result.per_class,
                    "counts": result.counts,
                    "class_names": result.class_names,
                    "confusion_matrix": result.confusion.tolist(),
                    "confusion_png": str(png),
                    "worst_png": None if worst_png is None else str(worst_png),
                },
                indent=1,
            )
        )
    else:
        print(result.report())
        print(f"confusion matrix: {png}")
        if worst_png is not None:
            print(f"highest-loss images: {worst_png}")
    return 0


def progress(verbose: int | None) -> int:
    """Keras' verbosity: a live progress bar on a terminal, one line per epoch in a log file."""
    if verbose is not None:
        return verbose
    return 1 if sys.stdout.isatty() else 2


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(
            f"expected a fraction between 0 and 1, such as 0.2. Received: {text!r}"
        )
    return value


def _names(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated stage names, such as stem,conv2. Received: {text!r}"
        )
    return names


def add_to(commands) -> None:
    p = commands.add_parser(
        "train",
        help="train a recipe on an image folder or a named data set (resumes an interrupted run)",
        description="Train RECIPE on DIR (one subfolder per class) or a named data set such as "
        "fashion_mnist. Re-running the same command after an interruption resumes from the "
        "last completed epoch.",
    )
    p.add_argument("recipe", help="recipe name or YAML file; its train: section gives the defaults")
    add_data_option(p, "training images (a named set's training split)", download=True)
    val = p.add_mutually_exclusive_group()
    val.add_argument(
        "--val",
        metavar="DIR|test",
        help="validation images, same class subfolders; `test` validates on a named data set's "
        "test split, as published tables do (default: hold out --val-split of the training data)",
    )
    val.add_argument(
        "--val-split",
        type=_fraction,
        metavar="F",
        help="hold out this fraction of each class of DIR instead",
    )
    p.add_argument(
        "--out", required=True, metavar="RUN_DIR", help="run folder: models, history, curves, logs"
    )
    p.add_argument(
        "--epochs", type=positive_int, metavar="N", help="epochs in all (default: train.epochs)"
    )
    p.add_argument(
        "--batch-size",
        type=positive_int,
        metavar="N",
        help="images per step (default: train.batch_size)",
    )
    add_image_size_option(p, "resize images to N x N")
    p.add_argument(
        "--weights",
        metavar="FILE",
        help="start from these weights: .keras, .weights.h5, keras.applications .h5, "
        "torchvision .pth or timm .safetensors",
    )
    p.add_argument(
        "--freeze",
        type=_names,
        metavar="STAGES",
        help="comma-separated stage or layer names to keep fixed, e.g. stem,conv2",
    )
    p.add_argument(
        "--seed",
        type=int,
        metavar="N",
        help="seed of the split, the shuffle and the augmentation (default: train.seed)",
    )
    p.add_argument(
        "--strategy",
        # strategy.STRATEGIES (a test keeps them equal), without importing TensorFlow here
        choices=("default", "mirrored", "multi_worker", "data_parallel", "multi_host"),
        default=None,
        help="TensorFlow: mirrored (all local GPUs); JAX: data_parallel (all local devices, "
        "keras.distribution), multi_host (several processes or machines: see --coordinator, "
        "or `resblocks launch`); multi_worker is refused (keras-team/keras#20585)",
    )
    hosts = p.add_argument_group(
        "multi_host",
        "each process of a --strategy multi_host job: the same --coordinator and "
        "--num-processes, its own --process-id (default: Keras' KERAS_DISTRIBUTION_* "
        "variables)",
    )
    hosts.add_argument(
        "--coordinator", metavar="HOST:PORT", help="process 0's machine and a free port on it"
    )
    hosts.add_argument(
        "--num-processes", type=positive_int, metavar="N", help="processes in the job, all hosts"
    )
    hosts.add_argument("--process-id", type=int, metavar="I", help="0 to N-1; 0 writes --out")
    p.add_argument(
        "--skip-bad-images",
        action="store_true",
        default=None,
        help="leave out unreadable images (and say which) instead of stopping; "
        "overrides train.skip_bad_images",
    )
    p.add_argument(
        "--verbose",
        type=int,
        choices=(0, 1, 2),
        help="0 quiet, 1 a progress bar per epoch, 2 a line per epoch "
        "(default: 1 on a terminal, else 2)",
    )
    p.add_argument(
        "--restart",
        action="store_true",
        help="start over in RUN_DIR: remove the run it holds (its models, history, curves and "
        "logs; it says which) instead of resuming it",
    )
    add_recipe_options(p)
    p.set_defaults(run=cmd_train)

    p = commands.add_parser(
        "evaluate", help="accuracy, per-class accuracy and confusion matrix on a folder"
    )
    p.add_argument("model", metavar="MODEL", help=".keras file or run folder")
    # required, checked after MODEL so that `evaluate runs/none` names the path
    add_data_option(p, "images (required; a named set's test split)", required=False, download=True)
    p.add_argument(
        "--batch-size",
        type=positive_int,
        default=32,
        metavar="N",
        help="images per step (default 32)",
    )
    add_image_size_option(p)
    add_tta_option(p)
    p.add_argument(
        "--confusion-matrix",
        type=Path,
        metavar="PNG",
        help="default: confusion_<DIR name>.png beside the model",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument(
        "--worst",
        type=positive_int,
        metavar="N",
        help="also draw the N images with the highest loss, with true and predicted labels, "
        "into worst_<DIR name>.png beside the model",
    )
    p.add_argument(
        "--skip-bad-images",
        action="store_true",
        help="leave out unreadable images (and say which) instead of stopping",
    )
    add_recipe_options(p, help_text=SAVED_PLUGINS_HELP)
    p.set_defaults(run=cmd_evaluate)
