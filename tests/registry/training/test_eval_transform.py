"""Tests of the evaluation transform (`train.eval`): the crop, test-time flips, and its use.

References are computed by hand: which pixels torchvision's
`Resize(int(size / crop_pct))` + `CenterCrop(size)` keeps, PIL's resize for
the filtered case, and the model run on arrays cropped with numpy.
"""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
import yaml
from helpers import two_class_recipe
from PIL import Image

from registry import build
from registry.errors import RecipeError
from registry.recipe.train_spec import EvalSpec, TrainSpec
from registry.training import decode
from registry.training.eval_transform import predict_scores, run_eval_spec, with_tta
from registry.training.evaluate import evaluate
from registry.training.predict import predict
from registry.training.saved import load_trained

CROP = {"resize": "shorter_side", "crop_pct": 0.875, "interpolation": "bilinear"}


def _fit(image: np.ndarray, size: tuple[int, int], spec: EvalSpec | None) -> np.ndarray:
    return decode.fit_uint8(tf.constant(image), size, spec).numpy()


def _gradient(height: int, width: int) -> np.ndarray:
    """A uint8 image whose every pixel says where it is: R the row, G the column."""
    rows, cols = np.mgrid[0:height, 0:width]
    return np.stack([rows, cols, np.full_like(rows, 7)], axis=-1).astype(np.uint8)


@pytest.mark.parametrize(
    "size, crop_pct, resized",
    [(224, 0.875, 256), (224, 224 / 232, 232), (176, 0.875, 201), (288, 0.95, 303)],
)
def test_resize_size_is_torchvisions_int_of_size_over_crop_pct(size, crop_pct, resized):
    # torchvision's ImageNet layouts: Resize(256) + CenterCrop(224); resnet50 v2 weights
    # Resize(232) + CenterCrop(224). timm: int(math.floor(size / crop_pct)).
    spec = EvalSpec(resize="shorter_side", crop_pct=crop_pct)
    assert spec.resize_size((size, size)) == (resized, resized)
    assert EvalSpec().resize_size((size, size)) == (size, size)  # squash: no crop


def test_shorter_side_keeps_the_centre_pixels_of_a_wide_image():
    # 20x30 with cover 20 (16 / 0.8): the shorter side already is 20, so no resampling;
    # the crop starts at round((20 - 16) / 2) = 2 down and round((30 - 16) / 2) = 7 across.
    image = _gradient(20, 30)
    spec = EvalSpec(resize="shorter_side", crop_pct=0.8)
    out = _fit(image, (16, 16), spec)
    np.testing.assert_array_equal(out, image[2:18, 7:23])


def test_shorter_side_keeps_the_centre_pixels_of_a_tall_image_rounding_half_to_even():
    # 31x20, cover 20: rows (31 - 16) / 2 = 7.5 round to 8 (half to even, as Python's round in
    # torchvision's CenterCrop); columns (20 - 16) / 2 = 2.
    image = _gradient(31, 20)
    out = _fit(image, (16, 16), EvalSpec(resize="shorter_side", crop_pct=0.8))
    np.testing.assert_array_equal(out, image[8:24, 2:18])


def test_shorter_side_resize_equals_pils_resize_then_crop():
    # 40x60 -> shorter side 16 (12 / 0.75), so 16x24 (torchvision: int(16 * 60 / 40)),
    # crop 12x12 from (2, 6). PIL's bilinear resize filters as tf's antialiased one does.
    rng = np.random.default_rng(0)
    small = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)
    image = np.asarray(Image.fromarray(small).resize((60, 40), Image.BICUBIC))
    spec = EvalSpec(resize="shorter_side", crop_pct=0.75)
    out = _fit(image, (12, 12), spec)
    reference = np.asarray(Image.fromarray(image).resize((24, 16), Image.BILINEAR))[2:14, 6:18]
    assert out.shape == (12, 12, 3)
    assert np.abs(out.astype(int) - reference.astype(int)).max() <= 3


def test_squash_default_is_the_training_resize_unchanged():
    image = _gradient(40, 60)
    np.testing.assert_array_equal(
        _fit(image, (16, 16), EvalSpec()), decode.resize_uint8(tf.constant(image), (16, 16))
    )
    np.testing.assert_array_equal(
        _fit(image, (16, 16), None), _fit(image, (16, 16), EvalSpec(interpolation="bilinear"))
    )
    assert TrainSpec().eval == EvalSpec(resize="squash", interpolation="bilinear", tta="none")


