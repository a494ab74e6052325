"""Where training runs: one device, all local ones (mirrored), or several machines (multi_worker).

All through tf.distribute.

TensorFlow-only: Keras 3 distributes a TensorFlow-backend `fit` with the
`tf.distribute` strategy whose scope the model was built and compiled in.
"""

from __future__ import annotations

import tensorflow as tf

STRATEGIES = ("default", "mirrored", "multi_worker")


def make_strategy(strategy: str | tf.distribute.Strategy | None) -> tf.distribute.Strategy:
    """A `tf.distribute.Strategy` from its name.

    Args:
        strategy: "default" or None (the current strategy: one device),
            "mirrored" (every local GPU; without GPUs, every logical CPU
            device, which is how it is tested), "multi_worker" (the
            cluster in the TF_CONFIG environment variable), or a strategy.

    Raises:
        ValueError: an unknown name.
    """
    if isinstance(strategy, tf.distribute.Strategy):
        return strategy
    if strategy in (None, "default"):
        return tf.distribute.get_strategy()
    if strategy == "mirrored":
        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        return tf.distribute.MirroredStrategy(devices=[device.name for device in devices])
    if strategy == "multi_worker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ValueError(
        f"Unknown strategy {strategy!r}. Use one of: {', '.join(STRATEGIES)} "
        "(or pass a tf.distribute.Strategy)."
    )


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """Whether this process writes the run folder: always, except on the
    non-chief workers of a multi-worker run (they train, the chief saves)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    if resolver.task_type == "chief":
        return True
    jobs = resolver.cluster_spec().jobs
    return resolver.task_type == "worker" and resolver.task_id == 0 and "chief" not in jobs


def num_replicas(strategy: tf.distribute.Strategy) -> int:
    return strategy.num_replicas_in_sync
