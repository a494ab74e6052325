"""The benchmark's plumbing on a tiny network: it runs, prints, and updates the document.

No timing is asserted: the numbers live in the benchmark's output and in
docs/performance.md. The full benchmark is `make bench`.
"""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # the bench_* modules are scripts, not a package

import bench
import bench_report

PROSE = "# Performance\n\nHand-written method.\n\n"


def test_tiny_run_updates_its_blocks_and_keeps_the_prose(tmp_path, capsys):
    doc = tmp_path / "performance.md"
    doc.write_text(
        PROSE
        + (
            "<!-- bench:begin pair:tiny -->\nold numbers\n"
            "<!-- bench:end pair:tiny -->\n\nMore prose.\n"
        )
    )
    argv = ["--models", "tiny", "--repeats", "1", "--builds", "1", "--options", "none"]
    argv += ["--deploy-models", "none"]
    assert bench.main([*argv, "--no-pipeline", "--no-memory", "--output", str(doc)]) == 0

    text = doc.read_text()
    assert text.startswith(PROSE)
    assert "old numbers" not in text
    assert "More prose." in text
    for row in (
        "inference, img/s",
        "training, img/s",
        "construction, s",
        "first train step",
        "Transpose",
    ):
        assert row in text
    for key in ("machine", "pair:tiny", "verdict"):
        assert text.count(f"<!-- bench:begin {key} -->") == 1
    assert "ours / keras" in capsys.readouterr().out


def test_verdict_checks_the_issue_bars_and_skips_plumbing_pairs():
    summaries = [
        {
            "kind": "pair",
            "name": "resnet50",
            "label": "ResNet-50",
            "infer": 0.99,
            "train": 0.95,
            "construct": 1.2,
            "infer_range": "0.98-1.01",
            "train_range": "0.90-0.99",
        },
        {
            "kind": "pair",
            "name": "tiny",
            "label": "tiny",
            "plumbing": True,
            "infer": 0.5,
            "train": 0.5,
            "construct": 3.0,
            "infer_range": "",
            "train_range": "",
        },
        {"kind": "pipeline", "headroom": {"resnet18_cifar": {"memory cache": 5.0}}, "fed": {}},
    ]
    verdict = bench_report.verdict_block(summaries)
    assert (
        "| ResNet-50 inference img/s, ours / keras | >= 0.97 | 0.99 [0.98-1.01] | pass |" in verdict
    )
    assert (
        "| ResNet-50 training img/s, ours / keras | >= 0.97 | 0.95 [0.90-0.99] | FAIL |" in verdict
    )
    assert "tiny" not in verdict
    assert (
        "| input pipeline (memory cache), slowest / resnet18_cifar training step, fastest | >= 3.0 "
        "| 5.0 | pass |" in verdict
    )


def test_unknown_model_is_refused_with_the_choices(capsys):
    with pytest.raises(SystemExit):
        bench.parse_args(["--models", "resnet51"])
    assert "unknown model(s) resnet51; choose from resnet50" in capsys.readouterr().err


def test_exported_inference_table_and_its_verdict(tmp_path):
    doc = tmp_path / "performance.md"
    doc.write_text(PROSE)
    argv = ["--models", "none", "--options", "none", "--no-pipeline", "--no-memory"]
    argv += ["--deploy-models", "digits_demo", "--deploy-rounds", "1", "--output", str(doc)]
    assert bench.main(argv) == 0
    text = doc.read_text()
    for side in (
        "| Keras |",
        "| Keras, folded BN |",
        "| SavedModel (TensorFlow",
        "| ONNX (ONNX Runtime",
    ):
        assert side in text
    for side in ("| LiteRT (LiteRT", "| OpenVINO (OpenVINO"):
        assert side in text
    assert "batch 1, ms (p90)" in text
    assert text.count("<!-- bench:begin deploy:digits_demo -->") == 1
    summary = next(s for s in bench_report.summaries(text) if s["kind"] == "deploy")
    assert summary["fastest"] != "Keras" and summary["fastest_ratio"] > 0
    resnet50 = {**summary, "name": "resnet50", "label": "ResNet-50", "fastest_ratio": 1.2}
    assert "| FAIL |" in bench_report.verdict_block([resnet50])
    assert "| pass |" in bench_report.verdict_block([{**resnet50, "fastest_ratio": 1.4}])