def test_tta_flip_is_the_mean_of_the_two_softmaxes():
    inputs = keras.Input((4, 6, 3))
    outputs = keras.layers.Dense(3, activation="softmax")(keras.layers.Flatten()(inputs))
    model = keras.Model(inputs, outputs)
    images = np.random.default_rng(1).uniform(0, 1, (5, 4, 6, 3)).astype("float32")
    dataset = tf.data.Dataset.from_tensor_slices(images).batch(2)
    plain = model.predict(images, verbose=0)
    mirrored = model.predict(images[:, :, ::-1], verbose=0)
    got = predict_scores(model, dataset, EvalSpec(tta="flip"))
    np.testing.assert_allclose(got, (plain + mirrored) / 2, atol=1e-6)
    assert not np.allclose(plain, mirrored)
    np.testing.assert_allclose(predict_scores(model, dataset, EvalSpec()), plain, atol=1e-6)


# A run folder by hand: a 32x32 model, its recipe.yaml, and 32x48 images whose centre
# (the crop) is red and whose border is blue, so squashing and cropping differ.
def _run(tmp_path: Path, eval_section: dict | None) -> tuple[Path, keras.Model]:
    run = tmp_path / "run"
    run.mkdir()
    recipe = two_class_recipe()
    model = build(recipe, include_preprocessing=True)
    model.save(run / "model.keras")
    if eval_section is not None:
        recipe["train"] = {"eval": eval_section}
    (run / "recipe.yaml").write_text(yaml.safe_dump(recipe))
    return run, model


def _bordered(path: Path) -> np.ndarray:
    image = np.zeros((32, 48, 3), np.uint8)
    image[..., 2] = 255
    image[4:28, 12:36] = (255, 0, 0)
    image[10:20, 14:30, 1] = 200  # something inside the crop that is not flat
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(image).save(path)
    return image


def _cropping_run(tmp_path: Path) -> tuple[Path, Path, np.ndarray, np.ndarray]:
    """(run, image file, the model's scores on the crop, on the squash)."""
    run, model = _run(tmp_path, {"resize": "shorter_side", "crop_pct": 1.0})
    image = _bordered(tmp_path / "data" / "a" / "x.png")
    _bordered(tmp_path / "data" / "b" / "y.png")
    # crop_pct 1 on a 32x48 image: no resize, columns 8 to 40 kept.
    cropped = model.predict(image[None, :, 8:40].astype("float32"), verbose=0)[0]
    squashed = decode.resize_uint8(tf.constant(image), (32, 32)).numpy()[None].astype("float32")
    squashed = model.predict(squashed, verbose=0)[0]
    assert not np.allclose(cropped, squashed, atol=1e-6)
    return run, tmp_path / "data" / "a" / "x.png", cropped, squashed


def test_predict_of_a_run_uses_its_eval_transform(tmp_path):
    run, image, cropped, squashed = _cropping_run(tmp_path)
    assert run_eval_spec(run) == EvalSpec(resize="shorter_side", crop_pct=1.0)
    (prediction,) = predict(run, [image], top=2)
    got = {ranked.index: ranked.score for ranked in prediction.top}
    np.testing.assert_allclose([got[0], got[1]], cropped, atol=1e-5)
    # A transform given by argument wins over the run's.
    (given,) = predict(run, [image], top=2, eval_transform={})
    got = {ranked.index: ranked.score for ranked in given.top}
    np.testing.assert_allclose([got[0], got[1]], squashed, atol=1e-5)


def test_evaluate_of_a_run_uses_its_eval_transform(tmp_path):
    from registry.training import explain

    run, image, cropped, _ = _cropping_run(tmp_path)
    evaluation = evaluate(run / "model.keras", tmp_path / "data")
    np.testing.assert_allclose(evaluation.probabilities[0], cropped, atol=1e-5)
    # The worst-images grid and Grad-CAM show the pixels the model was given.
    assert evaluation.eval_transform == EvalSpec(resize="shorter_side", crop_pct=1.0)
    model = load_trained(run)
    pixels, _ = explain.load_images(model, [str(image)], None, evaluation.eval_transform)
    np.testing.assert_array_equal(pixels[0], np.asarray(Image.open(image))[:, 8:40])


