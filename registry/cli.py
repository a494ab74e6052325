"""The `resblocks` command line (also `python -m registry`).

Commands live in `registry.commands`, one module per topic; COMMANDS lists
them in help order. A RecipeError prints its paragraph and exits 2;
`--debug` shows the traceback instead.
"""

import argparse
import sys

from registry.commands import demo, predict, recipes, teaching, training

COMMANDS = [recipes, training, predict, demo, teaching]


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="resblocks", description="Residual networks from recipe files.")
    main.add_argument("--debug", action="store_true", help="show tracebacks")
    commands = main.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
        module.add_to(commands)
    for command in commands.choices.values():  # `resblocks validate x.yaml --debug` works too
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks")
    return main


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from registry.errors import RecipeError, WeightsError

    try:
        return args.run(args)
    except (RecipeError, WeightsError, FileNotFoundError) as error:
        if args.debug:
            raise
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