def test_resnext_report_states_the_ratio_against_the_goal():
    import bench_resnext

    args = bench_resnext.parse_args(["--input", "64", "--batch", "4", "--repeats", "2"])
    layer = [
        {"implementation": "native", "ms": 6000.0, "auto": False},
        {"implementation": "depthwise", "ms": 12000.0, "auto": False},
        {"implementation": "split", "ms": 30.0, "auto": True},
    ]
    result = {"backend": "tensorflow", "layer": layer}
    result["network"] = {"resnet50_tv": [10.0, 12.0], "resnext50_32x4d": [6.0, 6.6]}
    text = "\n".join(bench_resnext.report(result, args))
    assert "| split (auto) | 30.0 | 200x faster |" in text
    assert "| depthwise | 12,000.0 | 2.0x slower |" in text
    assert "| ratio | 0.57x [0.55-0.60], meets the 0.5x goal |" in text
    result["network"]["resnext50_32x4d"] = [4.0, 4.0]
    assert "MISSES the 0.5x goal" in "\n".join(bench_resnext.report(result, args))


def test_backend_table_gives_each_backend_against_tensorflow():
    import bench_backends

    results = {
        "tensorflow": {"resnet18": {"infer": [9.0, 10.0, 11.0], "train": [2.0, 2.0, 2.5]}},
        "jax": {"resnet18": {"infer": [5.0, 5.0, 6.0], "train": [4.0, 4.0, 4.0]}},
        "torch": "not installed: `make backends` makes its environment",
    }
    lines = bench_backends.table(results, [("resnet18", 128)])
    assert "| resnet18 | 128x128 | tensorflow | 10.0 | 1.00x | 2.0 | 1.00x |" in lines
    assert "| resnet18 | 128x128 | jax | 5.0 | 0.50x | 4.0 | 2.00x |" in lines
    assert "- torch: not installed: `make backends` makes its environment" in lines


def test_fashion_benchmark_trains_one_network_three_ways():
    import bench_fashion
    import keras
    import numpy as np

    from registry import build

    recipe = bench_fashion.resblocks_recipe(batch=128, epochs=1)
    ours = build(recipe)
    plain = bench_fashion.plain_keras_model()
    torch_net = bench_fashion.torch_model()
    # ResNet-20's 0.27 M (He et al. 2015, Table 6) with a 1-channel stem, BN statistics
    # included on the Keras side; torch keeps those as buffers, not parameters.
    assert ours.count_params() == plain.count_params()
    trainable = sum(int(np.prod(w.shape)) for w in plain.trainable_weights)
    assert sum(p.numel() for p in torch_net.parameters()) == trainable
    assert len(keras.ops.shape(plain.output)) == 2 and plain.output.shape[-1] == 10


def test_fashion_benchmark_table_gives_ratios_against_plain_fit():
    import bench_fashion

    args = bench_fashion.parse_args(["--images", "1000"])
    result = {"outside_epochs": 1.0, "accuracy": 0.5}
    table = bench_fashion.table(
        {
            "keras": [{**result, "epoch_seconds": [10.0]}],
            "resblocks": [{**result, "epoch_seconds": [8.0]}],
            "torch": [{**result, "epoch_seconds": [20.0]}],
        },
        args,
    )
    lines = table.splitlines()
    assert lines[2] == "| b. plain keras.Model + fit | 100 | 10.0 | 1.00x | 1.0 s | 0.500 |"
    assert lines[3] == "| a. resblocks train | 125 | 8.0 | 1.25x | 1.0 s | 0.500 |"
    assert lines[4] == "| c. plain PyTorch loop | 50 | 20.0 | 0.50x | 1.0 s | 0.500 |"
