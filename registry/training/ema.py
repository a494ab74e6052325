"""The moving average of a model (`train: {ema: decay}`): of its weights and of BN's statistics.

timm's `ModelEmaV3` and torchvision's reference training average a
model's parameters *and* its floating-point buffers, BN's running mean and
variance among them. Keras' `use_ema` averages only the trainable weights,
so a model validated with the averaged weights normalizes with the
statistics of the raw ones. Here the statistics are averaged with the
weights, by the same rule and at the same moments: the first optimizer
step copies them, each later one moves the average by `1 - decay` (Keras'
rule for the weights). Either way the average suits long runs, where it
spans a sliver of training; on a short one the averaged weights fit
neither statistics (docs/experiments/fashion_mnist.md measures it).

Two halves:

- `MovingAverage`, mixed into every optimizer of `registry.training.optim`,
  holds one average per statistic among its own variables, so
  `last.keras` saves them and a reloaded optimizer (it builds them from
  the `statistics` shapes in its config) goes on exactly. It also moves
  the weights' average once per optimizer step under gradient accumulation.
- `AverageStatistics`, a callback, moves the statistics' averages after
  each batch that ended an optimizer step (the optimizer cannot: on JAX
  its step never sees the model's non-trainable variables), swaps the
  whole average into the model for each validation, and copies it in at
  the end of `fit`, as Keras does for the weights.

`MovingAverage` overrides Keras' `build` and
`_update_model_variables_moving_average`, checked against the releases in
`registry.keras_compat.KERAS_CHECKED`; tests/registry/training/test_ema.py
holds both halves to the closed form on each backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import keras
from keras import ops


def statistics_of(model: keras.Model) -> list[keras.Variable]:
    """The variables averaged beside the weights: the float non-trainable ones, in model order.

    BN's moving mean and variance, and the weights of frozen layers (which
    do not move, so their average is themselves), as timm averages every
    float buffer. Integer state (a random layer's seed) is left out.
    """
    return [v for v in model.non_trainable_variables if keras.backend.is_float_dtype(v.dtype)]


def statistic_shapes(model: keras.Model) -> list[tuple[int, ...]]:
    """The shapes of `statistics_of(model)`: what an optimizer needs to build their averages."""
    return [tuple(v.shape) for v in statistics_of(model)]


def ema_optimizer(model: keras.Model):
    """The model's optimizer that keeps the average (inside Keras' LossScaleOptimizer, if any)."""
    return getattr(model.optimizer, "inner_optimizer", model.optimizer)


def uses_ema(model: keras.Model) -> bool:
    """Whether the model's optimizer keeps a moving average of the weights (`train: {ema: ...}`)."""
    return bool(getattr(ema_optimizer(model), "use_ema", False))


