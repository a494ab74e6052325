"""`train: {ema: ...}` in a run: validation and model.keras use the average, last.keras resumes it.

The average is of the weights and of BN's statistics.

TensorFlow only (the backend suites check the optimizer in test_optimizers.py).
"""

import keras
import numpy as np
import pytest
import yaml
from helpers import OMIT, PNG, tiny_recipe, write_image_folder

from registry.training.ema import statistics_of
from registry.training.run import train

RECIPE = {
    **tiny_recipe(name="tiny_ema", preprocessing="rescale", **{"stages.1": OMIT}),
    "head": {"block": "classifier", "num_classes": 2},
    "train": {
        "batch_size": 2,
        "epochs": 1,
        "val_split": 0.25,
        "optimizer": {"name": "sgd", "learning_rate": 0.1, "weight_decay": 1e-3},
        "ema": 0.5,
        "gradient_accumulation": 2,
        "global_clipnorm": 5.0,
        "xla": False,
    },
}


def image_folder(root):
    """Eight dark and eight light 16x16 images."""
    return write_image_folder(root, {"dark": 8, "light": 8}, size=16, variants=PNG)


class ValidatedWeights(keras.callbacks.Callback):
    """The weights and BN statistics the model held while it was validated, last time."""

    def on_test_batch_end(self, batch, logs=None):
        self.weights = [keras.ops.convert_to_numpy(w).copy() for w in self.model.trainable_weights]
        self.statistics = [keras.ops.convert_to_numpy(s).copy() for s in statistics_of(self.model)]


def arrays(variables):
    return [keras.ops.convert_to_numpy(v) for v in variables]


def averages(model):
    return arrays(v for v in model.optimizer.variables if "average" in v.path)


@pytest.mark.slow  # a whole run: about 30 s on a busy CPU
def test_validation_and_model_keras_hold_the_average_and_last_keras_the_weights(tmp_path):
    seen = ValidatedWeights()
    train(
        RECIPE,
        data=image_folder(tmp_path / "data"),
        out=tmp_path / "run",
        callbacks=[seen],
        verbose=0,
    )
    last = keras.saving.load_model(tmp_path / "run" / "last.keras", safe_mode=True)
    best = keras.saving.load_model(tmp_path / "run" / "model.keras", safe_mode=True, compile=False)
    # 12 training images in batches of 2, accumulated 2 by 2: 3 optimizer steps.
    assert int(keras.ops.convert_to_numpy(last.optimizer.iterations)) == 3
    for validated, kept, average in zip(
        seen.weights, arrays(best.trainable_weights), averages(last)
    ):
        np.testing.assert_array_equal(kept, average)
        np.testing.assert_array_equal(validated, average)
    moved = [
        not np.array_equal(w, a) for w, a in zip(arrays(last.trainable_weights), averages(last))
    ]
    assert any(moved)  # last.keras holds the raw weights, the average in its optimizer
    # BN's statistics likewise: validated and kept averaged, raw in last.keras.
    statistic_averages = arrays(last.optimizer.statistic_averages)
    assert len(statistic_averages) == len(statistics_of(last)) > 0
    for validated, kept, average in zip(
        seen.statistics, arrays(statistics_of(best)), statistic_averages
    ):
        np.testing.assert_array_equal(kept, average)
        np.testing.assert_array_equal(validated, average)
    assert any(
        not np.array_equal(s, a) for s, a in zip(arrays(statistics_of(last)), statistic_averages)
    )


@pytest.mark.slow  # three runs
def test_a_run_resumes_with_its_average_and_a_run_of_before_these_keys_resumes(tmp_path):
    data, run = image_folder(tmp_path / "data"), tmp_path / "run"
    train(RECIPE, data=data, out=run, verbose=0)
    before = keras.saving.load_model(run / "last.keras", safe_mode=True)
    # A run folder written before `ema` and its siblings existed lacks them: at
    # their defaults they are no change, so a plain recipe's run resumes.
    plain = {**RECIPE, "train": {"batch_size": 2, "epochs": 1, "val_split": 0.25, "xla": False}}
    train(plain, data=data, out=tmp_path / "plain", verbose=0)
    written = yaml.safe_load((tmp_path / "plain" / "recipe.yaml").read_text())
    for key in ("ema", "gradient_accumulation", "global_clipnorm", "weight_decay_on_norm_and_bias"):
        del written["train"][key]
    (tmp_path / "plain" / "recipe.yaml").write_text(yaml.safe_dump(written))
    train(plain, data=data, out=tmp_path / "plain", epochs=2, verbose=0)
    # The EMA run goes on from its saved average and accumulators.
    train(RECIPE, data=data, out=run, epochs=2, verbose=0)
    after = keras.saving.load_model(run / "last.keras", safe_mode=True)
    assert int(keras.ops.convert_to_numpy(after.optimizer.iterations)) == 6  # 12 batches / 2
    assert type(after.optimizer) is type(before.optimizer)
    assert after.optimizer.use_ema and after.optimizer.gradient_accumulation_steps == 2
