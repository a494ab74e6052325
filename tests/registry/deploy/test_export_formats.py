"""Each format, exported from the digits run, predicts the validation folder as the .keras does.

The issue's acceptance check: the same label for every image and every
probability within 1e-4, through `resblocks predict` on the exported file
in its own runtime. Also what the file carries (class names, input size)
and that its batch dimension is open.
"""

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from registry.cli import main
from registry.deploy.formats import FORMATS, format_of
from registry.deploy.images import run_validation_images
from registry.deploy.predict import predict_exported
from registry.deploy.runtimes import load
from registry.training.data import scan_image_folder, split_folder
from registry.training.predict import predict


@pytest.fixture(scope="module")
def keras_predictions(digits_run):
    model, val_dir = digits_run
    images = sorted(str(p) for p in val_dir.rglob("*.png"))
    return images, predict(model, images)


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_exported_model_predicts_the_validation_folder_like_keras(fmt, exported, keras_predictions):
    images, expected = keras_predictions
    got = predict_exported(exported(fmt), images, batch_size=64)
    assert [p.label for p in got] == [p.label for p in expected]
    difference = max(abs(a.probability - b.probability) for a, b in zip(got, expected))
    assert difference <= 1e-4
    assert sum(p.label == p.path.split("/")[-2] for p in got) / len(got) > 0.5  # it learnt


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_exported_model_carries_its_metadata_and_any_batch_size(fmt, exported, digits_run):
    path = exported(fmt)
    assert format_of(path) is FORMATS[fmt]
    runner = load(FORMATS[fmt], path)
    assert runner.metadata["class_names"] == [str(d) for d in range(10)]
    assert runner.metadata["image_size"] == [32, 32]
    assert runner.metadata["folded_bn"] is True
    images = np.random.default_rng(0).uniform(0, 255, (7, 32, 32, 3)).astype("float32")
    batch = runner.run(images)
    one = np.concatenate([runner.run(images[i : i + 1]) for i in range(7)])
    assert batch.shape == (7, 10)
    np.testing.assert_allclose(batch, one, atol=1e-5)


def test_predict_cli_prints_the_same_lines_for_an_export(exported, digits_run, capsys):
    model, val_dir = digits_run
    images = [str(p) for p in sorted(val_dir.rglob("*.png"))[::60]]
    onnx = exported("onnx")  # the first test to ask exports it, which prints a line
    capsys.readouterr()
    assert main(["predict", str(model), *images]) == 0
    keras_lines = capsys.readouterr().out
    assert main(["predict", str(onnx), *images]) == 0
    assert capsys.readouterr().out == keras_lines
    assert len(keras_lines.splitlines()) == len(images)


def test_a_network_without_its_preprocessing_is_exported_with_it(tmp_path):
    """`build()` alone leaves preprocessing out; the export puts it in, so it takes raw pixels."""
    from registry import build, export, preprocess_input

    model = build("digits_demo")  # rescale convention, not inside the model
    result = export(model, tmp_path / "bare.onnx", format="onnx")
    pixels = np.random.default_rng(2).uniform(0, 255, (3, 32, 32, 3)).astype("float32")
    expected = np.asarray(model(preprocess_input(model, pixels), training=False))
    np.testing.assert_allclose(load(FORMATS["onnx"], result.path).run(pixels), expected, atol=1e-4)


def test_an_export_is_checked_on_the_validation_images_of_its_run(digits_run):
    model, val_dir = digits_run
    batch = run_validation_images(model, (32, 32), limit=64)
    assert batch.source == f"validation images of the run ('{val_dir}')"
    assert len(batch.paths) == 64
    assert {Path(p).parent.name for p in batch.paths} == {str(d) for d in range(10)}


def test_a_run_that_held_out_its_validation_images_is_checked_on_those(tmp_path):
    data = tmp_path / "data"
    for name in ("a", "b"):
        (data / name).mkdir(parents=True)
        for i in range(10):
            Image.new("RGB", (32, 32), (20 * i, 0, 0)).save(data / name / f"{i}.png")
    run = tmp_path / "run"
    run.mkdir()
    where = {"data": str(data), "val": None, "val_split": 0.3, "seed": 7}
    (run / "data.json").write_text(json.dumps(where))
    batch = run_validation_images(run / "model.keras", (32, 32), limit=64)
    _, held_out = split_folder(scan_image_folder(data), 0.3, 7)
    assert batch.paths == list(held_out.paths)
    (run / "data.json").write_text(json.dumps({**where, "data": str(tmp_path / "gone")}))
    assert run_validation_images(run / "model.keras", (32, 32), limit=64) is None
