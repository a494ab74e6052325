"""A process that runs `exchange` requests on its own Keras backend.

    KERAS_BACKEND=jax .venv-jax/bin/python tests/backends/worker.py

Reads one JSON request per line on stdin and answers one JSON line on
stdout: {"op": "check", "name": ..., "folder": ..., "saved_on": ...,
"train": bool} writes `exchange.check`'s arrays to `exchange.result_path`; {"op":
"save", ...} saves the model it last loaded from its own backend. Answers
{"ok": true} or {"ok": false, "error": traceback}; an empty line ends it.
"""

import json
import os
import sys
import traceback
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # helpers

import exchange
import keras
import numpy as np


def main() -> None:
    answers = sys.stdout
    sys.stdout = sys.stderr  # Keras' own printing stays off the answer channel
    loaded = None
    for line in sys.stdin:
        if not line.strip():
            break
        request = json.loads(line)
        try:
            folder = Path(request["folder"])
            if request["op"] == "check":
                result, loaded = exchange.check(
                    request["name"], folder, request["saved_on"], request["train"]
                )
                out = exchange.result_path(folder, request["saved_on"], keras.config.backend())
                np.savez(out, **result)
            elif request["op"] == "save":
                exchange.save(loaded, folder, keras.config.backend())
                loaded = None
            answer = {"ok": True}
        except Exception:  # noqa: BLE001 - every failure goes back to the test
            answer = {"ok": False, "error": traceback.format_exc()}
        answers.write(json.dumps(answer) + "\n")
        answers.flush()


if __name__ == "__main__":
    main()
