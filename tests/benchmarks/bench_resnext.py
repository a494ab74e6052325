"""ResNeXt-50 32x4d against ResNet-50 in training, per backend, and the grouped convolution alone.

    python tests/benchmarks/bench_resnext.py                      # TensorFlow and JAX
    python tests/benchmarks/bench_resnext.py --backends jax --repeats 5

A grouped convolution does 1/C of a full one's multiply-adds, but Keras'
`Conv2D(groups=C)` on TensorFlow and JAX trains at a small fraction of
that speed on a CPU; `resblocks.GroupedConv2D` picks a faster form per
backend (docs/concepts/cardinality_and_width.md). This script prints, for
each backend, in one run each:

1. one training step of `Conv2D(128, 3, groups=32)` on a 16x28x28x128
   batch (ResNeXt-50's conv2 stage) for each implementation, naive
   ("native", Keras' own) included, so the gain is visible;
2. training images/s of `resnext50_32x4d` and of `resnet50_tv` (the same
   network with one group of width 64: 4.23 against 4.09 G multiply-adds),
   measured in alternating pairs, and their ratio; the goal is >= 0.5x.

Each backend runs in a subprocess of its own (KERAS_BACKEND is read when
Keras is imported), with its environment's interpreter (`.venv-jax`). A
backend that is not installed is reported as such.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "tests" / "backends"))

from backend_workers import backend_python  # noqa: E402

LAYER_BATCH = (16, 28, 28, 128)
GOAL = 0.5


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench_resnext", description=__doc__.split("\n")[0])
    p.add_argument("--backends", default="tensorflow,jax", help="comma-separated Keras backends")
    p.add_argument("--input", type=int, default=128, help="image side for the networks")
    p.add_argument("--batch", type=int, default=8, help="images per training step")
    p.add_argument("--repeats", type=int, default=3, help="alternating pairs of timed steps")
    p.add_argument("--steps", type=int, default=2, help="training steps per timing")
    p.add_argument("--worker", help=argparse.SUPPRESS)  # internal: the backend to measure here
    return p.parse_args(argv)


# --- measured inside one backend's process ------------------------------------


def _step_seconds(model, x, y, steps: int) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(x, y)
    return (time.perf_counter() - start) / steps


def _layer_rows(steps: int) -> list[dict]:
    import keras
    import numpy as np

    from resblocks import GroupedConv2D
    from resblocks.grouped_conv import IMPLEMENTATIONS

    x = np.random.default_rng(0).normal(size=LAYER_BATCH).astype("float32")
    y = np.zeros(LAYER_BATCH, "float32")
    rows = []
    for how in [i for i in IMPLEMENTATIONS if i != "auto"]:
        layer = GroupedConv2D(128, 3, groups=32, padding="same", implementation=how)
        model = keras.Sequential([keras.Input(LAYER_BATCH[1:]), layer])
        model.compile(keras.optimizers.SGD(0.01), "mse")
        model.train_on_batch(x, y)  # compile
        seconds = _step_seconds(model, x, y, 1 if how == "native" else steps)
        rows.append({"implementation": how, "ms": seconds * 1000})
    auto = GroupedConv2D(128, 3, groups=32).chosen_implementation()
    for row in rows:
        row["auto"] = row["implementation"] == auto
    return rows


def _network_rows(side: int, batch: int, repeats: int, steps: int) -> dict:
    import keras
    import numpy as np

    from registry import build

    x = np.random.default_rng(0).uniform(0, 1, (batch, side, side, 3)).astype("float32")
    y = np.eye(1000, dtype="float32")[np.arange(batch) % 1000]
    models = {}
    for name in ("resnet50_tv", "resnext50_32x4d"):
        model = build(name, input_shape=(side, side, 3))
        model.compile(keras.optimizers.SGD(0.01), "categorical_crossentropy")
        model.train_on_batch(x, y)  # compile
        model.train_on_batch(x, y)
        models[name] = model
    speeds: dict[str, list[float]] = {name: [] for name in models}
    for i in range(repeats):
        order = list(models) if i % 2 == 0 else list(reversed(models))
        for name in order:
            speeds[name].append(batch / _step_seconds(models[name], x, y, steps))
    return speeds


def worker(args: argparse.Namespace) -> int:
    import keras

    assert keras.backend.backend() == args.worker, keras.backend.backend()
    result = {
        "backend": args.worker,
        "layer": _layer_rows(args.steps),
        "network": _network_rows(args.input, args.batch, args.repeats, args.steps),
    }
    print("RESULT " + json.dumps(result), flush=True)
    return 0


# --- the parent: one subprocess per backend, then the tables -------------------


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def _run_backend(backend: str, args: argparse.Namespace) -> dict | str:
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2"}
    command = [
        str(backend_python(backend) or sys.executable),  # the backend's own environment
        __file__,
        f"--worker={backend}",
        f"--input={args.input}",
        f"--batch={args.batch}",
        f"--repeats={args.repeats}",
        f"--steps={args.steps}",
    ]
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
    if "No module named" in tail[0]:
        return f"not installed ({tail[0].strip()}): pip install {backend}"
    return f"failed: {tail[0]}"


def _faster(reference_ms: float, ms: float) -> str:
    speedup = reference_ms / ms
    return f"{speedup:,.0f}x faster" if speedup >= 1 else f"{1 / speedup:.1f}x slower"


def report(result: dict, args: argparse.Namespace) -> list[str]:
    backend = result["backend"]
    lines = [
        f"## {backend}",
        "",
        "Conv2D(128, 3, groups=32), one training step on a 16x28x28x128 batch:",
        "",
        "| implementation | ms per step | |",
        "|---|---|---|",
    ]
    native = next(r["ms"] for r in result["layer"] if r["implementation"] == "native")
    for row in result["layer"]:
        note = "Keras' Conv2D" if row["implementation"] == "native" else _faster(native, row["ms"])
        chosen = " (auto)" if row["auto"] else ""
        lines.append(f"| {row['implementation']}{chosen} | {row['ms']:,.1f} | {note} |")
    speeds = result["network"]
    resnet, resnext = speeds["resnet50_tv"], speeds["resnext50_32x4d"]
    ratios = [a / b for a, b in zip(resnext, resnet)]
    ratio = _median(ratios)
    verdict = "meets" if ratio >= GOAL else "MISSES"
    lines += [
        "",
        f"Training at {args.input}x{args.input}, batch {args.batch}, "
        f"{args.repeats} alternating pairs (median [min-max]):",
        "",
        "| network | img/s |",
        "|---|---|",
        f"| resnet50_tv | {_median(resnet):.2f} [{min(resnet):.2f}-{max(resnet):.2f}] |",
        f"| resnext50_32x4d | {_median(resnext):.2f} [{min(resnext):.2f}-{max(resnext):.2f}] |",
        f"| ratio | {ratio:.2f}x [{min(ratios):.2f}-{max(ratios):.2f}], {verdict} the "
        f"{GOAL}x goal |",
        "",
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        return worker(args)
    print(f"# ResNeXt-50 32x4d against ResNet-50 (python {sys.version.split()[0]})\n")
    for backend in args.backends.split(","):
        result = _run_backend(backend.strip(), args)
        if isinstance(result, str):
            print(f"## {backend}\n\n{result}\n")
        else:
            print("\n".join(report(result, args)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
