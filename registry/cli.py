"""The `resblocks` command line (also `python -m registry`).

Each command is a small function taking the parsed arguments and returning
an exit code; COMMANDS lists them. A RecipeError prints its paragraph and
exits 2; `--debug` shows the traceback instead.
"""

import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow loads


def cmd_list(args) -> int:
    from registry import list_blocks, list_models

    print("models:")
    for name in list_models(args.pattern):
        print(f"  {name}")
    print("blocks:")
    from registry import get_block

    for name in list_blocks(args.pattern):
        entry = get_block(name)
        print(f"  {name:<24} {entry.kind:<6} {entry.cls.__module__}.{entry.cls.__name__}")
    return 0


def cmd_show(args) -> int:
    from registry import load_recipe, model_from_recipe
    from registry.summary import format_table, stage_rows

    recipe = load_recipe(args.recipe, num_classes=args.num_classes, input_shape=args.input_shape)
    model = model_from_recipe(recipe)
    print(format_table(recipe, stage_rows(recipe, model), model))
    return 0


def cmd_validate(args) -> int:
    from registry import build, load_recipe

    for path in args.files:
        recipe = load_recipe(path)
        if args.build:
            build(recipe)
        print(f"{path}: ok ({recipe.name}, {len(recipe.stages)} stages)")
    return 0


def cmd_schema(args) -> int:
    from registry import recipe_schema

    text = json.dumps(recipe_schema(), indent=2)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text + "\n")
        print(f"wrote {args.output}")
    else:
        print(text)
    return 0


def cmd_demo(args) -> int:
    """Shows ResNet-50's stage table, then builds a 5-class ResNet-50 and runs it."""
    import numpy as np

    from registry import build, load_recipe, model_from_recipe
    from registry.summary import format_table, stage_rows

    recipe = load_recipe("resnet50")
    model = model_from_recipe(recipe)
    print(format_table(recipe, stage_rows(recipe, model), model))
    print()
    start = time.perf_counter()
    model = build("resnet50", num_classes=5)
    built = time.perf_counter() - start
    images = np.random.default_rng(0).uniform(0, 1, (2, 224, 224, 3)).astype("float32")
    start = time.perf_counter()
    probabilities = model.predict(images, verbose=0)
    ran = time.perf_counter() - start
    print(f"build('resnet50', num_classes=5): {model.count_params():,} parameters, built in {built:.1f} s")
    print(f"forward pass on 2 images of 224x224: output {probabilities.shape}, "
          f"rows sum to {probabilities.sum(axis=1).round(4).tolist()}, {ran:.1f} s")
    return 0


def _shape(text: str) -> list[int]:
    try:
        shape = [int(part) for part in text.replace("x", ",").split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected HEIGHT,WIDTH,CHANNELS such as 224,224,3. Received: {text!r}") from None
    if len(shape) != 3:
        raise argparse.ArgumentTypeError(f"expected three numbers. Received: {text!r}")
    return shape


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="resblocks", description="Residual networks from recipe files.")
    main.add_argument("--debug", action="store_true", help="show tracebacks")
    commands = main.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = commands.add_parser("list", help="registered models and blocks")
    p.add_argument("pattern", nargs="?", help="fnmatch pattern, e.g. 'resnet*'")
    p.set_defaults(run=cmd_list)

    p = commands.add_parser("show", help="stage table of a recipe: shapes and parameters")
    p.add_argument("recipe", help="recipe name or YAML file")
    p.add_argument("--num-classes", type=int)
    p.add_argument("--input-shape", type=_shape, help="HEIGHT,WIDTH,CHANNELS")
    p.set_defaults(run=cmd_show)

    p = commands.add_parser("validate", help="check recipe files (exit 2 on the first error)")
    p.add_argument("files", nargs="+")
    p.add_argument("--build", action="store_true", help="also build each network")
    p.set_defaults(run=cmd_validate)

    p = commands.add_parser("schema", help="JSON Schema of recipe files")
    p.add_argument("--output", "-o", help="write to this file")
    p.set_defaults(run=cmd_schema)

    p = commands.add_parser("demo", help="the main job of `make run`")
    p.set_defaults(run=cmd_demo)
    return main


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from registry.errors import RecipeError

    try:
        return args.run(args)
    except (RecipeError, FileNotFoundError) as error:
        if args.debug:
            raise
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
