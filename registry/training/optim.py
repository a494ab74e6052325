"""The optimizer and learning-rate schedule a `train:` section asks for, as Keras objects.

Only Keras' own optimizers and schedules are used, so the optimizer saved
inside `last.keras` reloads with `safe_mode=True` and nothing of ours
registered. Schedules count optimizer steps; epochs are turned into steps
with the run's steps per epoch.
"""

from __future__ import annotations

import keras

from registry.recipe.train_spec import (
    AdamSpec,
    ConstantSchedule,
    CosineSchedule,
    RMSpropSpec,
    SGDSpec,
    TrainSpec,
)

# Keras' AdamW default, used when an `adamw` section gives no weight_decay.
ADAMW_WEIGHT_DECAY = 0.004


def learning_rate(
    spec: TrainSpec, steps_per_epoch: int
) -> float | keras.optimizers.schedules.LearningRateSchedule:
    """The optimizer's learning rate: a number, or a schedule over steps."""
    rate = spec.optimizer.learning_rate
    schedule = spec.schedule
    total = spec.epochs * steps_per_epoch
    if isinstance(schedule, (ConstantSchedule, CosineSchedule)):
        warmup = schedule.warmup_epochs * steps_per_epoch
        if isinstance(schedule, ConstantSchedule):
            if not warmup:
                return rate
            # A cosine from `rate` to `rate` (alpha=1) is flat: warm-up, then constant.
            return keras.optimizers.schedules.CosineDecay(
                0.0, decay_steps=1, alpha=1.0, warmup_target=rate, warmup_steps=warmup
            )
        if warmup:
            return keras.optimizers.schedules.CosineDecay(
                0.0,
                decay_steps=max(1, total - warmup),
                alpha=schedule.final_fraction,
                warmup_target=rate,
                warmup_steps=warmup,
            )
        return keras.optimizers.schedules.CosineDecay(
            rate, decay_steps=max(1, total), alpha=schedule.final_fraction
        )
    # StepSchedule: the rate after epoch m is multiplied by factor. Keras'
    # boundaries are inclusive (step <= b keeps the earlier value), and the
    # first step of epoch m + 1 is step m * steps_per_epoch.
    boundaries = [m * steps_per_epoch - 1 for m in schedule.milestones]
    values = [rate * schedule.factor**i for i in range(len(boundaries) + 1)]
    return keras.optimizers.schedules.PiecewiseConstantDecay(boundaries, values)


def make_optimizer(spec: TrainSpec, steps_per_epoch: int) -> keras.optimizers.Optimizer:
    """A Keras optimizer configured as `spec.optimizer`, on `spec.schedule`."""
    o = spec.optimizer
    rate = learning_rate(spec, steps_per_epoch)
    common = {"learning_rate": rate, "clipnorm": o.clipnorm}
    if isinstance(o, SGDSpec):
        return keras.optimizers.SGD(
            momentum=o.momentum, nesterov=o.nesterov, weight_decay=o.weight_decay or None, **common
        )
    if isinstance(o, AdamSpec):
        if o.name == "adamw":
            decay = ADAMW_WEIGHT_DECAY if o.weight_decay is None else o.weight_decay
            return keras.optimizers.AdamW(
                weight_decay=decay, beta_1=o.beta_1, beta_2=o.beta_2, epsilon=o.epsilon, **common
            )
        return keras.optimizers.Adam(
            beta_1=o.beta_1,
            beta_2=o.beta_2,
            epsilon=o.epsilon,
            weight_decay=o.weight_decay or None,
            **common,
        )
    if isinstance(o, RMSpropSpec):
        return keras.optimizers.RMSprop(
            rho=o.rho,
            momentum=o.momentum,
            epsilon=o.epsilon,
            weight_decay=o.weight_decay or None,
            **common,
        )
    raise TypeError(f"Unknown optimizer section: {o!r}")


def current_learning_rate(optimizer: keras.optimizers.Optimizer) -> float:
    """The learning rate the optimizer uses at its current step."""
    return float(keras.ops.convert_to_numpy(optimizer.learning_rate))
