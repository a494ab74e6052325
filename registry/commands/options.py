"""Command-line options and argument types shared by the commands."""

import argparse


def add_recipe_options(parser: argparse.ArgumentParser) -> None:
    """Adds `--allow-plugins` (pass `args.allow_plugins` to load_recipe/build)."""
    parser.add_argument(
        "--allow-plugins",
        action="store_true",
        help="import the Python modules a recipe lists under `plugins:` (they run code: trust them first)",
    )


def positive_int(text: str) -> int:
    """argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number. Received: {text!r}")
    return value
