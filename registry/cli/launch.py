"""`resblocks launch`: try multi-host training on one machine, N processes of one job."""

import argparse
import os

from registry.cli import backend
from registry.cli.options import UsageError, positive_int


def cmd_launch(args) -> int:
    from registry.training.launcher import launch

    command = args.command
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        raise UsageError("give the train command after `--`: launch --processes 2 -- train ...")
    backend.require("jax", "resblocks launch (--strategy multi_host runs on JAX)")
    return launch(command, args.processes, port=args.port, environ=dict(os.environ))


def add_to(commands) -> None:
    p = commands.add_parser(
        "launch",
        help="run a train command as N processes of one multi_host job on this machine",
        description="Start N processes of `resblocks train ... --strategy multi_host` on a free "
        "loopback port (JAX), print their lines prefixed by [i], and stop them all if one "
        "fails. The same launch again resumes the run.",
    )
    p.add_argument(
        "--processes",
        type=positive_int,
        required=True,
        metavar="N",
        help="how many processes to start",
    )
    p.add_argument("--port", type=positive_int, metavar="P", help="the coordinator's port")
    p.add_argument(
        "command",
        nargs=argparse.REMAINDER,
        metavar="-- train RECIPE ...",
        help="the train command each process runs",
    )
    p.set_defaults(run=cmd_launch)
