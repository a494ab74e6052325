"""Command-line options, argument types and the usage error shared by the commands."""

import argparse

PLUGINS_HELP = (
    "import the Python modules a recipe lists under `plugins:` (they run code: trust them first)"
)
SAVED_PLUGINS_HELP = (
    "import the plugins named by the run's recipe.yaml beside the model, for a model made of "
    "custom blocks (they run code: trust them first)"
)


# registry.training.named_sets.NAMES (a test keeps them equal), without importing TensorFlow here
DATA_SETS = ("fashion_mnist", "mnist", "cifar10", "cifar100")


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


def add_tta_option(parser: argparse.ArgumentParser) -> None:
    """`--tta none|flip`: test-time flips on or off, whatever the run's recipe says."""
    parser.add_argument(
        "--tta",
        choices=("none", "flip"),
        help="average in each image's mirror (flip) or not (none); default: the run's "
        "recipe (train.eval.tta), else none",
    )


def add_data_option(
    parser: argparse.ArgumentParser,
    role: str,
    *,
    required: bool = True,
    download: bool = False,
) -> None:
    """`--data DIR|NAME`: an image folder or a named data set (and `--download` if it is offered).

    Args:
        role: what the images are for, e.g. "training images" or "images to
            measure on; a named set's test split".
        required: argparse's `required` (evaluate checks it itself, after MODEL).
        download: also add `--download` (the command passes it to the loader).
    """
    parser.add_argument(
        "--data",
        required=required,
        metavar="DIR|NAME",
        help=f"{role}: a folder with one subfolder per class, or a data set by name "
        f"({', '.join(DATA_SETS)}) found in keras' cache, /usr/share/datasets or ./data, "
        "or a folder of its files",
    )
    if download:
        parser.add_argument(
            "--download",
            action="store_true",
            help="let keras.datasets download a named data set that is not found (needs internet)",
        )


def add_image_size_option(
    parser: argparse.ArgumentParser, help_text: str = "for models that take any size"
) -> None:
    """`--image-size N` (`args.image_size`, None when not given)."""
    parser.add_argument("--image-size", type=positive_int, metavar="N", help=help_text)
