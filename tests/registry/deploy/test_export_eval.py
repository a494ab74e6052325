"""An export records its run's evaluation transform, and `predict` on the export applies it.

The exported graph takes images already at the input size; the crop (and
the test-time flip) happen before it, so they travel in the metadata.
"""

from pathlib import Path

import numpy as np
import tensorflow as tf
import yaml
from helpers import two_class_recipe
from PIL import Image

from registry import build, export
from registry.deploy.exporting import eval_metadata
from registry.deploy.formats import FORMATS
from registry.deploy.predict import predict_exported
from registry.deploy.runtimes import load
from registry.recipe.train_spec import EvalSpec
from registry.training.decode import fit_uint8


def _image(path: Path) -> Path:
    """32x48: a blue border around a red and yellow centre, so a crop and a squash differ."""
    image = np.zeros((32, 48, 3), np.uint8)
    image[..., 2] = 255
    image[4:28, 12:36] = (255, 0, 0)
    image[10:20, 14:30, 1] = 200
    Image.fromarray(image).save(path)
    return path


def test_an_export_of_a_cropping_run_records_and_applies_its_eval(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    recipe = two_class_recipe()
    model = build(recipe, include_preprocessing=True)
    model.save(run / "model.keras")
    section = {"resize": "shorter_side", "crop_pct": 0.8, "interpolation": "bicubic", "tta": "flip"}
    (run / "recipe.yaml").write_text(yaml.safe_dump({**recipe, "train": {"eval": section}}))
    image = str(_image(tmp_path / "x.png"))

    result = export(run, tmp_path / "model.onnx", format="onnx", fold_bn=False)
    metadata = load(FORMATS["onnx"], result.path).metadata
    assert metadata["eval"] == {**section}
    assert metadata["eval_note"] == (
        "shorter side to 40 (32 / 0.8), centre crop 32x32, bicubic, "
        "test-time flip (mean of the two softmaxes)"
    )
    # What Keras gives on the crop (the decoder's, checked against hand-made crops in
    # test_eval_transform.py), averaged with its mirror.
    pixels = np.asarray(Image.open(image), np.uint8)
    crop = fit_uint8(tf.constant(pixels), (32, 32), EvalSpec(**section)).numpy()[None]
    crop = crop.astype("float32")
    expected = (np.asarray(model(crop)) + np.asarray(model(crop[:, :, ::-1]))) / 2
    (export_says,) = predict_exported(result.path, [image], top=2)
    got = {ranked.index: ranked.score for ranked in export_says.top}
    np.testing.assert_allclose([got[0], got[1]], expected[0], atol=1e-4)


def test_an_export_without_a_run_records_squash():
    metadata = eval_metadata(None, (32, 32))
    assert metadata["eval"] == EvalSpec().model_dump(mode="json")
    assert metadata["eval"]["resize"] == "squash" and metadata["eval"]["tta"] == "none"
    assert metadata["eval_note"] == "whole image resized to 32x32 (squash), bilinear"
