"""Inference and training speed of the same recipes on TensorFlow, JAX and PyTorch.

    python tests/benchmarks/bench_backends.py             # updates docs/performance.md
    python tests/benchmarks/bench_backends.py --quick     # two models, no document

Each backend runs in a subprocess of its own, with the interpreter of its
environment (`.venv`, `.venv-jax`, `.venv-torch` as `make` makes them, or
RESBLOCKS_PYTHON_<BACKEND>), one after the other, so they do not share the
CPU. Each measures, per model at batch 16 in float32: inference images/s
(`predict_on_batch`) and training images/s (`train_on_batch` with SGD),
compiled as `resblocks train` compiles on that backend (TensorFlow: its
graph without XLA on a CPU; JAX: jit; PyTorch: eager), after warm-up
steps. The table gives the median of the timed repeats and the ratio to
TensorFlow in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "tests" / "backends"))
sys.path.insert(0, str(HERE))

from backend_workers import backend_python  # noqa: E402
from bench_report import stamp, update_document  # noqa: E402

BACKENDS = ("tensorflow", "jax", "torch")
# (recipe, image side): the ImageNet networks at 128 px to keep a run short.
MODELS = [
    ("resnet18", 128),
    ("resnet50", 128),
    ("resnext50_32x4d", 128),
    ("inception_resnet_v2", 128),
    ("resnet20_cifar", 32),
]
QUICK = [("resnet18", 128), ("resnet20_cifar", 32)]
BATCH = 16


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench_backends", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="two small models; docs untouched")
    p.add_argument("--repeats", type=int, default=3, help="timed repeats of each measure")
    p.add_argument("--output", type=Path, default=ROOT / "docs" / "performance.md")
    p.add_argument("--worker", help=argparse.SUPPRESS)  # internal: the backend measured here
    p.add_argument("--models", help=argparse.SUPPRESS)
    return p.parse_args(argv)


# --- measured inside one backend's process -------------------------------------


def _rate(step, repeats: int) -> list[float]:
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        rates.append(BATCH / (time.perf_counter() - start))
    return rates


def measure(name: str, side: int, repeats: int) -> dict:
    import keras
    import numpy as np

    from registry import build
    from registry.training import speed

    model = build(name, input_shape=(side, side, 3), num_classes=10)
    model.compile(
        optimizer=keras.optimizers.SGD(0.01),
        loss="categorical_crossentropy",
        jit_compile=speed.jit_compile("auto"),
    )
    x = np.random.default_rng(0).uniform(0, 1, (BATCH, side, side, 3)).astype("float32")
    y = np.eye(10, dtype="float32")[np.arange(BATCH) % 10]
    for _ in range(2):  # compile and warm up
        model.predict_on_batch(x)
        model.train_on_batch(x, y)
    return {
        "infer": _rate(lambda: model.predict_on_batch(x), repeats),
        "train": _rate(lambda: model.train_on_batch(x, y), repeats),
    }


def worker(args: argparse.Namespace) -> int:
    import keras

    assert keras.config.backend() == args.worker, keras.config.backend()
    models = json.loads(args.models)
    result = {name: measure(name, side, args.repeats) for name, side in models}
    print("RESULT " + json.dumps(result), flush=True)
    return 0


# --- the parent: one subprocess per backend, then the table ---------------------


def run_backend(backend: str, models: list, repeats: int) -> dict | str:
    python = backend_python(backend)
    if python is None:
        return "not installed: `make backends` makes its environment"
    command = [str(python), __file__, f"--worker={backend}", f"--repeats={repeats}"]
    command.append(f"--models={json.dumps(models)}")
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
    return f"failed: {tail[0]}"


def table(results: dict, models: list) -> list[str]:
    lines = [
        "| model | input | backend | inference img/s | vs TF | training img/s | vs TF |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: |",
    ]
    reference = results.get("tensorflow")
    for name, side in models:
        for backend, result in results.items():
            if isinstance(result, str):
                continue
            row = [name, f"{side}x{side}", backend]
            for kind in ("infer", "train"):
                rate = statistics.median(result[name][kind])
                row.append(f"{rate:.1f}" if rate < 100 else f"{rate:.0f}")
                if isinstance(reference, dict):
                    row.append(f"{rate / statistics.median(reference[name][kind]):.2f}x")
                else:
                    row.append("")
            lines.append("| " + " | ".join(row) + " |")
    failed = [f"- {b}: {r}" for b, r in results.items() if isinstance(r, str)]
    return lines + ([""] + failed if failed else [])


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        return worker(args)
    models = QUICK if args.quick else MODELS
    results = {}
    for backend in BACKENDS:
        print(f"measuring {backend} ...", flush=True)
        results[backend] = run_backend(backend, models, args.repeats)
    lines = table(results, models)
    print("\n".join(lines))
    if not args.quick:
        body = "\n".join(
            [
                f"{stamp().capitalize()}; {platform.machine()}, {os.cpu_count()} CPUs, batch "
                f"{BATCH}, float32, the median of {args.repeats} repeats after 2 warm-up steps "
                "(`python tests/benchmarks/bench_backends.py`, in `make bench`).",
                "",
                *lines,
            ]
        )
        update_document(args.output, {"backends": body})
    return 0


if __name__ == "__main__":
    sys.exit(main())
