"""`ema`: BN's statistics averaged with the weights, once per optimizer step; exact resume.

Runs on every Keras backend (the backend suites run this file): on JAX the
statistics are moved by a callback that reads the model's state mid-epoch.
"""

import keras
import numpy as np
import pytest

from registry.recipe.train_spec import TrainSpec
from registry.training.ema import AverageStatistics, ema_callbacks, statistic_shapes, statistics_of
from registry.training.optim import make_optimizer

DECAY = 0.5


def compiled(statistics=None, accumulation=2):
    """Dense, BN and Dense, with an SGD that averages (decay 0.5, accumulating 2 batches)."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((5,)),
            keras.layers.Dense(4),
            keras.layers.BatchNormalization(momentum=0.5),
            keras.layers.Dense(3),
        ]
    )
    spec = TrainSpec.model_validate(
        {
            "optimizer": {"name": "sgd", "learning_rate": 0.1, "momentum": 0.9},
            "ema": DECAY,
            "gradient_accumulation": accumulation,
        }
    )
    shapes = statistic_shapes(model) if statistics is None else statistics
    model.compile(optimizer=make_optimizer(spec, 4, shapes), loss="mse")
    return model


def data(n):
    rng = np.random.default_rng(3)
    x = rng.normal(loc=2.0, size=(n, 5)).astype("float32")
    return x, rng.normal(size=(n, 3)).astype("float32")


def values(variables):
    return [keras.ops.convert_to_numpy(v).copy() for v in variables]


class Record(keras.callbacks.Callback):
    """The statistics after each training batch, and what the model held while validated."""

    def __init__(self):
        super().__init__()
        self.after_batch, self.validated = [], None

    def on_train_batch_end(self, batch, logs=None):
        self.after_batch.append(values(statistics_of(self.model)))

    def on_test_batch_end(self, batch, logs=None):
        self.validated = values(statistics_of(self.model)) + values(self.model.trainable_weights)


def expected_averages(after_batch, accumulation=2):
    """Keras' rule, once per optimizer step: the first copies, each later moves by 1 - decay."""
    averages = None
    for stats in after_batch[accumulation - 1 :: accumulation]:
        stats = [s.astype("float64") for s in stats]
        averages = (
            stats
            if averages is None
            else [DECAY * a + (1 - DECAY) * s for a, s in zip(averages, stats)]
        )
    return averages


def test_the_statistics_average_follows_the_rule_and_is_what_validation_and_the_end_hold():
    model = compiled()
    assert [v.path.split("/")[-1] for v in statistics_of(model)] == [
        "moving_mean",
        "moving_variance",
    ]
    record = Record()
    x, y = data(48)
    # 32 training images in batches of 4, accumulated 2 by 2: 4 optimizer steps.
    model.fit(
        x[:32],
        y[:32],
        batch_size=4,
        validation_data=(x[32:], y[32:]),
        shuffle=False,
        verbose=0,
        callbacks=[*ema_callbacks(model), record],
    )
    optimizer = model.optimizer
    assert int(keras.ops.convert_to_numpy(optimizer.iterations)) == 4
    expected = expected_averages(record.after_batch)
    assert not np.allclose(expected[0], record.after_batch[-1][0])  # the average lags
    for average, want in zip(values(optimizer.statistic_averages), expected):
        np.testing.assert_allclose(average, want, atol=1e-6, rtol=0)
    # Validation saw the whole average; fit ends with it in the model, a copy.
    weight_averages = [v for v in optimizer.variables if v.path.endswith("_average")]
    averages = values(optimizer.statistic_averages) + values(weight_averages)
    for seen, average in zip(record.validated, averages):
        np.testing.assert_array_equal(seen, average)
    for now, average in zip(values(statistics_of(model)), values(optimizer.statistic_averages)):
        np.testing.assert_array_equal(now, average)


def test_a_run_reloaded_mid_accumulation_goes_on_as_if_never_stopped(tmp_path):
    path = tmp_path / "last.keras"
    x, y = data(56)
    first = compiled()
    save = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: first.save(path))
    # 7 batches: three steps taken, the accumulators hold half a step.
    first.fit(
        x[:28],
        y[:28],
        batch_size=4,
        shuffle=False,
        verbose=0,
        callbacks=[*ema_callbacks(first), save],
    )
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert loaded.optimizer.statistics == [[4], [4]]
    loaded.fit(
        x[28:], y[28:], batch_size=4, shuffle=False, verbose=0, callbacks=ema_callbacks(loaded)
    )
    whole = compiled()
    whole.fit(x, y, batch_size=4, shuffle=False, verbose=0, callbacks=ema_callbacks(whole))
    for a, b in zip(values(loaded.optimizer.variables), values(whole.optimizer.variables)):
        np.testing.assert_allclose(a, b, atol=1e-6, rtol=0)
    assert len(loaded.optimizer.statistic_averages) == 2


def test_an_optimizer_built_for_another_network_is_refused_before_training():
    model = compiled(statistics=[[8], [8]])
    x, y = data(8)
    with pytest.raises(ValueError, match="compiled for another network"):
        model.fit(x, y, batch_size=4, verbose=0, callbacks=[AverageStatistics()])


def test_without_statistics_in_its_config_the_optimizer_averages_the_weights_only():
    """An optimizer saved before statistics were averaged reloads and keeps Keras' behaviour."""
    model = compiled(statistics=[])
    x, y = data(8)
    model.fit(x, y, batch_size=4, verbose=0, callbacks=ema_callbacks(model))
    assert model.optimizer.statistic_averages == []
    config = keras.saving.serialize_keras_object(model.optimizer)
    del config["config"]["statistics"]
    again = keras.saving.deserialize_keras_object(config, safe_mode=True)
    assert again.statistics == [] and again.use_ema
