"""Command-line options, argument types and the usage error shared by the commands."""

import argparse

PLUGINS_HELP = (
    "import the Python modules a recipe lists under `plugins:` (they run code: trust them first)"
)
SAVED_PLUGINS_HELP = (
    "import the plugins named by the run's recipe.yaml beside the model, for a model made of "
    "custom blocks (they run code: trust them first)"
)


class UsageError(Exception):
    """Arguments that do not go together; `main` reports it through argparse (usage, exit 2)."""


def add_recipe_options(parser: argparse.ArgumentParser, help_text: str = PLUGINS_HELP) -> None:
    """Adds `--allow-plugins` (pass `args.allow_plugins` to load_recipe/build)."""
    parser.add_argument("--allow-plugins", action="store_true", help=help_text)


def positive_int(text: str) -> int:
    """argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number. Received: {text!r}")
    return value
