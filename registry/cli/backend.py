"""`resblocks --backend NAME ...`: run a command on another Keras backend.

Keras picks its backend once per process, when it is first imported (from
KERAS_BACKEND, else ~/.keras/keras.json), and `resblocks` has imported it
before it reads its arguments. So `--backend` runs the same command again
in a fresh interpreter with KERAS_BACKEND set: `resblocks --backend jax
train ...` is `KERAS_BACKEND=jax resblocks train ...`.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

from registry.errors import ResblocksError


class BackendMissing(ResblocksError):
    """The package of the asked-for backend is not installed; the message says how to."""


# Each backend and the package it needs, with how to install it.
BACKENDS = {
    # resblocks is installed from a clone (it is not on the package index).
    "tensorflow": ("tensorflow", "pip install -e '.[cpu]' (or '.[gpu]') in your resblocks clone"),
    "jax": ("jax", "pip install -e '.[jax]' in your resblocks clone"),
    "torch": ("torch", "pip install -e '.[torch]' in your resblocks clone"),
}


def add_option(parser) -> None:
    parser.add_argument(
        "--backend",
        choices=tuple(BACKENDS),
        help="the Keras backend to run on (default: KERAS_BACKEND, else tensorflow); "
        "the command is started again with KERAS_BACKEND set",
    )


def switch_needed(backend: str | None) -> bool:
    """Whether the command must run again on `backend`: it is given and is not Keras' own."""
    if backend is None:
        return False
    import keras  # only here: Keras settles its backend when imported

    return backend != keras.config.backend()


def run_on(backend: str, argv: list[str], replace_process: bool) -> int:
    """Runs `resblocks argv` (without --backend) with KERAS_BACKEND=backend.

    The process becomes the new one when `replace_process` (the command
    line: signals and the exit code are the new process's own); otherwise
    it runs as a child and its exit code is returned.

    Raises:
        BackendMissing: the backend's package is not installed.
    """
    require(backend, f"--backend {backend}")
    command = [sys.executable, "-m", "registry", *without_backend(argv)]
    env = {**os.environ, "KERAS_BACKEND": backend}
    sys.stdout.flush()
    sys.stderr.flush()
    if replace_process:
        os.execve(sys.executable, command, env)
    return subprocess.run(command, env=env).returncode


def require(backend: str, what: str) -> None:
    """Raises BackendMissing, naming `what` needs it, if `backend`'s package is not installed."""
    package, install = BACKENDS[backend]
    if importlib.util.find_spec(package) is None:
        raise BackendMissing(
            f"{what} needs the {package} package, which is not installed here. "
            f"Install it with: {install}."
        )


def without_backend(argv: list[str]) -> list[str]:
    """`argv` less its `--backend NAME` (or `--backend=NAME`)."""
    rest = list(argv)
    for i, word in enumerate(rest):
        if word == "--backend":
            return rest[:i] + rest[i + 2 :]
        if word.startswith("--backend="):
            return rest[:i] + rest[i + 1 :]
    return rest
