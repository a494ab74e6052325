"""Stratified, seeded train/validation split of labels, shared by folders and the digits writer.

Kept free of TensorFlow so the digits writer can use it without importing tf.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np


def stratified_split(
    labels: Sequence[int], val_fraction: float, seed: int
) -> tuple[list[int], list[int]]:
    """Split indices of `labels` into (train, val), each class keeping its proportion.

    Every class with at least 2 items gives at least one item to validation
    and keeps at least one for training; a class with a single item stays in
    training. Each class draws from its own generator seeded by `(seed,
    label)`, so adding a class does not reshuffle the others. Both index
    lists come back sorted, so folder order is preserved.

    Args:
        labels: sequence of int. The class index of each item.
        val_fraction: float. Fraction of each class held out, in (0, 1).
        seed: int. Seed of the split; the same seed gives the same split.

    Returns:
        A tuple `(train_indices, val_indices)` of sorted lists of int.
    """
    if isinstance(val_fraction, bool) or not isinstance(val_fraction, (int, float)):
        raise ValueError(
            "Argument `val_fraction` must be a float strictly between 0 and 1. "
            f"Received: val_fraction={val_fraction!r}"
        )
    if not 0.0 < float(val_fraction) < 1.0:
        raise ValueError(
            "Argument `val_fraction` must be strictly between 0 and 1 (e.g. 0.2 "
            f"holds out a fifth of each class). Received: val_fraction={val_fraction!r}"
        )
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"Argument `seed` must be an int. Received: seed={seed!r}")
    labels = np.asarray(labels, dtype=np.int64)
    train: list[int] = []
    val: list[int] = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        n = len(members)
        n_val = int(round(n * val_fraction))
        if n >= 2:
            # At least one of each, so every class is both learned and measured.
            n_val = min(max(n_val, 1), n - 1)
        else:
            n_val = 0
        # crc32 keeps the per-class stream stable across Python runs (hash() is salted).
        rng = np.random.default_rng([int(seed) % (1 << 64), zlib.crc32(str(label).encode())])
        order = rng.permutation(members)
        val.extend(int(i) for i in order[:n_val])
        train.extend(int(i) for i in order[n_val:])
    return sorted(train), sorted(val)
