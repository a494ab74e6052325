"""The optimizer and learning-rate schedule a `train:` section asks for, as Keras objects.

Weight decay means what the papers mean. He et al. (2015) and PyTorch's
SGD, RMSprop and Adam add an L2 term to the gradient before the update
(`g += weight_decay * w`); Keras applies every optimizer's `weight_decay`
decoupled (`w -= learning_rate * weight_decay * w`), which at momentum 0.9
is about ten times weaker for the same number. So `SGD`, `Adam` and
`RMSprop` here are Keras' optimizers with the coupled L2 of the papers,
and `AdamW` and `Lamb` keep the decoupled decay their papers define (as
torch.optim.AdamW and timm's Lamb). All five leave BN's gamma and beta and
every bias (every 1-D variable) undecayed unless `decay_norm_and_bias`
(timm's filter_bias_and_bn).

They are Keras optimizers registered with Keras (package
"resblocks_training"), with every setting in `get_config`, so the optimizer
inside `last.keras` reloads with `safe_mode=True`, its state included
(moments, gradient accumulators, step), in any process that has imported
this module: `train` does before it resumes. Models are read elsewhere
with `compile=False` (`saved.load_trained`), which needs no optimizer.
Schedules count optimizer steps, that is updates: with gradient
accumulation, one per `gradient_accumulation` batches.

The classes override hooks of Keras' BaseOptimizer (`_backend_update_step`,
`_apply_weight_decay`, `_use_weight_decay`, and Lamb's `update_step`),
checked against the releases in `registry.keras_compat.KERAS_CHECKED`;
tests/registry/training/test_optimizers.py holds every optimizer's steps to
torch.optim's on each backend, so a Keras release that moves them fails there.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import ops

from registry.recipe.train_spec import (
    AdamSpec,
    ConstantSchedule,
    CosineSchedule,
    LambSpec,
    RMSpropSpec,
    SGDSpec,
    TrainSpec,
)
from registry.training.ema import MovingAverage

PACKAGE = "resblocks_training"

# Keras' AdamW default, used when an `adamw` section gives no weight_decay.
ADAMW_WEIGHT_DECAY = 0.004


class _DecayRules:
    """Which variables weight decay touches: 1-D ones (BN's gamma and beta, biases) only if asked.

    Mixed in before a Keras optimizer class; `decay_norm_and_bias` is saved
    in its config, so a reloaded optimizer decays the same variables.
    """

    def __init__(self, *args, decay_norm_and_bias: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.decay_norm_and_bias = decay_norm_and_bias

    def _use_weight_decay(self, variable) -> bool:
        if not self.decay_norm_and_bias and len(variable.shape) <= 1:
            return False
        return super()._use_weight_decay(variable)

    def get_config(self) -> dict:
        return {**super().get_config(), "decay_norm_and_bias": self.decay_norm_and_bias}


def _replicas_summed() -> int:
    """How many replicas' gradients Keras' TensorFlow optimizer sums in its update step (else 1)."""
    if keras.config.backend() != "tensorflow":
        return 1
    import tensorflow as tf

    context = tf.distribute.get_replica_context()
    return context.num_replicas_in_sync if context is not None else 1


class _CoupledDecay(_DecayRules):
    """`weight_decay` as an L2 term added to the gradient before the update (PyTorch's meaning).

    Added after clipping and after averaging accumulated gradients, as
    torch.optim adds it inside `step()`; Keras' own decoupled step is not applied.
    """

    def _apply_weight_decay(self, variables) -> None:
        return  # coupled: added to the gradient in _backend_update_step instead

    def _backend_update_step(self, grads, trainable_variables, learning_rate):
        if self.weight_decay:
            # On TensorFlow the replicas' gradients are summed inside this
            # step (tf.distribute): each adds its share of the decay.
            share = self.weight_decay / _replicas_summed()
            grads = [
                ops.add(g, ops.multiply(ops.cast(share, g.dtype), ops.cast(v, g.dtype)))
                if g is not None and self._use_weight_decay(v)
                else g
                for g, v in zip(grads, trainable_variables)
            ]
        super()._backend_update_step(grads, trainable_variables, learning_rate)


@keras.saving.register_keras_serializable(package=PACKAGE)
class SGD(_CoupledDecay, MovingAverage, keras.optimizers.SGD):
    """Keras' SGD with PyTorch's weight decay: `g += weight_decay * w` before momentum.

    Args:
        decay_norm_and_bias: bool. Decay 1-D variables (BN's gamma and beta, biases) too.
        statistics: list of shapes, or None. With `use_ema`, BN's statistics are
            averaged too (`MovingAverage`).
        **kwargs: those of `keras.optimizers.SGD`; `weight_decay` is the coupled L2.
    """


@keras.saving.register_keras_serializable(package=PACKAGE)
class Adam(_CoupledDecay, MovingAverage, keras.optimizers.Adam):
    """Keras' Adam with PyTorch's weight decay: `g += weight_decay * w` before the moments.

    Args:
        decay_norm_and_bias: bool. Decay 1-D variables (BN's gamma and beta, biases) too.
        statistics: list of shapes, or None. With `use_ema`, BN's statistics are
            averaged too (`MovingAverage`).
        **kwargs: those of `keras.optimizers.Adam`; `weight_decay` is the coupled L2.
    """


@keras.saving.register_keras_serializable(package=PACKAGE)
class RMSprop(_CoupledDecay, MovingAverage, keras.optimizers.RMSprop):
    """Keras' RMSprop with PyTorch's weight decay: `g += weight_decay * w` before the update.

    Args:
        decay_norm_and_bias: bool. Decay 1-D variables (BN's gamma and beta, biases) too.
        statistics: list of shapes, or None. With `use_ema`, BN's statistics are
            averaged too (`MovingAverage`).
        **kwargs: those of `keras.optimizers.RMSprop`; `weight_decay` is the coupled L2.
    """


@keras.saving.register_keras_serializable(package=PACKAGE)
class AdamW(_DecayRules, MovingAverage, keras.optimizers.AdamW):
    """Keras' AdamW (decoupled decay, as torch.optim.AdamW), leaving 1-D variables undecayed.

    Args:
        decay_norm_and_bias: bool. Decay 1-D variables (BN's gamma and beta, biases) too.
        statistics: list of shapes, or None. With `use_ema`, BN's statistics are
            averaged too (`MovingAverage`).
        **kwargs: those of `keras.optimizers.AdamW`.
    """


@keras.saving.register_keras_serializable(package=PACKAGE)
class Lamb(_DecayRules, MovingAverage, keras.optimizers.Lamb):
    """LAMB (You et al. 2020) as timm's Lamb: decoupled decay inside the per-layer trust ratio.

    Each variable's step is `u = m_hat / (sqrt(v_hat) + epsilon) + weight_decay
    * w`, scaled by the trust ratio `|w| / |u|` (1 where either norm is 0):
    `w -= learning_rate * |w| / |u| * u`. A variable without weight decay
    takes Adam's step unscaled, as timm does (`always_adapt=False`).
    Keras' own Lamb decays outside the ratio; timm's also clips the global
    gradient norm at 1 by default, which here is `global_clipnorm: 1.0`.

    Args:
        decay_norm_and_bias: bool. Decay 1-D variables (BN's gamma and beta, biases) too.
        statistics: list of shapes, or None. With `use_ema`, BN's statistics are
            averaged too (`MovingAverage`).
        **kwargs: those of `keras.optimizers.Lamb`.
    """

    def _apply_weight_decay(self, variables) -> None:
        return  # inside the trust ratio, in update_step

    def update_step(self, gradient, variable, learning_rate):
        lr = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        step = ops.cast(self.iterations + 1, variable.dtype)
        beta_1_power = ops.power(ops.cast(self.beta_1, variable.dtype), step)
        beta_2_power = ops.power(ops.cast(self.beta_2, variable.dtype), step)
        m = self._momentums[self._get_variable_index(variable)]
        v = self._velocities[self._get_variable_index(variable)]
        self.assign_add(m, ops.multiply(ops.subtract(gradient, m), 1 - self.beta_1))
        self.assign_add(v, ops.multiply(ops.subtract(ops.square(gradient), v), 1 - self.beta_2))
        m_hat = ops.divide(m, 1.0 - beta_1_power)
        update = ops.divide(
            m_hat, ops.add(ops.sqrt(ops.divide(v, 1.0 - beta_2_power)), self.epsilon)
        )
        if self.weight_decay and self._use_weight_decay(variable):
            update = ops.add(
                update, ops.multiply(ops.cast(self.weight_decay, variable.dtype), variable)
            )
            w_norm = ops.sqrt(ops.sum(ops.square(variable)))
            u_norm = ops.sqrt(ops.sum(ops.square(update)))
            ratio = ops.where(
                ops.greater(w_norm, 0.0),
                ops.where(ops.greater(u_norm, 0.0), ops.divide(w_norm, u_norm), 1.0),
                1.0,
            )
            update = ops.multiply(ratio, update)
        self.assign_sub(variable, ops.multiply(lr, update))


def learning_rate(
    spec: TrainSpec, steps_per_epoch: int
) -> float | keras.optimizers.schedules.LearningRateSchedule:
    """The optimizer's learning rate: a number, or a schedule over optimizer steps.

    With `gradient_accumulation` N an epoch of `steps_per_epoch` batches is
    `steps_per_epoch / N` optimizer steps, which the schedule counts.
    """
    rate = spec.optimizer.learning_rate
    schedule = spec.schedule
    per_epoch = steps_per_epoch / spec.gradient_accumulation

    def steps(epochs: float) -> int:
        return round(epochs * per_epoch)

    total = steps(spec.epochs)
    if isinstance(schedule, (ConstantSchedule, CosineSchedule)):
        warmup = steps(schedule.warmup_epochs)
        if schedule.warmup_epochs:
            warmup = max(1, warmup)
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
    boundaries = [steps(m) - 1 for m in schedule.milestones]
    values = [rate * schedule.factor**i for i in range(len(boundaries) + 1)]
    return keras.optimizers.schedules.PiecewiseConstantDecay(boundaries, values)


def make_optimizer(
    spec: TrainSpec,
    steps_per_epoch: int,
    statistics: Sequence[Sequence[int]] | None = None,
) -> keras.optimizers.Optimizer:
    """A Keras optimizer configured as `spec.optimizer`, on `spec.schedule`.

    With the section's clipping, gradient accumulation, moving average
    (`ema`) and which variables weight decay touches; see the module's
    docstring for what decay means. `statistics`, the model's
    `ema.statistic_shapes`, are averaged with the weights under `ema`.
    """
    o = spec.optimizer
    common = {
        "learning_rate": learning_rate(spec, steps_per_epoch),
        "clipnorm": o.clipnorm,
        "global_clipnorm": spec.global_clipnorm,
        "gradient_accumulation_steps": (
            spec.gradient_accumulation if spec.gradient_accumulation > 1 else None
        ),
        "decay_norm_and_bias": spec.weight_decay_on_norm_and_bias,
        "use_ema": spec.ema is not None,
        "ema_momentum": spec.ema if spec.ema is not None else 0.99,
        "statistics": statistics if spec.ema is not None else None,
    }
    if isinstance(o, SGDSpec):
        return SGD(
            momentum=o.momentum, nesterov=o.nesterov, weight_decay=o.weight_decay or None, **common
        )
    if isinstance(o, AdamSpec):
        if o.name == "adamw":
            decay = ADAMW_WEIGHT_DECAY if o.weight_decay is None else o.weight_decay
            return AdamW(
                weight_decay=decay, beta_1=o.beta_1, beta_2=o.beta_2, epsilon=o.epsilon, **common
            )
        return Adam(
            beta_1=o.beta_1,
            beta_2=o.beta_2,
            epsilon=o.epsilon,
            weight_decay=o.weight_decay or None,
            **common,
        )
    if isinstance(o, RMSpropSpec):
        return RMSprop(
            rho=o.rho,
            momentum=o.momentum,
            epsilon=o.epsilon,
            weight_decay=o.weight_decay or None,
            **common,
        )
    if isinstance(o, LambSpec):
        return Lamb(
            beta_1=o.beta_1,
            beta_2=o.beta_2,
            epsilon=o.epsilon,
            weight_decay=o.weight_decay or None,
            **common,
        )
    raise TypeError(f"Unknown optimizer section: {o!r}")


def current_learning_rate(optimizer: keras.optimizers.Optimizer) -> float:
    """The learning rate the optimizer uses at its current step."""
    return float(keras.ops.convert_to_numpy(optimizer.learning_rate))