def test_tta_on_the_command_line_keeps_the_runs_crop(tmp_path, capsys):
    from registry.cli.app import main

    run, image, cropped, _ = _cropping_run(tmp_path)
    assert with_tta(run, None) == run_eval_spec(run)
    assert with_tta(run, "flip") == EvalSpec(resize="shorter_side", crop_pct=1.0, tta="flip")
    model = load_trained(run)
    mirrored = model.predict(
        np.asarray(Image.open(image))[None, :, 8:40][:, :, ::-1] * 1.0, verbose=0
    )
    for tta, expected in (("none", cropped), ("flip", (cropped + mirrored[0]) / 2)):
        assert main(["predict", str(run), str(image), "--top", "2", "--json", "--tta", tta]) == 0
        rows = json.loads(capsys.readouterr().out)[0]["predictions"]
        got = {row["index"]: row["score"] for row in rows}
        np.testing.assert_allclose([got[0], got[1]], expected, atol=1e-5)
    assert main(["evaluate", str(run), "--data", str(tmp_path / "data"), "--tta", "flip"]) == 0


def test_a_run_without_eval_squashes_as_before(tmp_path):
    run, model = _run(tmp_path, None)
    image = _bordered(tmp_path / "x.png")
    assert run_eval_spec(run) is None
    squashed = decode.resize_uint8(tf.constant(image), (32, 32)).numpy()[None].astype("float32")
    (prediction,) = predict(run / "model.keras", [tmp_path / "x.png"], top=2)
    got = {ranked.index: ranked.score for ranked in prediction.top}
    np.testing.assert_allclose([got[0], got[1]], model.predict(squashed, verbose=0)[0], atol=1e-5)


def test_a_bad_eval_in_a_run_is_located(tmp_path):
    run, _ = _run(tmp_path, {"resize": "crop"})
    with pytest.raises(RecipeError, match=r"train\.eval\.resize: must be one of"):
        run_eval_spec(run)


@pytest.mark.parametrize(
    "section, message",
    [
        ({"resize": "shorter"}, r"train\.eval\.resize: must be one of .*shorter_side"),
        ({"resize": "shorter_side", "crop_pct": 1.5}, r"train\.eval\.crop_pct: must be at most 1"),
        ({"interpolation": "lanczos"}, r"train\.eval\.interpolation: must be one of"),
        ({"tta": "hflip"}, r"train\.eval\.tta: must be one of"),
        ({"crop_pct": 0.9}, r"train\.eval: crop_pct applies to resize: shorter_side"),
    ],
)
def test_a_bad_eval_value_is_one_located_line(section, message):
    from registry.recipe import load_recipe

    with pytest.raises(RecipeError, match=message) as caught:
        load_recipe({**two_class_recipe(), "train": {"eval": section}})
    assert len(caught.value.problems) == 1


def test_pretrained_predictions_read_images_as_torchvision_does(tmp_path):
    from registry.recipe import load_recipe
    from registry.training.predict_pretrained import declared_eval, load_images

    image = _gradient(20, 30)
    Image.fromarray(image).save(tmp_path / "wide.png")
    spec = EvalSpec(resize="shorter_side", crop_pct=0.8)
    (got,) = load_images([tmp_path / "wide.png"], (16, 16), "bilinear", spec)
    np.testing.assert_array_equal(got, image[2:18, 7:23])
    # With a resize, PIL's filter and the decoder's agree to a few levels.
    smooth = np.asarray(Image.fromarray(image).resize((60, 40), Image.BICUBIC))
    Image.fromarray(smooth).save(tmp_path / "big.png")
    spec = EvalSpec(resize="shorter_side", crop_pct=0.75)
    (pil,) = load_images([tmp_path / "big.png"], (12, 12), "bilinear", spec)
    assert np.abs(pil - _fit(smooth, (12, 12), spec)).max() <= 3
    # The torchvision recipes declare it (resnet34 through its base); keras.applications' do not.
    assert declared_eval(load_recipe("resnet34")) == EvalSpec(**CROP)
    assert declared_eval(load_recipe("resnet50_tv")) == EvalSpec(**CROP)
    assert declared_eval(load_recipe("resnet50")) is None
    assert declared_eval(load_recipe("cifar10_resnet18")) is None