class MovingAverage:
    """Mixed in before a Keras optimizer class: its `use_ema` also averages the model's statistics.

    Args:
        statistics: list of shapes, or None. Those of `statistics_of(model)`:
            with `use_ema`, `build` adds one average of each shape to the
            optimizer's variables, after Keras' own. In the config, so a
            reloaded optimizer has the same variables to load.
        **kwargs: those of the Keras optimizer.
    """

    def __init__(self, *args, statistics: Sequence[Sequence[int]] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.statistics = [[int(n) for n in shape] for shape in statistics or ()]
        self.statistic_averages: list[keras.Variable] = []

    def get_config(self) -> dict:
        return {**super().get_config(), "statistics": [list(s) for s in self.statistics]}

    def build(self, variables) -> None:
        super().build(variables)
        if self.use_ema and self.statistics and not self.statistic_averages:
            self.statistic_averages = [
                self.add_variable(shape=tuple(shape), name="statistic_average")
                for shape in self.statistics
            ]

    def check_statistics(self, statistics: Sequence[keras.Variable]) -> None:
        """Raises ValueError unless these are the statistics the averages were built for."""
        shapes = [list(v.shape) for v in statistics]
        if self.use_ema and self.statistics and shapes != self.statistics:
            raise ValueError(
                f"The optimizer averages {len(self.statistics)} statistics, but the model has "
                f"{len(shapes)} of other shapes: it was compiled for another network. Compile "
                "it with an optimizer made for this one (make_optimizer(..., statistics="
                "statistic_shapes(model)))."
            )

    def move_statistic_averages(self, statistics: Sequence[keras.Variable], first: bool) -> None:
        """Moves each statistic's average toward it, as the weights' average moved this step.

        `a += (1 - decay) (s - a)`, Keras' `decay a + (1 - decay) s` in one
        op fewer; the first step copies.
        """
        for statistic, average in zip(statistics, self.statistic_averages):
            value = ops.cast(statistic, average.dtype)
            if first:
                average.assign(ops.copy(value))  # never one buffer for both (JAX donates them)
            else:
                average.assign_add(
                    ops.multiply(ops.subtract(value, average), 1.0 - self.ema_momentum)
                )

    def swap_statistic_averages(self, statistics: Sequence[keras.Variable]) -> None:
        """Exchanges the values of the statistics and of their averages."""
        for statistic, average in zip(statistics, self.statistic_averages):
            held = ops.copy(statistic.value)
            statistic.assign(ops.cast(average.value, statistic.dtype))
            average.assign(ops.cast(held, average.dtype))

    def copy_statistic_averages(self, statistics: Sequence[keras.Variable]) -> None:
        """Sets each statistic to its average (a copy: the two never share a buffer)."""
        for statistic, average in zip(statistics, self.statistic_averages):
            statistic.assign(ops.cast(ops.copy(average.value), statistic.dtype))

    def _update_model_variables_moving_average(self, trainable_variables) -> None:
        if not self.gradient_accumulation_steps:
            return super()._update_model_variables_moving_average(trainable_variables)
        # Keras moves its average after every batch, also those that only
        # accumulate a gradient, so under accumulation N it would decay N
        # times per step. Its rule otherwise: the first step copies the
        # weights, each later one moves the average by (1 - ema_momentum).
        is_step = ops.equal(ops.mod(self._iterations + 1, self.gradient_accumulation_steps), 0)
        not_first = ops.not_equal(self.iterations, 0)
        for variable, average in zip(trainable_variables, self._model_variables_moving_average):
            if average is None:
                continue
            dtype = variable.dtype
            momentum = ops.where(
                is_step,
                ops.multiply(ops.cast(not_first, dtype), ops.cast(self.ema_momentum, dtype)),
                ops.cast(1.0, dtype),
            )
            average.assign(
                ops.add(
                    ops.multiply(momentum, average),
                    ops.multiply(ops.subtract(1.0, momentum), variable),
                )
            )


class AverageStatistics(keras.callbacks.Callback):
    """Keeps the statistics' average with the weights', and validates the model on the average.

    After each batch that ended an optimizer step, the statistics' averages
    move (the first step copies). For each validation the average, weights
    and statistics, is swapped into the model and back after it (Keras'
    `SwapEMAWeights` for the weights), so training goes on from the raw
    model. At the end of `fit`, where Keras copies the weights' average into
    the model, the statistics' follows.
    """

    def __init__(self):
        super().__init__()
        self.swap_weights = keras.callbacks.SwapEMAWeights(swap_on_epoch=False)
        self.statistics: list[keras.Variable] = []
        self.step: int | None = None
        self.swapped = False

    def set_model(self, model: keras.Model) -> None:
        super().set_model(model)
        self.swap_weights.set_model(model)

    def _steps(self, optimizer) -> int:
        return int(ops.convert_to_numpy(optimizer.iterations))

    def on_train_begin(self, logs=None):
        optimizer = ema_optimizer(self.model)
        self.statistics = statistics_of(self.model)
        optimizer.check_statistics(self.statistics)
        self.step = self._steps(optimizer)

    def on_train_batch_end(self, batch, logs=None):
        optimizer = ema_optimizer(self.model)  # on JAX, reading .model brings its state up to date
        step = self._steps(optimizer)
        if step != self.step:
            optimizer.move_statistic_averages(self.statistics, first=step == 1)
            self.step = step

    def on_test_begin(self, logs=None):
        self._swap(into_model=True)

    def on_test_end(self, logs=None):
        self._swap(into_model=False)

    def on_train_end(self, logs=None):
        ema_optimizer(self.model).copy_statistic_averages(statistics_of(self.model))

    def _swap(self, into_model: bool) -> None:
        if self.swapped == into_model:
            return
        (self.swap_weights.on_test_begin if into_model else self.swap_weights.on_test_end)()
        ema_optimizer(self.model).swap_statistic_averages(statistics_of(self.model))
        self.swapped = into_model


def ema_callbacks(model: keras.Model) -> list[keras.callbacks.Callback]:
    """The callbacks a run with `ema` needs (`AverageStatistics`), or none."""
    return [AverageStatistics()] if uses_ema(model) else []


def save_ema(model: keras.Model, path: str | Path) -> None:
    """Saves the model with the average, weights and statistics, in place of its own.

    They are swapped back after, exactly (the swap copies values). The
    optimizer saved with it holds the raw model in the average's place:
    resume from `last.keras`, never from this file.
    """
    swap = AverageStatistics()
    swap.set_model(model)
    swap.on_test_begin()  # the average into the model
    try:
        model.save(path)
    finally:
        swap.on_test_end()  # the raw model back
