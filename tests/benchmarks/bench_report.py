"""Tables of benchmark results, for the console and for docs/performance.md.

The document is hand-written prose around generated blocks, each between
`<!-- bench:begin KEY -->` and `<!-- bench:end KEY -->`. A run replaces the
blocks it measured and leaves the others, so ResNet-152 can be re-measured
without re-measuring everything; each block is stamped with its date and the
machine's load. Each block also carries its key numbers as a hidden JSON
line, from which the verdict block is recomputed over the whole document.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterable
from pathlib import Path

from bench_models import KERAS, OURS, Result
from bench_pipeline import PipelineResult
from bench_stats import Samples

# The acceptance bars of the "no speed tax" issue.
SPEED_BAR = 0.97  # ours / keras img/s, inference and training
SPEED_BAR_PAIRS = ("resnet50", "inception_resnet_v2")
CONSTRUCT_BAR = 1.5  # ours / keras construction time
PIPELINE_BAR = 3.0  # pipeline img/s / training step img/s
DEPLOY_BAR = 1.3  # the "deploy" issue's: fastest runtime / keras img/s, ResNet-50, batch 16

_BLOCK = re.compile(r"<!-- bench:begin (\S+) -->\n.*?<!-- bench:end \1 -->\n", re.S)
_SUMMARY = re.compile(r"<!-- bench:summary (\{.*?\}) -->")


def stamp() -> str:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return f"measured {time.strftime('%Y-%m-%d %H:%M')}, load average {load}"


def _table(header: list[str], rows: Iterable[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _fmt(samples: Samples | None, digits: int) -> str:
    return "-" if samples is None or not samples.values else samples.format(digits)


def _rate_digits(samples: Samples) -> int:
    return 0 if samples.values and samples.median >= 100 else 1


# --- blocks ------------------------------------------------------------------


def machine_block(machine: dict[str, str], command: str) -> str:
    lines = [f"Machine ({stamp()}); command: `{command}`", ""]
    lines += _table(["", ""], ([key, value] for key, value in machine.items()))
    return "\n".join(lines)


def pair_block(result: Result) -> str:
    """One network against keras.applications under the base setting."""
    pair, plan = result.pair, result.plan
    has_ref = KERAS in result.infer
    rows = []

    def row(label: str, quantity: str, digits: int):
        values = getattr(result, quantity)
        ours = values[OURS]
        if digits < 0:
            digits = _rate_digits(ours)
        rows.append(
            [
                label,
                _fmt(ours, digits),
                _fmt(values.get(KERAS), digits) if has_ref else "n/a",
                _fmt(result.ratio(quantity), 2) if has_ref else "n/a",
            ]
        )

    row("inference, img/s", "infer", -1)
    row("training, img/s", "train", -1)
    row("inference, img per CPU-second", "infer_cpu", 2)
    row("training, img per CPU-second", "train_cpu", 2)
    row("construction, s", "construct", 2)
    row("first predict (trace + run), s", "first_predict", 2)
    row("first train step (trace + run), s", "first_train", 2)
    if result.memory[OURS].values:
        row("peak RSS growth, MiB", "memory", 0)
    params = result.params
    rows.append(
        [
            "parameters",
            f"{params[OURS]:,}",
            f"{params[KERAS]:,}" if has_ref else "n/a",
            f"{params[OURS] / params[KERAS]:.2f}" if has_ref else "n/a",
        ]
    )
    if result.graph:
        for kind, label in (("infer", "inference"), ("grad", "gradient")):
            cells = []
            for side in (OURS, KERAS):
                counts = result.graph.get(side)
                cells.append(
                    "n/a"
                    if counts is None
                    else f"{counts[f'{kind}_ops']:,} / {counts[f'{kind}_Transpose']} / "
                    f"{counts[f'{kind}_Pad']} / {counts[f'{kind}_Cast']}"
                )
            rows.append([f"traced {label} graph: ops / Transpose / Pad / Cast", *cells, ""])

    title = (
        f"**{pair.label}**, {pair.input_shape[0]}x{pair.input_shape[1]}, batch {plan.batch}, "
        f"{result.setting.label}: {plan.repeats} alternating pair(s) of {plan.infer_calls} "
        f"predict_on_batch / {plan.train_steps} train_on_batch calls, {plan.builds} timed "
        f"build(s) after a warm-up ({stamp()})."
    )
    header = [
        "",
        "ours",
        "keras.applications" if has_ref else "reference",
        "ours / keras (median of pairs)",
    ]
    summary = {
        "kind": "pair",
        "name": pair.name,
        "label": pair.label,
        "plumbing": pair.plumbing,
        "infer": _median(result.ratio("infer")),
        "train": _median(result.ratio("train")),
        "construct": _median(result.ratio("construct")),
        "infer_range": _range(result.ratio("infer")),
        "train_range": _range(result.ratio("train")),
        "infer_cpu": _median(result.ratio("infer_cpu")),
        "train_cpu": _median(result.ratio("train_cpu")),
    }
    return "\n".join([title, "", *_table(header, rows), "", _summary_line(summary)])


def options_block(results: list[Result]) -> str:
    """One network under each speed setting, against keras.applications under the same."""
    base = next((r for r in results if r.setting.policy == "float32" and not r.setting.xla), None)
    rows = []
    summary = {"kind": "options", "name": results[0].pair.name, "settings": {}}
    for result in results:
        vs_base = ["-", "-"]
        if base is not None and result is not base:
            vs_base = [
                f"{result.infer[OURS].median / base.infer[OURS].median:.2f}x",
                f"{result.train[OURS].median / base.train[OURS].median:.2f}x",
            ]
        has_ref = KERAS in result.infer
        rows.append(
            [
                result.setting.label,
                _fmt(result.infer[OURS], 1),
                _fmt(result.infer.get(KERAS), 1) if has_ref else "n/a",
                _fmt(result.ratio("infer"), 2) if has_ref else "n/a",
                _fmt(result.train[OURS], 1),
                _fmt(result.train.get(KERAS), 1) if has_ref else "n/a",
                _fmt(result.ratio("train"), 2) if has_ref else "n/a",
                " / ".join(vs_base),
            ]
        )
        summary["settings"][result.setting.label] = {
            "infer": result.infer[OURS].median,
            "train": result.train[OURS].median,
        }
    pair, plan = results[0].pair, results[0].plan
    title = (
        f"**{pair.label} speed options**, batch {plan.batch}, {plan.repeats} alternating pair(s) "
        f"of {plan.infer_calls} predict_on_batch / {plan.train_steps} train_on_batch calls per "
        f"setting ({stamp()}). img/s; last column: ours under the setting over ours in float32 "
        "without XLA (inference / training)."
    )
    header = [
        "setting",
        "inference ours",
        "keras",
        "ours / keras",
        "training ours",
        "keras",
        "ours / keras",
        "vs float32",
    ]
    return "\n".join([title, "", *_table(header, rows), "", _summary_line(summary)])


def pipeline_block(result: PipelineResult) -> str:
    aug = ", ".join(
        f"{key}={value}" for key, value in result.augment.items() if value
    )  # those in use
    title = (
        "**Input pipeline** at the settings of `make run` (the digits_demo recipe's train: "
        "section) "
        f"on sklearn's digits written as {result.images} "
        f"{result.image_size}x{result.image_size} PNGs, batch {result.batch}, "
        f"augmentation({aug}) ({stamp()}). Pipeline: decode, resize, augment, batch, "
        "iterated alone; training: `fit()` on one batch held in memory (the step "
        "alone) and `fit()` fed by the pipeline (memory cache)."
    )
    rows = []
    for mode, samples in result.pipeline.items():
        rows.append(
            [
                f"pipeline alone, {mode}",
                _fmt(samples, 0),
                f"first epoch {result.first_epoch[mode]:.0f}",
            ]
        )
    summary = {"kind": "pipeline", "headroom": {}, "fed": {}}
    for model in result.step:
        headroom = {mode: result.headroom(mode, model) for mode in result.pipeline}
        rows.append(
            [
                f"{model}: training step alone",
                _fmt(result.step[model], 1),
                "slowest pipeline / fastest step: "
                + ", ".join(f"{value:.1f}x ({mode})" for mode, value in headroom.items()),
            ]
        )
        fed = result.fed[model].median / result.step[model].median
        rows.append(
            [
                f"{model}: training fed by the pipeline",
                _fmt(result.fed[model], 1),
                f"{fed:.2f} of the step alone",
            ]
        )
        summary["headroom"][model] = headroom
        summary["fed"][model] = fed
    return "\n".join([title, "", *_table(["", "img/s", ""], rows), "", _summary_line(summary)])


def verdict_block(summaries: list[dict]) -> str:
    """The issue's bars, checked against every block in the document."""
    rows = []
    pairs = [s for s in summaries if s["kind"] == "pair" and not s.get("plumbing")]
    for s in (s for s in pairs if s.get("infer") is not None):
        if s["name"] in SPEED_BAR_PAIRS:
            for quantity in ("infer", "train"):
                value = s[quantity]
                cpu = s.get(quantity + "_cpu")
                rows.append(
                    [
                        f"{s['label']} {'inference' if quantity == 'infer' else 'training'} "
                        "img/s, ours / keras",
                        f">= {SPEED_BAR}",
                        f"{value:.2f} [{s[quantity + '_range']}]"
                        + (f"; by CPU time {cpu:.2f}" if cpu is not None else ""),
                        "pass" if value >= SPEED_BAR else "FAIL",
                    ]
                )
        rows.append(
            [
                f"{s['label']} construction time, ours / keras",
                f"<= {CONSTRUCT_BAR}",
                f"{s['construct']:.2f}",
                "pass" if s["construct"] <= CONSTRUCT_BAR else "FAIL",
            ]
        )
    for s in (s for s in summaries if s["kind"] == "deploy" and s["name"] == "resnet50"):
        rows.append(
            [
                f"{s['label']} batch-{s['batch']} inference, fastest runtime ({s['fastest']}) "
                "/ keras",
                f">= {DEPLOY_BAR}",
                f"{s['fastest_ratio']:.2f} [{s['fastest_range']}]",
                "pass" if s["fastest_ratio"] >= DEPLOY_BAR else "FAIL",
            ]
        )
    for s in (s for s in summaries if s["kind"] == "pipeline"):
        for model, headroom in s["headroom"].items():
            for mode, value in headroom.items():
                rows.append(
                    [
                        f"input pipeline ({mode}), slowest / {model} training step, fastest",
                        f">= {PIPELINE_BAR}",
                        f"{value:.1f}",
                        "pass" if value >= PIPELINE_BAR else "FAIL",
                    ]
                )
    if not rows:
        return "No results yet: run `make bench`."
    return "\n".join(_table(["bar", "wanted", "measured (median [min-max])", ""], rows))


