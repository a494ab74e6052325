"""Command-line options shared by every command that loads a recipe."""

import argparse


def add_recipe_options(parser: argparse.ArgumentParser) -> None:
    """Adds `--allow-plugins` (pass `args.allow_plugins` to load_recipe/build)."""
    parser.add_argument(
        "--allow-plugins",
        action="store_true",
        help="import the Python modules a recipe lists under `plugins:` (they run code: trust them first)",
    )
