"""Inference of exported models against Keras: batch-1 latency and batch-16 throughput.

Each network is built once (random weights: speed does not depend on
them), exported to every format through `registry.deploy.exporting.export`
(so each file is also checked against Keras), once with batch norm folded
into the convolutions (the default) and once with it kept, so the table
shows what folding gains in each runtime; they run side by side with
Keras as it is and with batch norm folded. Every side runs in this one
process on all cores; the sides alternate in each round (ABBA), and each
side's first call of a round is not timed (the LiteRT interpreter
re-allocates its tensors when the batch size changes). Ratios are to Keras
in the same round.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from bench_stats import Samples, alternate, ratios, timed

KERAS, FOLDED = "Keras", "Keras, folded BN"
KEPT = ", BN kept"  # an export without --fold-bn
DEPLOY_MODELS = {"resnet50": ("ResNet-50", 224), "resnet18_cifar": ("resnet18_cifar", 32)}


@dataclasses.dataclass
class DeployResult:
    """One network's inference, per side.

    Attributes:
        name, label: str. The recipe and how tables show it.
        image_size: int.
        batch: int. Images per call of the throughput rows.
        latency: dict side -> Samples (ms). Every timed batch-1 call.
        throughput: dict side -> Samples (img/s). One value per round.
        export_s: dict format -> float. Seconds each export (with its check) took.
        differences: dict format -> float. Largest |probability difference| with Keras.
    """

    name: str
    label: str
    image_size: int
    batch: int
    latency: dict[str, Samples]
    throughput: dict[str, Samples]
    export_s: dict[str, float]
    differences: dict[str, float]

    def ratio(self, side: str) -> Samples:
        return ratios(self.throughput[side], self.throughput[KERAS])

    def fastest(self) -> str:
        runtimes = [s for s in self.throughput if s not in (KERAS, FOLDED)]
        return max(runtimes, key=lambda side: self.ratio(side).median)


def measure_deploy(
    name: str,
    *,
    image_size: int | None = None,
    batch: int = 16,
    rounds: int = 5,
    latency_calls: int = 10,
    batch_calls: int = 2,
    unfolded: bool = True,
    log: Callable[[str], None] = print,
) -> DeployResult:
    import time

    from registry import build
    from registry.deploy.exporting import export
    from registry.deploy.fold import fold_batchnorm
    from registry.deploy.formats import FORMATS
    from registry.deploy.runtimes import load

    label, default_size = DEPLOY_MODELS.get(name, (name, 32))
    size = image_size or default_size
    model = build(name, include_preprocessing=True, input_shape=(size, size, 3))
    folded = fold_batchnorm(model).model
    runs: dict[str, Callable[[np.ndarray], object]] = {
        KERAS: model.predict_on_batch,
        FOLDED: folded.predict_on_batch,
    }
    export_s, differences = {}, {}
    with tempfile.TemporaryDirectory() as workdir:
        for fmt in FORMATS.values():
            for fold_bn in (True, False) if unfolded else (True,):
                side = fmt.title if fold_bn else f"{fmt.title}{KEPT}"
                start = time.perf_counter()
                result = export(
                    model, Path(workdir) / f"{name}_{fold_bn}_{fmt.name}", fmt.name, fold_bn=fold_bn
                )
                export_s[side] = time.perf_counter() - start
                differences[side] = result.max_difference
                runs[side if not fold_bn else f"{side} ({result.runtime})"] = load(
                    fmt, result.path
                ).run
                log(f"  {label}: {result.summary()} ({export_s[side]:.0f} s)")

        rng = np.random.default_rng(0)
        one = rng.uniform(0, 255, (1, size, size, 3)).astype("float32")
        many = rng.uniform(0, 255, (batch, size, size, 3)).astype("float32")
        latency = {side: Samples(unit="ms") for side in runs}
        throughput = {side: Samples(unit="img/s") for side in runs}
        for order in alternate(list(runs), rounds):
            for side in order:
                run = runs[side]
                run(one)  # untimed: a new batch size re-allocates in LiteRT
                for _ in range(latency_calls):
                    latency[side].add(1000 * timed(lambda: run(one)))
                run(many)
                wall = timed(lambda: [run(many) for _ in range(batch_calls)])
                throughput[side].add(batch * batch_calls / wall)
        result = DeployResult(name, label, size, batch, latency, throughput, export_s, differences)
    for side in runs:
        log(
            f"  {label} {side}: batch 1 {result.latency[side].median:.1f} ms, "
            f"batch {batch} {result.throughput[side].median:.1f} img/s "
            f"({result.ratio(side).median:.2f}x Keras)"
        )
    return result


def p90(samples: Samples) -> float:
    return float(np.percentile(samples.values, 90))


def deploy_block(result: DeployResult, stamp: str) -> tuple[str, dict]:
    """The Markdown table of one network, and its summary for the verdict."""
    header = [
        "",
        "batch 1, ms (median)",
        "batch 1, ms (p90)",
        f"batch {result.batch}, img/s",
        "img/s / Keras",
        "max difference",
    ]
    lines = [
        f"{result.label} at {result.image_size}x{result.image_size}, float32 ({stamp}; "
        f"{len(result.throughput[KERAS].values)} rounds):",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    for side in result.throughput:
        title = side.split(" (")[0]
        difference = result.differences.get(title)
        lines.append(
            "| "
            + " | ".join(
                [
                    side,
                    f"{result.latency[side].median:.1f}",
                    f"{p90(result.latency[side]):.1f}",
                    result.throughput[side].format(1),
                    result.ratio(side).format(2),
                    f"{difference:.1g}" if difference is not None else "-",
                ]
            )
            + " |"
        )
    fastest = result.fastest()
    summary = {
        "kind": "deploy",
        "name": result.name,
        "label": result.label,
        "batch": result.batch,
        "fastest": fastest.split(" (")[0],
        "fastest_ratio": result.ratio(fastest).median,
        "fastest_range": f"{result.ratio(fastest).low:.2f}-{result.ratio(fastest).high:.2f}",
        "folded": result.ratio(FOLDED).median,
    }
    return "\n".join(lines), summary
