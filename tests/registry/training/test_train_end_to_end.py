"""resblocks train, evaluate and predict on small generated folders.

Checked: files, agreement, resume, fine-tuning, NaN.
"""

import contextlib
import io
import json
import shutil

import keras
import numpy as np
import pytest
from helpers import CLASSES, training_recipe, write_image_folder, write_recipe
from PIL import Image

from registry import load_recipe
from registry.cli import main
from registry.training.callbacks import NonFiniteLoss
from registry.training.evaluate import evaluate
from registry.training.finetune import FineTuneError
from registry.training.predict import predict
from registry.training.run import train
from registry.training.rundir import read_history_csv

TINY = training_recipe()


def run_cli(*argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A 2-epoch run of the tiny recipe through the command line, with a validation folder."""
    root = tmp_path_factory.mktemp("e2e")
    data = write_image_folder(root / "train", 10, seed=1)
    val = write_image_folder(root / "val", 4, seed=2)
    recipe = write_recipe(root / "tiny.yaml", TINY)
    code, out, err = run_cli(
        "train", recipe, "--data", data, "--val", val, "--out", root / "run", "--verbose", "2"
    )
    assert code == 0, err
    return {
        "root": root,
        "data": data,
        "val": val,
        "recipe": recipe,
        "run": root / "run",
        "stdout": out,
    }


def test_every_output_file_is_written_and_loads(trained):
    run = trained["run"]
    for name in ("model.keras", "last.keras"):
        model = keras.saving.load_model(run / name, safe_mode=True)
        assert model.output_shape == (None, 3)
    assert [row["epoch"] for row in read_history_csv(run / "history.csv")] == [1, 2]
    assert set(read_history_csv(run / "history.csv")[0]) >= {
        "loss",
        "accuracy",
        "val_loss",
        "val_accuracy",
        "learning_rate",
    }
    with Image.open(run / "curves.png") as image:
        assert image.format == "PNG" and image.size[0] > 500
    assert json.loads((run / "class_names.json").read_text()) == list(CLASSES)
    resolved = load_recipe(str(run / "recipe.yaml"))
    assert resolved.train.epochs == 2 and resolved.train.batch_size == 6
    assert resolved.head.args["class_names"] == list(CLASSES)
    for split in ("train", "validation"):
        assert list((run / "logs" / split).glob("events.out.tfevents.*"))
    assert not (run / ".staging").exists() and not (run / ".commit").exists()


def test_the_saved_model_needs_nothing_else(trained):
    model = keras.saving.load_model(trained["run"] / "model.keras", safe_mode=True)
    assert model.get_layer("head").class_names == list(CLASSES)
    assert model.get_layer("preprocess").mode == "rescale"


def test_progress_and_summary_are_printed(trained):
    out = trained["stdout"]
    assert "Epoch 1/2" in out and "Epoch 2/2" in out
    assert "30 training and 12 validation images" in out
    assert "Best validation accuracy" in out.splitlines()[-1]


def test_evaluate_on_the_validation_folder_repeats_the_best_validation_accuracy(trained):
    state = json.loads((trained["run"] / "state.json").read_text())
    result = evaluate(trained["run"] / "model.keras", trained["val"])
    assert result.accuracy == pytest.approx(state["best_val_accuracy"], abs=1e-6)


def test_evaluate_agrees_with_the_model_on_pil_decoded_images(trained):
    result = evaluate(trained["run"], trained["data"])
    model = keras.saving.load_model(trained["run"] / "model.keras", safe_mode=True)
    # The images are 32x32 already: no resize, so PIL's pixels are the pipeline's
    # (up to JPEG decoder rounding).
    pixels = np.stack(
        [np.asarray(Image.open(p).convert("RGB"), dtype="float32") for p in result.paths]
    )
    np.testing.assert_allclose(result.probabilities, model.predict(pixels, verbose=0), atol=0.02)
    assert np.array_equal(result.predicted, result.probabilities.argmax(axis=1))
    assert result.accuracy == pytest.approx(float(np.mean(result.predicted == result.labels)))
    assert result.confusion.sum() == len(result.paths) == 30
    for i, name in enumerate(CLASSES):
        assert result.per_class[name] == pytest.approx(result.confusion[i, i] / 10)


def test_evaluate_command_prints_per_class_accuracy_and_draws_the_matrix(trained):
    code, out, _ = run_cli("evaluate", trained["run"] / "model.keras", "--data", trained["val"])
    assert code == 0
    assert out.startswith("accuracy ")
    for name in CLASSES:
        assert f"  {name}" in out
    with Image.open(trained["run"] / "confusion_val.png") as image:
        assert image.format == "PNG"


def test_predict_prints_path_label_probability_matching_evaluate(trained):
    images = [str(trained["val"] / name / "000.png") for name in CLASSES]
    result = evaluate(trained["run"], trained["val"])
    expected = {path: CLASSES[k] for path, k in zip(result.paths, result.predicted)}
    code, out, _ = run_cli("predict", trained["run"] / "model.keras", *images)
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 3
    for image, line in zip(images, lines):
        path, label, probability = line.split("  ")
        assert path == image and label == expected[image] and 0 < float(probability) <= 1


def test_predict_top_k_and_json(trained):
    image = str(trained["val"] / "plain" / "001.jpg")
    code, out, _ = run_cli("predict", trained["run"], image, "--top", "2", "--json")
    assert code == 0
    [entry] = json.loads(out)
    labels = [p["name"] for p in entry["predictions"]]
    assert entry["image"] == image and len(labels) == 2 and set(labels) <= set(CLASSES)
    [direct] = predict(trained["run"] / "model.keras", [image], top=2)
    assert [r.name for r in direct.top] == labels
    assert [r.index for r in direct.top] == [CLASSES.index(label) for label in labels]


def test_a_finished_run_trains_on_when_given_more_epochs(trained, tmp_path):
    run = shutil.copytree(trained["run"], tmp_path / "run")
    before = read_history_csv(run / "history.csv")
    history = train(
        trained["recipe"], data=trained["data"], val=trained["val"], out=run, epochs=3, verbose=0
    )
    after = read_history_csv(run / "history.csv")
    assert [row["epoch"] for row in after] == [1, 2, 3]
    assert after[:2] == before
    assert history.epoch == [0, 1, 2] and len(history.history["val_accuracy"]) == 3
    model = keras.saving.load_model(run / "last.keras", safe_mode=True)
    assert int(model.optimizer.iterations.numpy()) == 3 * 5  # 30 images in batches of 6


def test_a_run_with_other_settings_is_not_resumed(trained, tmp_path):
    run = shutil.copytree(trained["run"], tmp_path / "run")
    code, _, err = run_cli(
        "train",
        trained["recipe"],
        "--data",
        trained["data"],
        "--val",
        trained["val"],
        "--out",
        run,
        "--batch-size",
        "4",
    )
    assert code == 2
    assert "holds a run with other settings (train.batch_size: 6 in the run, 4 now)" in err
    assert "pass a new --out" in err


def test_a_run_from_before_its_recipe_declared_an_eval_transform_resumes(trained, tmp_path):
    """How a model is evaluated does not change its training (a shipped recipe gained `eval`)."""
    import yaml

    run = shutil.copytree(trained["run"], tmp_path / "run")
    saved = yaml.safe_load((run / "recipe.yaml").read_text())
    del saved["train"]["eval"]
    (run / "recipe.yaml").write_text(yaml.safe_dump(saved))
    cropping = {**TINY, "train": {**TINY["train"], "eval": {"resize": "shorter_side"}}}
    recipe = write_recipe(tmp_path / "cropping.yaml", cropping)
    args = ("train", recipe, "--data", trained["data"], "--val", trained["val"], "--out", run)
    code, _, err = run_cli(*args)
    assert code == 0, err
    saved["train"]["batch_size"] = 4  # any other change is still refused
    (run / "recipe.yaml").write_text(yaml.safe_dump(saved))
    code, _, err = run_cli(*args)
    assert code == 2 and "train.batch_size: 4 in the run, 6 now" in err


def test_a_complete_run_is_returned_without_training(trained, capsys):
    import registry

    history = registry.train(
        trained["recipe"], data=trained["data"], val=trained["val"], out=trained["run"], verbose=1
    )
    assert history.epoch == [0, 1]
    assert "is complete (2 epochs)" in capsys.readouterr().out


def test_fine_tuning_loads_the_body_and_freezes_stages(trained, tmp_path):
    data = write_image_folder(tmp_path / "two", 6, seed=3, classes=("plain", "vertical"))
    source = keras.saving.load_model(trained["run"] / "model.keras", safe_mode=True)
    history = train(
        TINY,
        data=data,
        out=tmp_path / "run",
        weights=trained["run"] / "model.keras",
        freeze=["stem", "conv2"],
        epochs=1,
        verbose=0,
    )
    model = history.model
    assert model.get_layer("head").class_names == ["plain", "vertical"]
    for name in ("stem", "conv2"):
        # Frozen: weights and batch-norm statistics both as loaded.
        for before, after in zip(
            source.get_layer(name).get_weights(), model.get_layer(name).get_weights()
        ):
            np.testing.assert_array_equal(before, after)
    changed = [
        not np.array_equal(a, b)
        for a, b in zip(
            source.get_layer("conv3").get_weights(), model.get_layer("conv3").get_weights()
        )
    ]
    assert any(changed)
    reloaded = keras.saving.load_model(tmp_path / "run" / "last.keras", safe_mode=True)
    assert not reloaded.get_layer("stem").trainable and reloaded.get_layer("conv3").trainable


def test_freeze_names_an_unknown_stage(trained, tmp_path):
    with pytest.raises(
        FineTuneError,
        match=(
            r"--freeze: unknown stage or layer 'conv9'. Did you mean .*\? "
            r"Valid stages: conv2, conv3, head, stem; or a block's layer name"
        ),
    ):
        train(TINY, data=trained["data"], out=tmp_path / "run", freeze=["conv9"], verbose=0)


class PoisonAtEpoch(keras.callbacks.Callback):
    """Sets a weight to NaN when the given (1-based) epoch begins."""

    def __init__(self, epoch):
        super().__init__()
        self.at = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch + 1 == self.at:
            weight = self.model.get_layer("head").weights[0]
            weight.assign(np.full(weight.shape, np.nan, "float32"))


def test_a_nan_loss_stops_the_run_and_keeps_the_last_good_epoch(trained, tmp_path):
    run = tmp_path / "run"
    with pytest.raises(NonFiniteLoss) as error:
        train(
            TINY, data=trained["data"], out=run, epochs=3, callbacks=[PoisonAtEpoch(2)], verbose=0
        )
    message = str(error.value)
    assert "The training loss became nan at epoch 2, step 1 of 4; training stopped." in message
    assert (
        "The last good epoch stays in" in message
        and "train.optimizer.learning_rate, now 0.001" in message
    )
    assert json.loads((run / "state.json").read_text())["epoch"] == 1
    assert [row["epoch"] for row in read_history_csv(run / "history.csv")] == [1]
    model = keras.saving.load_model(run / "model.keras", safe_mode=True)
    assert all(np.isfinite(w).all() for w in model.get_weights())


def test_skip_bad_images_on_the_command_line_trains_past_a_corrupt_file(trained, tmp_path):
    data = shutil.copytree(trained["data"], tmp_path / "data")
    (data / CLASSES[0] / "cut.png").write_bytes(b"\x89PNG\r\n\x1a\n not an image")
    argv = (
        "train",
        trained["recipe"],
        "--data",
        data,
        "--out",
        tmp_path / "run",
        "--epochs",
        "1",
        "--verbose",
        "0",
    )
    code, _, err = run_cli(*argv)
    assert code == 2 and "cut.png" in err and "--skip-bad-images" in err
    code, out, err = run_cli(*argv, "--skip-bad-images")
    assert code == 0, err
    assert (tmp_path / "run" / "model.keras").is_file()
    code, out, err = run_cli("evaluate", tmp_path / "run", "--data", data, "--skip-bad-images")
    assert code == 0, err
