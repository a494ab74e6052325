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
  "multi_host" is the same over the devices of several processes, one
  machine or many (see `registry.training.distribution`).

"default" (one device) runs on every backend. `train()` uses a strategy
through `scope()`, `fit_scope()`, `num_replicas_in_sync` and `is_chief`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import keras
import tensorflow as tf

from registry.training.data import ImageSource
from registry.training.distribution import DataParallel, MultiHost, ProcessGroup, StrategyError

STRATEGIES = ("default", "mirrored", "multi_worker", "data_parallel", "multi_host")

# The backend each strategy runs on; "default" runs on all, "multi_worker" on none.
BACKEND_OF = {"mirrored": "tensorflow", "data_parallel": "jax", "multi_host": "jax"}


MULTI_WORKER_REFUSED = (
    "--strategy multi_worker cannot train with Keras 3: `fit` under TensorFlow's "
    "MultiWorkerMirroredStrategy fails on every worker with 'Attempt to convert a value "
    "(PerReplica...)' (keras-team/keras#20585, open upstream). On several machines use "
    "--strategy multi_host (JAX, keras.distribution); on one, mirrored (TensorFlow) or "
    "data_parallel (JAX)."
)


Strategy = tf.distribute.Strategy | DataParallel


def make_strategy(
    strategy: str | Strategy | None, processes: ProcessGroup | None = None
) -> Strategy:
    """A strategy from its name (see the module docstring), or the one given.

    Args:
        strategy: a name of STRATEGIES, a strategy, or None (the default).
        processes: ProcessGroup or None. For "multi_host": this process's
            place in the job; None reads Keras' KERAS_DISTRIBUTION_*
            environment variables.

    Raises:
        StrategyError: "multi_worker", a strategy of another backend, or a
            multi_host setting missing or wrong.
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
    if strategy == "multi_host":
        return MultiHost(processes or ProcessGroup.from_settings())
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
    processes of a multi-process run other than the first (they train,
    process 0 saves)."""
    if isinstance(strategy, DataParallel):
        return strategy.process_id == 0
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    if resolver.task_type == "chief":
        return True
    jobs = resolver.cluster_spec().jobs
    return resolver.task_type == "worker" and resolver.task_id == 0 and "chief" not in jobs


def split_batches(
    strategy: Strategy,
    batch_size: int,
    train_folder: ImageSource,
    val_folder: ImageSource,
    say: Callable[[str], None],
) -> int:
    """The number that every batch must be a multiple of under `strategy` (1: any size).

    keras.distribution splits each batch evenly across its devices, so a
    batch must divide; the last batch of an epoch is cut to a multiple (at
    most `devices - 1` images of the epoch left out, and said).

    Raises:
        StrategyError: the batch size does not split over the devices.
    """
    if not isinstance(strategy, DataParallel):
        return 1  # tf.distribute splits uneven batches itself
    devices = strategy.num_replicas_in_sync
    if batch_size % devices:
        name, over = "data_parallel", f"{devices} devices"
        if isinstance(strategy, MultiHost):
            name = "multi_host"
            over += f" ({strategy.num_processes} processes x {strategy.local_devices})"
        raise StrategyError(
            f"--strategy {name} splits each batch over {over}, and the batch "
            f"size {batch_size} does not split evenly. Use a multiple of {devices} "
            f"(--batch-size {max(devices, batch_size // devices * devices)})."
        )
    left = [
        (len(f) % devices, len(f), name)
        for f, name in ((train_folder, "training"), (val_folder, "validation"))
    ]
    cut = [f"{n} of the {total} {name} images" for n, total, name in left if n]
    if cut:
        say(
            f"Each batch is split over {devices} devices, so the last batch of an epoch is cut "
            f"to a multiple of {devices}: {' and '.join(cut)} are left out of each epoch."
        )
    return devices
