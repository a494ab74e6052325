"""Coupled weight decay under tf.distribute: two replicas decay as one device does.

Keras' TensorFlow optimizer sums the replicas' gradients inside its update
step, where the L2 term is added: each replica must add only its share.
In its own process, since logical CPUs must be made before TensorFlow starts.
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SCRIPT = textwrap.dedent(
    """
    import numpy as np
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2
    )
    import keras

    from registry.recipe.train_spec import TrainSpec
    from registry.training.optim import make_optimizer

    spec = TrainSpec.model_validate(
        {"optimizer": {"name": "sgd", "learning_rate": 0.1, "weight_decay": 0.5}}
    )
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 5)).astype("float32")
    y = rng.normal(size=(8, 3)).astype("float32")

    def trained(strategy):
        with strategy.scope():
            keras.utils.set_random_seed(0)
            model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(3)])
            model.compile(optimizer=make_optimizer(spec, 1), loss="mse")
        model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
        return model.get_weights()[0]

    one = trained(tf.distribute.get_strategy())
    two = trained(tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))
    np.testing.assert_allclose(two, one, atol=1e-6)
    print("same")
    """
)


@pytest.mark.slow  # a process of its own, TensorFlow twice over
def test_two_mirrored_replicas_decay_as_one_device():
    root = Path(__file__).resolve().parents[3]
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "PYTHONPATH": str(root)}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0 and "same" in done.stdout, done.stderr[-3000:]
