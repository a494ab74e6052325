"""`load_model` rebuilds a network under the dtype policy it was built under.

resblocks' own blocks pass their policy to the layers they make
(tests/resblocks/test_dtype_policy.py); a user's block may not. Keras
saves each layer's policy but makes the layers a block creates itself
under the process's global one, so a block trained under
`mixed_bfloat16` and reloaded in a float32 process would come back half
in each dtype.
"""

import keras
import numpy as np
import pytest

from registry import build, load_model

MIXED = "mixed_bfloat16"


@keras.saving.register_keras_serializable(package="test_load_policy")
class CarelessBlock(keras.layers.Layer):
    """A user's residual block that makes its convolution without passing `dtype`."""

    def __init__(self, filters: int, **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
        self.conv = keras.layers.Conv2D(filters, 3, padding="same")  # the global policy

    def call(self, inputs):
        return inputs + self.conv(inputs)

    def get_config(self) -> dict:
        return {**super().get_config(), "filters": self.filters}


def careless_network(policy: str) -> keras.Model:
    keras.config.set_dtype_policy(policy)
    try:
        inputs = keras.Input((8, 8, 4))
        x = CarelessBlock(4, name="careless")(inputs)
        outputs = keras.layers.Dense(2, name="logits")(keras.layers.GlobalAveragePooling2D()(x))
        return keras.Model(inputs, outputs)
    finally:
        keras.config.set_dtype_policy("float32")


@pytest.mark.parametrize("saved, process", [(MIXED, "float32"), ("float32", MIXED)])
def test_a_users_block_comes_back_in_the_dtype_it_was_trained_in(saved, process, tmp_path):
    x = np.random.default_rng(0).uniform(size=(2, 8, 8, 4)).astype("float32")
    model = careless_network(saved)
    expected = keras.ops.convert_to_numpy(model(x))
    model.save(tmp_path / "model.keras")

    keras.config.set_dtype_policy(process)
    try:
        loaded = load_model(tmp_path / "model.keras", compile=False)
        assert keras.config.dtype_policy().name == process  # restored after the load
    finally:
        keras.config.set_dtype_policy("float32")

    assert loaded.get_layer("careless").conv.dtype_policy.name == saved
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(x)), expected, atol=1e-6)


def test_a_network_of_mixed_policies_loads_under_the_process_policy(tmp_path):
    """No one policy to restore (a float32 layer in a bfloat16 network): nothing is guessed."""
    inputs = keras.Input((4,))
    x = keras.layers.Dense(3, dtype=MIXED, name="mixed")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(2, dtype="float32", name="exact")(x))
    model.save(tmp_path / "model.keras")

    loaded = load_model(tmp_path / "model.keras", compile=False)
    assert [layer.dtype_policy.name for layer in loaded.layers[1:]] == [MIXED, "float32"]
    assert keras.config.dtype_policy().name == "float32"


def test_a_recipe_network_trained_mixed_reloads_as_built(tmp_path):
    keras.config.set_dtype_policy(MIXED)
    try:
        model = build("resnet20_cifar", num_classes=3, input_shape=(16, 16, 3))
    finally:
        keras.config.set_dtype_policy("float32")
    model.save(tmp_path / "model.keras")
    loaded = load_model(tmp_path / "model.keras", compile=False)
    assert {layer.dtype_policy.name for layer in loaded.layers[1:]} == {MIXED}
