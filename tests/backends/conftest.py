"""The `workers` fixture: one worker process on each backend other than this one.

Without another backend's interpreter the cross-backend test skips, unless
RESBLOCKS_ALL_BACKENDS=1 (set by `make test`), where it fails.
"""

from __future__ import annotations

import os

import keras
import pytest
from backend_workers import VENVS, Worker, backend_python


@pytest.fixture(scope="module")
def workers(tmp_path_factory) -> dict[str, Worker]:
    """A worker on each backend other than this process's."""
    here = keras.config.backend()
    missing = [b for b in VENVS if b != here and backend_python(b) is None]
    if missing:
        message = (
            f"no interpreter for {', '.join(missing)}: `make test` makes "
            f"{', '.join(VENVS[b] for b in missing)} (or set RESBLOCKS_PYTHON_<BACKEND>)"
        )
        if os.environ.get("RESBLOCKS_ALL_BACKENDS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    logs = tmp_path_factory.mktemp("worker_logs")
    started = {b: Worker(b, backend_python(b), logs / f"{b}.log") for b in VENVS if b != here}
    yield started
    for worker in started.values():
        worker.close()
