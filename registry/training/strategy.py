"""Where training runs: one device, all local devices, or several machines.

Each strategy belongs to a backend:

- TensorFlow: "mirrored" (every local GPU, or every logical CPU device) is
  a `tf.distribute` strategy: Keras 3 distributes a TensorFlow-backend
  `fit` with the strategy whose scope the model was built and compiled in.
  "multi_worker" is refused with the reason: Keras 3's `fit` under
  `MultiWorkerMirroredStrategy` fails on every worker (keras-team/keras#20585).
- JAX: "data_parallel" is Keras' own `keras.distribution.DataParallel` over
  the local devices (on a CPU, as many as
  `XLA_FLAGS=--xla_force_host_platform_device_count=N` makes). It must be
  the current distribution while the model is built and while `fit` runs:
  the variables are replicated, and every batch is split across devices.

"default" (one device) runs on every backend. `train()` uses a strategy
through `scope()`, `fit_scope()`, `num_replicas_in_sync` and `is_chief`.
"""

from __future__ import annotations

import contextlib

import keras
import tensorflow as tf

from registry.errors import ResblocksError

STRATEGIES = ("default", "mirrored", "multi_worker", "data_parallel")

# The backend each strategy runs on; "default" runs on all, "multi_worker" on none.
BACKEND_OF = {"mirrored": "tensorflow", "data_parallel": "jax"}


MULTI_WORKER_REFUSED = (
    "--strategy multi_worker cannot train with Keras 3: `fit` under TensorFlow's "
    "MultiWorkerMirroredStrategy fails on every worker with 'Attempt to convert a value "
    "(PerReplica...)' (keras-team/keras#20585, open upstream). On one machine use "
    "--strategy mirrored (TensorFlow) or data_parallel (JAX)."
)


class StrategyError(ResblocksError):
    """A strategy that this backend cannot run; the message names the one that can."""


class DataParallel:
    """`keras.distribution.DataParallel` over the local devices, for `train()`.

    The model is replicated on every device and each global batch is split
    across them, so every batch must hold a multiple of
    `num_replicas_in_sync` images (`train()` trims the last one).
    """

    def __init__(self, devices: list | None = None) -> None:
        devices = devices or keras.distribution.list_devices()
        self.distribution = keras.distribution.DataParallel(devices=devices)
        self.num_replicas_in_sync = len(devices)

    def scope(self):
        return self.distribution.scope()


Strategy = tf.distribute.Strategy | DataParallel


def make_strategy(strategy: str | Strategy | None) -> Strategy:
    """A strategy from its name (see the module docstring), or the one given.

    Raises:
        StrategyError: "multi_worker", or a strategy of another backend.
        ValueError: an unknown name.
    """
    if isinstance(strategy, (tf.distribute.Strategy, DataParallel)):
        return strategy
    if strategy in (None, "default"):
        return tf.distribute.get_strategy()
    if strategy not in STRATEGIES:
        raise ValueError(
            f"Unknown strategy {strategy!r}. Use one of: {', '.join(STRATEGIES)} "
            "(or pass a tf.distribute.Strategy)."
        )
    if strategy == "multi_worker":
        raise StrategyError(MULTI_WORKER_REFUSED)
    check_backend(strategy)
    if strategy == "mirrored":
        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        return tf.distribute.MirroredStrategy(devices=[device.name for device in devices])
    return DataParallel()


def check_backend(strategy: str) -> None:
    """Raises StrategyError if `strategy` belongs to another backend than Keras' current one."""
    backend = keras.config.backend()
    needed = BACKEND_OF.get(strategy)
    if needed is None or needed == backend:
        return
    others = [name for name, owner in BACKEND_OF.items() if owner == backend]
    instead = f"; on {backend} use {' or '.join(others)}" if others else ""
    raise StrategyError(
        f"--strategy {strategy} runs on the {needed} backend, and Keras runs on {backend} "
        f"here. Run with `resblocks --backend {needed} ...` (or KERAS_BACKEND={needed}){instead}."
    )


def fit_scope(strategy: Strategy):
    """What `fit` runs in: a keras.distribution is read while fit runs, a
    tf.distribute strategy was captured when the model was compiled."""
    if isinstance(strategy, DataParallel):
        return strategy.scope()
    return contextlib.nullcontext()


def is_chief(strategy: Strategy) -> bool:
    """Whether this process writes the run folder: always, except on the
    non-chief workers of a multi-worker run (they train, the chief saves)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    if resolver.task_type == "chief":
        return True
    jobs = resolver.cluster_spec().jobs
    return resolver.task_type == "worker" and resolver.task_id == 0 and "chief" not in jobs
