"""The `resblocks` command line: the parser, and the one table of errors to exit codes.

Commands live beside this file, one module per topic; COMMANDS lists them
in help order. Each command raises instead of printing its own errors:
`main` turns the project's errors (`ResblocksError`: bad input the message
names, with the fix) into one paragraph and exit code 2, a NaN loss into
exit code 1 and a signal into 128 + its number. Anything else is a bug and
keeps its traceback; `--debug` shows the traceback of every error.
"""

import argparse
import os
import sys

from registry.cli import (
    backend,
    compare,
    demo,
    explain,
    export,
    launch,
    predict,
    quiet,
    recipes,
    teaching,
    training,
)
from registry.cli.options import UsageError
from registry.errors import ResblocksError
from registry.training.stops import NonFiniteLoss, TrainingInterrupted

COMMANDS = [recipes, training, compare, launch, predict, explain, export, demo, teaching]

# What reaches the user as a message and an exit code instead of a traceback.
EXIT_CODES: dict[type[BaseException], int] = {
    ResblocksError: 2,  # a recipe, a file, a setting: the message names the fix
    NonFiniteLoss: 1,  # training diverged; the last good epoch is kept
}
INTERRUPTED = 130  # Ctrl-C outside a training run: 128 + SIGINT
BROKEN_PIPE = 141  # the reader of our output closed it (`| head`): 128 + SIGPIPE, as `yes | head`

# Commands that answer from files alone, without Keras: they start at once.
WITHOUT_KERAS = ("list", "schema", "exercises", "validate", "compare")


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(
        prog="resblocks", description="Residual networks from recipe files."
    )
    main.add_argument("--debug", action="store_true", help="show tracebacks")
    main.add_argument(
        "--verbose",
        dest="show_logs",
        action="store_true",
        help="show TensorFlow's and absl's start-up log lines (hidden by default)",
    )
    backend.add_option(main)
    commands = main.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
        module.add_to(commands)
    for command in commands.choices.values():  # `resblocks validate x.yaml --debug` works too
        command.add_argument(
            "--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks"
        )
        command.set_defaults(usage=command)
    return main


def main(argv: list[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else list(argv)
    args = parser().parse_args(words)
    try:
        if _needs_keras(args):
            quiet.import_keras(args.show_logs)
        if backend.switch_needed(args.backend):
            return backend.run_on(args.backend, words, replace_process=argv is None)
        code = args.run(args)
        sys.stdout.flush()  # here, so a closed pipe is caught below, not at exit
        return code
    except BrokenPipeError:
        # `resblocks predict ... | head`: the reader has what it wanted. Send
        # what is still buffered nowhere, so the exit is quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return BROKEN_PIPE
    except UsageError as error:
        return _usage_error(args.usage, str(error))
    except TrainingInterrupted as stop:
        if args.debug:
            raise
        print(f"\n{stop}", file=sys.stderr)
        return stop.exit_code
    except KeyboardInterrupt:
        if args.debug:
            raise
        print("\nInterrupted.", file=sys.stderr)
        return INTERRUPTED
    except tuple(EXIT_CODES) as error:
        if args.debug:
            raise
        print(f"error: {error}", file=sys.stderr)
        return next(code for kind, code in EXIT_CODES.items() if isinstance(error, kind))


def _needs_keras(args) -> bool:
    """Whether the command builds or runs a model (or loads a plugin): then Keras, quietly."""
    if args.backend is not None:
        return True
    if args.command not in WITHOUT_KERAS:
        return True
    return bool(getattr(args, "build", False) or getattr(args, "allow_plugins", False))


def _usage_error(command: argparse.ArgumentParser, message: str) -> int:
    """What argparse does with bad arguments (the command's usage, the message, 2), returned."""
    try:
        command.error(message)
    except SystemExit as done:
        return int(done.code)
    return 2


if __name__ == "__main__":
    sys.exit(main())
