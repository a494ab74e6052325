"""Commands about recipes: list, show, validate, schema."""

import argparse
import json
import sys
import warnings

from registry.cli.options import add_recipe_options


def cmd_list(args) -> int:
    from registry.blocks import get_block, list_blocks
    from registry.recipe import list_models

    print("models:")
    for name in list_models(args.pattern):
        print(f"  {name}")
    print("blocks:")
    for name in list_blocks(args.pattern):
        entry = get_block(name)
        print(f"  {name:<24} {entry.kind:<6} {entry.module}.{entry.class_name}")
    return 0


def cmd_show(args) -> int:
    from registry.recipe import load_recipe

    recipe = load_recipe(
        args.recipe,
        num_classes=args.num_classes,
        input_shape=args.input_shape,
        allow_plugins=args.allow_plugins,
    )
    if args.train:  # the train: section alone: nothing is built
        from registry.inspection.train_pipeline import train_lines

        print("\n".join(train_lines(recipe)))
        return 0
    from registry.assembly import model_from_recipe
    from registry.inspection.stage_table import format_table, stage_rows

    model = model_from_recipe(recipe)
    print(format_table(recipe, stage_rows(recipe, model), model))
    if args.receptive_field:
        from registry.inspection.receptive_field import format_receptive_fields

        print()
        print(format_receptive_fields(recipe, model))
    if args.diagram:
        from registry.inspection.diagram import write_diagram

        kind = write_diagram(args.diagram, recipe, model, expand=args.expand)
        print(f"wrote {args.diagram} ({kind})")
    return 0


def cmd_validate(args) -> int:
    from registry.recipe import load_recipe

    for path in args.files:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", FutureWarning)  # old block names, with their location
            recipe = load_recipe(path, allow_plugins=args.allow_plugins)
            if args.build:  # only then Keras: checking the file does not need it
                from registry.assembly import build

                build(recipe)
        for warning in caught:
            if issubclass(warning.category, FutureWarning):
                print(f"warning: {path}: {warning.message}", file=sys.stderr)
            else:
                warnings.warn_explicit(
                    warning.message, warning.category, warning.filename, warning.lineno
                )
        print(f"{path}: ok ({recipe.name}, {len(recipe.stages)} stages)")
    return 0


def cmd_schema(args) -> int:
    from registry.recipe import recipe_schema

    text = json.dumps(recipe_schema(), indent=2)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text + "\n")
        print(f"wrote {args.output}")
    else:
        print(text)
    return 0


def _shape(text: str) -> list[int]:
    try:
        shape = [int(part) for part in text.replace("x", ",").split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected HEIGHT,WIDTH,CHANNELS such as 224,224,3. Received: {text!r}"
        ) from None
    if len(shape) != 3:
        raise argparse.ArgumentTypeError(f"expected three numbers. Received: {text!r}")
    return shape


def _diagram_file(text: str) -> str:
    from registry.inspection.diagram import diagram_format

    try:
        diagram_format(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def add_to(commands) -> None:
    p = commands.add_parser("list", help="registered models and blocks")
    p.add_argument("pattern", nargs="?", help="fnmatch pattern, e.g. 'resnet*'")
    p.set_defaults(run=cmd_list)

    p = commands.add_parser("show", help="stage table of a recipe: shapes and parameters")
    p.add_argument("recipe", help="recipe name or YAML file")
    p.add_argument(
        "--num-classes", type=int, metavar="N", help="classes of the head (default: the recipe's)"
    )
    p.add_argument("--input-shape", type=_shape, help="HEIGHT,WIDTH,CHANNELS")
    p.add_argument(
        "--diagram",
        metavar="FILE",
        type=_diagram_file,
        help="also draw the block graph: .svg, .png, or .md/.mmd (Mermaid)",
    )
    p.add_argument(
        "--expand", action="store_true", help="with --diagram: one box per block, no collapsed runs"
    )
    p.add_argument(
        "--receptive-field",
        action="store_true",
        help="also the receptive field, effective stride and effective padding after each stage",
    )
    p.add_argument(
        "--train",
        action="store_true",
        help="instead: the whole training pipeline of the train: section, one line per key "
        "(data, augmentation, optimizer and its weight decay, schedule, loss, eval transform)",
    )
    add_recipe_options(p)
    p.set_defaults(run=cmd_show)

    p = commands.add_parser("validate", help="check recipe files (exit 2 on the first error)")
    p.add_argument("files", nargs="+", metavar="FILE", help="recipe YAML files (or shipped names)")
    p.add_argument("--build", action="store_true", help="also build each network")
    add_recipe_options(p)
    p.set_defaults(run=cmd_validate)

    p = commands.add_parser("schema", help="JSON Schema of recipe files")
    p.add_argument("--output", "-o", help="write to this file")
    p.set_defaults(run=cmd_schema)
