"""Commands that look inside a network: explain (Grad-CAM), gradients and landscape."""

import argparse
import json
from pathlib import Path

from registry.cli.options import (
    SAVED_PLUGINS_HELP,
    add_data_option,
    add_image_size_option,
    add_recipe_options,
    positive_int,
)


def cmd_explain(args) -> int:
    from registry.training.explain import explain

    for result in explain(
        args.model,
        args.images,
        args.out,
        layer=args.layer,
        class_name=args.class_name,
        image_size=args.image_size,
        allow_plugins=args.allow_plugins,
    ):
        print(result.line())
    return 0


def cmd_gradients(args) -> int:
    from registry.training.gradients import gradient_norms, plot_gradient_norms

    results = []
    for recipe in args.recipes:
        result = gradient_norms(
            recipe,
            args.data,
            steps=args.steps,
            batch_size=args.batch_size,
            image_size=args.image_size,
            seed=args.seed,
        )
        results.append(result)
        print(
            f"{result.recipe}: first/last block {result.initial[1]:.3g} / "
            f"{result.initial[-1]:.3g} at initialisation, {result.trained[1]:.3g} / "
            f"{result.trained[-1]:.3g} after {result.steps} steps"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    plot_gradient_norms(results, args.out)
    print(f"wrote {args.out}")
    return 0


def cmd_landscape(args) -> int:
    import numpy as np

    from registry.training.landscape import loss_landscape, plot_landscape

    results = {}
    for model in args.models:
        result = loss_landscape(
            model,
            args.data,
            two_d=args.two_d,
            points=args.points,
            span=args.span,
            seed=args.seed,
            batch_size=args.batch_size,
            image_size=args.image_size,
            images=args.images,
            allow_plugins=args.allow_plugins,
        )
        label = _run_label(model, results)
        results[label] = result
        print(
            f"{label}: loss at the trained weights {result.centre:.4f}, around it "
            f"{np.nanmin(result.losses):.4f} to {np.nanmax(result.losses):.4f}"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    plot_landscape(results, args.out)
    numbers = args.out.with_suffix(".json")
    numbers.write_text(json.dumps({label: r.to_dict() for label, r in results.items()}, indent=1))
    print(f"wrote {numbers} (the grid and the losses)")
    print(f"wrote {args.out}")
    return 0


def add_to(commands) -> None:
    p = commands.add_parser(
        "explain",
        help="Grad-CAM: each image with a heatmap of where the model found its class",
        description="Write one picture per image into --out: the image with its Grad-CAM "
        "heatmap (Selvaraju et al. 2017) over it, titled with the predicted class and "
        "probability, and the true class when the image's folder is named after one.",
    )
    p.add_argument("model", metavar="MODEL", help=".keras file or run folder")
    p.add_argument("images", nargs="+", metavar="IMAGE", help="image files (jpg, png, bmp, gif)")
    p.add_argument("--out", required=True, type=Path, metavar="DIR", help="folder for the pictures")
    p.add_argument(
        "--layer",
        metavar="NAME",
        help="body layer whose map is explained, e.g. conv4_block2 (default: the last "
        "one before the head)",
    )
    p.add_argument(
        "--class",
        dest="class_name",
        metavar="LABEL",
        help="class to explain in every image (default: each image's predicted class)",
    )
    add_image_size_option(p)
    add_recipe_options(p, help_text=SAVED_PLUGINS_HELP)
    p.set_defaults(run=cmd_explain)

    p = commands.add_parser(
        "gradients",
        help="the gradient norm of each block at initialisation and after training, per recipe",
        description="For each RECIPE, the norm of the loss's gradient with respect to each "
        "block's weights, on one fixed batch of DIR, at initialisation and after --steps steps "
        "of SGD; one line per recipe in --out. He et al. 2015 (sec. 4.1) found that plain "
        "networks with batch normalization do NOT suffer from vanishing gradients: compare "
        "plain56_cifar with resnet56_cifar and see.",
    )
    p.add_argument("recipes", nargs="+", metavar="RECIPE", help="recipe names or YAML files")
    add_data_option(p, "training images (a named set's training split)")
    p.add_argument("--out", required=True, type=Path, metavar="FILE.png", help="the plot")
    p.add_argument(
        "--steps",
        type=_steps,
        default=300,
        metavar="N",
        help="training steps between the two measurements (default 300; 0: initialisation only)",
    )
    p.add_argument(
        "--batch-size", type=positive_int, default=32, metavar="N", help="images per step"
    )
    add_image_size_option(p, "default: each recipe's input size")
    p.add_argument(
        "--seed",
        type=int,
        default=0,
        metavar="N",
        help="weights and shuffle; same seed, same numbers",
    )
    p.set_defaults(run=cmd_gradients)

    p = commands.add_parser(
        "landscape",
        help="the training loss around trained weights, along random filter-normalised directions",
        description="The loss on DIR at the trained weights plus alpha (and beta, with --2d) "
        "times random directions, each filter of a direction scaled to the norm of the "
        "weights' filter, biases and batch-norm parameters left out (Li et al. 2018).",
    )
    p.add_argument(
        "models",
        nargs="+",
        metavar="RUN_OR_MODEL",
        help=".keras files or run folders; several share one figure (same directions' seed)",
    )
    add_data_option(p, "training images (a named set's training split)")
    p.add_argument("--out", required=True, type=Path, metavar="FILE.png", help="the plot")
    p.add_argument(
        "--images",
        type=positive_int,
        metavar="N",
        help="the loss on a sample of N training images drawn by --seed (default: all)",
    )
    p.add_argument("--2d", dest="two_d", action="store_true", help="two directions: a contour plot")
    p.add_argument(
        "--points",
        type=_odd,
        default=21,
        metavar="N",
        help="grid points per direction, odd so the trained weights are on it (default 21)",
    )
    p.add_argument(
        "--span",
        type=_positive_float,
        default=1.0,
        metavar="X",
        help="the grid runs from -X to X; 1 is a step as long as each filter (default 1)",
    )
    p.add_argument("--seed", type=int, default=0, metavar="N", help="seeds the directions")
    p.add_argument(
        "--batch-size", type=positive_int, default=64, metavar="N", help="images per pass"
    )
    add_image_size_option(p)
    add_recipe_options(p, help_text=SAVED_PLUGINS_HELP)
    p.set_defaults(run=cmd_landscape)


def _odd(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 3 or value % 2 == 0:
        raise argparse.ArgumentTypeError(f"expected an odd number of 3 or more. Received: {text!r}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number. Received: {text!r}")
    return value


def _steps(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number, 0 or more. Received: {text!r}")
    return value


def _run_label(model: str, taken: dict) -> str:
    """A run folder's or model file's name for the legend, made unique."""
    path = Path(model)
    label = path.parent.name if path.suffix == ".keras" and path.parent.name else path.name
    label = label.removesuffix(".keras") or str(model)
    return label if label not in taken else f"{label} ({len(taken) + 1})"
