"""`resblocks launch`: a multi_host job of N processes on this machine.

    resblocks launch --processes 2 -- train recipes/digits_demo.yaml --data D --out runs/x

starts `resblocks train ... --strategy multi_host` N times on a free
loopback port (each with its `--process-id`, on JAX), prints every line of
theirs prefixed by `[i]`, and stops them all as soon as one fails, so no
process is left waiting for a lost one. Running the same launch again
resumes the run, as `train` does.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from typing import TextIO

from registry.training.distribution import ENVIRONMENT, StrategyError, check_port_free

# The flags that launch sets for each process.
SET_BY_LAUNCH = ("--coordinator", "--num-processes", "--process-id")
# How long the others may take to stop on their own once one has failed
# (they notice at their next gradient exchange and say what was lost),
# then how long after SIGTERM before SIGKILL.
OWN_STOP_S = 15
TERM_S = 10


def train_command(command: Sequence[str]) -> list[str]:
    """`command` (a `train` command line) as each process runs it: with --strategy multi_host.

    Raises:
        StrategyError: not a train command, another strategy, or a flag launch sets.
    """
    words = list(command)
    if not words or words[0] != "train":
        raise StrategyError(
            "resblocks launch runs a training job: give the train command after `--`, as in "
            "`resblocks launch --processes 2 -- train RECIPE --data DIR --out RUN_DIR`."
        )
    for word in words:
        if word.split("=")[0] in SET_BY_LAUNCH:
            raise StrategyError(
                f"resblocks launch sets {word.split('=')[0]} for each process itself; "
                "leave it out of the train command."
            )
    strategy = _value_of(words, "--strategy")
    if strategy is None:
        return [*words, "--strategy", "multi_host"]
    if strategy != "multi_host":
        raise StrategyError(
            f"resblocks launch runs --strategy multi_host, and the train command asks for "
            f"--strategy {strategy}. Leave --strategy out (or run train without launch)."
        )
    return words


def free_port() -> int:
    """A loopback port that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def launch(
    command: Sequence[str],
    processes: int,
    *,
    port: int | None = None,
    environ: dict[str, str],
    out: TextIO = sys.stdout,
) -> int:
    """Runs `resblocks COMMAND` as `processes` processes of one multi_host job.

    Args:
        command: the train command line, without `resblocks`.
        processes: int. How many processes, at least 1.
        port: int or None. The coordinator's loopback port; None picks a free one.
        environ: the environment of each process (KERAS_BACKEND=jax and
            KERAS_DISTRIBUTION_* are added).
        out: where the prefixed lines go.

    Returns:
        0 if every process exited 0; else the exit code of the first that
        failed (128 + the signal's number for a killed one).

    Raises:
        StrategyError: a bad command, or `port` in use.
    """
    argv = train_command(command)
    coordinator = f"127.0.0.1:{port or free_port()}"
    check_port_free(coordinator)
    lock = threading.Lock()

    def say(line: str) -> None:
        with lock:
            out.write(line if line.endswith("\n") else line + "\n")
            out.flush()

    children: list[subprocess.Popen] = []
    for i in range(processes):
        env = {
            **environ,
            "KERAS_BACKEND": "jax",
            "PYTHONUNBUFFERED": "1",
            ENVIRONMENT["coordinator"]: coordinator,
            ENVIRONMENT["num_processes"]: str(processes),
            ENVIRONMENT["process_id"]: str(i),
        }
        children.append(
            subprocess.Popen(
                [sys.executable, "-m", "registry", *argv],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,  # Ctrl-C reaches launch, which passes it on once
            )
        )
    pids = ", ".join(f"process {i} pid {child.pid}" for i, child in enumerate(children))
    say(f"[launch] {processes} processes, coordinator {coordinator}: {pids}")
    readers = [
        threading.Thread(target=_relay, args=(child, f"[{i}] ", say), daemon=True)
        for i, child in enumerate(children)
    ]
    for reader in readers:
        reader.start()

    def pass_on(number, frame) -> None:
        for child in children:
            if child.poll() is None:
                child.send_signal(number)

    previous = {
        number: signal.signal(number, pass_on) for number in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        code = _supervise(children, say)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        for reader in readers:
            reader.join(timeout=5)
    return code


def _supervise(children: list[subprocess.Popen], say) -> int:
    """Waits for every process; once one fails, stops the others. Returns the exit code."""
    while True:
        codes = [child.poll() for child in children]
        failed = [(i, code) for i, code in enumerate(codes) if code not in (None, 0)]
        if failed:
            # Seen together, a killed process went first: the others exit
            # (code 2) because they lost it.
            i, code = min(failed, key=lambda failure: failure[1] >= 0)
            say(f"[launch] process {i} {_how(code)}; stopping the other processes.")
            _stop(children, say)
            return 128 - code if code < 0 else code
        if all(code == 0 for code in codes):
            return 0
        time.sleep(0.05)


def _stop(children: list[subprocess.Popen], say) -> None:
    """Lets the others stop by themselves, then SIGTERM, then SIGKILL."""
    for grace, how in ((OWN_STOP_S, None), (TERM_S, signal.SIGTERM), (None, signal.SIGKILL)):
        alive = [child for child in children if child.poll() is None]
        if not alive:
            return
        if how is not None:
            say(f"[launch] sending {how.name} to pid {', '.join(str(c.pid) for c in alive)}")
            for child in alive:
                child.send_signal(how)
        deadline = time.monotonic() + (grace or TERM_S)
        while time.monotonic() < deadline and any(c.poll() is None for c in alive):
            time.sleep(0.2)


def _how(code: int) -> str:
    if code < 0:
        return f"was killed by {signal.Signals(-code).name}"
    return f"exited with code {code}"


def _relay(child: subprocess.Popen, prefix: str, say) -> None:
    for line in child.stdout:
        say(prefix + line.rstrip("\n"))


def _value_of(words: list[str], flag: str) -> str | None:
    for i, word in enumerate(words):
        if word == flag and i + 1 < len(words):
            return words[i + 1]
        if word.startswith(flag + "="):
            return word.split("=", 1)[1]
    return None