# --- the document --------------------------------------------------------------


def summaries(text: str) -> list[dict]:
    """The hidden key numbers of every block in `text`."""
    return [json.loads(match.group(1)) for match in _SUMMARY.finditer(text)]


def deploy_block(body: str, summary: dict) -> str:
    """A table of bench_deploy, with its hidden summary line."""
    return body + "\n" + _summary_line(summary)


def _summary_line(summary: dict) -> str:
    return f"<!-- bench:summary {json.dumps(summary, sort_keys=True)} -->"


def _median(samples: Samples | None) -> float | None:
    return None if samples is None else round(samples.median, 4)


def _range(samples: Samples | None) -> str:
    return "" if samples is None else f"{samples.low:.2f}-{samples.high:.2f}"


def _wrap(key: str, body: str) -> str:
    return f"<!-- bench:begin {key} -->\n{body.rstrip()}\n<!-- bench:end {key} -->\n"


def update_document(path: Path, blocks: dict[str, str]) -> None:
    """Replaces (or appends) the given blocks in `path`, then the verdict."""
    path = Path(path)
    text = path.read_text() if path.exists() else "# Performance\n\n"
    for key, body in blocks.items():
        text = _put(text, key, body)
    text = _put(text, "verdict", verdict_block(summaries(text)))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _put(text: str, key: str, body: str) -> str:
    block = _wrap(key, body)
    for match in _BLOCK.finditer(text):
        if match.group(1) == key:
            return text[: match.start()] + block + text[match.end() :]
    return text.rstrip("\n") + "\n\n" + block
