"""`make bench`: our networks against keras.applications, and the input pipeline against training.

    python tests/benchmarks/bench.py                  # everything, updates docs/performance.md
    python tests/benchmarks/bench.py --quick          # ResNet-50, exports, the pipeline: minutes
    python tests/benchmarks/bench.py --models resnet152 --options none --no-pipeline

Run it on an otherwise idle machine: other processes on the same cores show
up as noise (the pairs alternate, so they hit both sides, but they widen
the min-max). See docs/performance.md for the method and its limits.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow loads

import bench_report
import tensorflow as tf
from bench_models import PAIRS, Plan, Setting, measure
from bench_stats import machine_description

from registry.training import speed

# Each timed first call re-compiles on purpose; TensorFlow's retracing
# warning about it would bury the results.
tf.get_logger().setLevel("ERROR")

ROOT = Path(__file__).resolve().parents[2]
FULL_MODELS = ("resnet50", "inception_resnet_v2", "resnet152", "resnet18")
OPTIONS = ("mixed", "xla")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench", description=__doc__.split("\n")[0])
    p.add_argument(
        "--quick",
        action="store_true",
        help="ResNet-50 and the pipeline, few repeats, no file written",
    )
    p.add_argument(
        "--models",
        help=(
            f"comma-separated, from: {', '.join(PAIRS)}, or none (default: {','.join(FULL_MODELS)})"
        ),
    )
    p.add_argument(
        "--options",
        help=(
            "speed settings measured on --options-model: mixed, xla, mixed+xla, "
            "or none (default: mixed,xla)"
        ),
    )
    p.add_argument(
        "--options-model", default="resnet50", help="the network the speed settings are measured on"
    )
    p.add_argument(
        "--options-repeats", type=int, default=3, help="alternating pairs per setting (default 3)"
    )
    p.add_argument(
        "--repeats", type=int, help="alternating pairs per speed measurement (default 10; quick 3)"
    )
    p.add_argument(
        "--builds", type=int, help="timed construction pairs after a warm-up (default 2; quick 1)"
    )
    p.add_argument("--batch", type=int, default=16, help="images per call (default 16)")
    p.add_argument(
        "--no-memory", action="store_true", help="skip peak memory (a fresh process per side)"
    )
    p.add_argument(
        "--memory-repeats", type=int, default=2, help="pairs of memory probes (default 2)"
    )
    p.add_argument(
        "--no-graphs", action="store_true", help="skip counting ops in the traced graphs"
    )
    p.add_argument("--no-pipeline", action="store_true", help="skip the input pipeline benchmark")
    p.add_argument(
        "--deploy-models",
        default="resnet50,resnet18_cifar",
        help="networks whose exported inference is measured against Keras (default "
        "resnet50,resnet18_cifar), or none",
    )
    p.add_argument(
        "--deploy-rounds",
        type=int,
        help="alternating rounds of exported inference (default 5; quick 2)",
    )
    p.add_argument(
        "--pipeline-models",
        help=(
            "networks trained on the digits (default: digits_demo, the demo's own, "
            "then resnet20_cifar and resnet18_cifar)"
        ),
    )
    p.add_argument(
        "--output",
        type=Path,
        help="Markdown file to update (default docs/performance.md; quick: none)",
    )
    p.add_argument("--no-write", action="store_true", help="print only")
    args = p.parse_args(argv)
    models = (
        args.models.split(",")
        if args.models
        else (["resnet50"] if args.quick else list(FULL_MODELS))
    )
    models = [] if models == ["none"] else models
    unknown = [m for m in models if m not in PAIRS]
    if unknown:
        p.error(f"unknown model(s) {', '.join(unknown)}; choose from {', '.join(PAIRS)}")
    args.models = models
    options = args.options or ("none" if args.quick else ",".join(OPTIONS))
    args.options = [] if options == "none" else options.split(",")
    bad = [o for o in args.options if o not in ("mixed", "xla", "mixed+xla")]
    if bad:
        p.error(f"unknown option(s) {', '.join(bad)}; choose from mixed, xla, mixed+xla, none")
    if args.output is None and not args.quick:
        args.output = ROOT / "docs" / "performance.md"
    if args.no_write:
        args.output = None
    return args


def settings(options: list[str], gpu: bool) -> list[Setting]:
    mixed = speed.AUTO_POLICY["gpu" if gpu else "cpu"]  # measured even where "auto" keeps float32
    table = {"mixed": Setting(mixed), "xla": Setting(xla=True), "mixed+xla": Setting(mixed, True)}
    return [table[option] for option in options]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    plan = Plan(
        batch=args.batch,
        repeats=args.repeats if args.repeats is not None else (3 if args.quick else 10),
        builds=args.builds if args.builds is not None else (1 if args.quick else 2),
        infer_calls=2,
        train_steps=1,
        graphs=not (args.no_graphs or args.quick),
        memory=0 if (args.no_memory or args.quick) else args.memory_repeats,
    )
    machine = machine_description()
    gpu = speed.accelerator() == "gpu"
    command = "python tests/benchmarks/bench.py " + " ".join(sys.argv[1:] if argv is None else argv)
    blocks = {"machine": bench_report.machine_block(machine, command.strip())}
    print("\n".join(f"{key}: {value}" for key, value in machine.items()), flush=True)

    def log(line: str) -> None:
        print(line, flush=True)

    for name in args.models:
        pair = PAIRS[name]
        log(f"{pair.label}, {Setting().label}:")
        blocks[f"pair:{name}"] = bench_report.pair_block(measure(pair, Setting(), plan, log))

    if args.options:
        # Every row under one lighter plan of its own, float32 included, so
        # the rows compare with each other: bfloat16 training on a CPU
        # without bfloat16 hardware takes minutes per step.
        pair = PAIRS[args.options_model]
        option_plan = Plan(
            batch=plan.batch,
            repeats=args.options_repeats,
            builds=0,
            infer_calls=plan.infer_calls,
            train_steps=1,
            graphs=False,
            memory=0,
        )
        results = []
        for setting in [Setting(), *settings(args.options, gpu)]:
            log(f"{pair.label}, {setting.label}:")
            results.append(measure(pair, setting, option_plan, log))
        blocks[f"options:{pair.name}"] = bench_report.options_block(results)

    deploy_models = [] if args.deploy_models == "none" else args.deploy_models.split(",")
    if deploy_models:
        import bench_deploy

        for name in deploy_models:
            log(f"{name}, exported (float32, batch 1 and {args.batch}):")
            result = bench_deploy.measure_deploy(
                name,
                batch=args.batch,
                rounds=args.deploy_rounds or (2 if args.quick else 5),
                latency_calls=5 if args.quick else 10,
                log=log,
            )
            body, summary = bench_deploy.deploy_block(result, bench_report.stamp())
            blocks[f"deploy:{name}"] = bench_report.deploy_block(body, summary)

    if not args.no_pipeline:
        import bench_pipeline

        from registry import list_models

        log("Input pipeline:")
        models = (
            args.pipeline_models.split(",")
            if args.pipeline_models
            else [
                m
                for m in (bench_pipeline.DEMO_RECIPE, "resnet20_cifar", "resnet18_cifar")
                if m in list_models()
            ]
        )
        with tempfile.TemporaryDirectory() as workdir:
            result = bench_pipeline.measure_pipeline(
                Path(workdir), models=models, repeats=2 if args.quick else 3, log=log
            )
        blocks["pipeline"] = bench_report.pipeline_block(result)

    print()
    for body in blocks.values():
        print(body, end="\n\n")
    print(bench_report.verdict_block(bench_report.summaries("\n".join(blocks.values()))))
    if args.output is not None:
        bench_report.update_document(args.output, blocks)
        print(f"Updated {args.output} (its verdict covers every block in it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
