"""A network with frozen blocks reloads with the same weights frozen.

Its optimizer state fits too.
"""

import warnings

import keras
import numpy as np
from helpers import tiny_recipe

from registry import build

TINY = tiny_recipe(**{"head.num_classes": 2})


def test_frozen_blocks_stay_frozen_after_save_and_load(tmp_path):
    model = build(TINY)
    model.get_layer("stem").trainable = False
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(np.zeros((2, 16, 16, 3)), np.zeros(2), verbose=0)
    model.save(tmp_path / "m.keras")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Keras warns when it skips optimizer variables
        loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    assert len(loaded.trainable_weights) == len(model.trainable_weights)
    assert not any(w.trainable for w in loaded.get_layer("stem").weights)
    assert len(loaded.optimizer.variables) == len(model.optimizer.variables)
