"""Workers on the other Keras backends, for the cross-backend test.

Each backend has its own virtual environment (the Makefile makes `.venv`
for TensorFlow, `.venv-jax` and `.venv-torch`); RESBLOCKS_PYTHON_JAX (and
_TORCH, _TENSORFLOW) name another interpreter.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("worker.py")
VENVS = {"tensorflow": ".venv", "jax": ".venv-jax", "torch": ".venv-torch"}


def backend_python(backend: str) -> Path | None:
    given = os.environ.get(f"RESBLOCKS_PYTHON_{backend.upper()}")
    path = Path(given) if given else ROOT / VENVS[backend] / "bin" / "python"
    return path if path.exists() else None


class Worker:
    """A `worker.py` process on one backend: `send` a request, `receive` its answer."""

    def __init__(self, backend: str, python: Path, log: Path) -> None:
        self.backend = backend
        self.log = log
        env = {**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen(
            [str(python), str(WORKER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log.open("w"),
            text=True,
            env=env,
            cwd=ROOT,
        )

    def send(self, **request) -> None:
        self.process.stdin.write(json.dumps(request, default=str) + "\n")
        self.process.stdin.flush()

    def receive(self) -> None:
        line = self.process.stdout.readline()
        if not line:
            tail = self.log.read_text()[-3000:]
            raise AssertionError(f"the {self.backend} worker died; its log ends:\n{tail}")
        answer = json.loads(line)
        if not answer["ok"]:
            raise AssertionError(f"on {self.backend}:\n{answer['error']}")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.write("\n")
            self.process.stdin.flush()
            self.process.wait(timeout=60)


def ask(workers, **request) -> None:
    """Sends `request` to every worker in `workers` at once, then waits for each answer."""
    for worker in workers:
        worker.send(**request)
    for worker in workers:
        worker.receive()
