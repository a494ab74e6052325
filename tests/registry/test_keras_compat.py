"""The private Keras APIs of registry/keras_compat.py still do what the project relies on."""

import h5py
import keras
from helpers import built

from registry.keras_compat import KERAS_CHECKED, leaf_layers, sublayers, weights_layout
from resblocks import ConvBN


def test_sublayers_are_the_children_in_assignment_order():
    layer = ConvBN(8, 3, strides=2)
    layer.build((None, 16, 16, 3))
    assert [child.name for child in sublayers(layer)] == ["pad", "conv", "bn", "relu"]
    assert leaf_layers(layer)[0] is layer and len(leaf_layers(layer)) == 5


def test_weights_layout_is_where_save_weights_puts_each_variable(tmp_path):
    model = built("resnet20_cifar")
    layout = weights_layout(model)
    path = tmp_path / "m.weights.h5"
    model.save_weights(path)
    with h5py.File(path) as f:
        for group, variables in layout.items():
            for key, variable in variables.items():
                assert tuple(f[f"{group}/vars/{key}"].shape) == tuple(variable.shape)
    assert sum(len(v) for v in layout.values()) == len(model.weights)


def test_this_keras_is_one_the_compatibility_module_was_checked_against():
    assert keras.__version__ in KERAS_CHECKED, (
        f"registry/keras_compat.py was checked against Keras {', '.join(KERAS_CHECKED)}; this is "
        f"{keras.__version__}. Run tests/registry/test_keras_compat.py and the weights tests on "
        "it, "
        "then add the version to KERAS_CHECKED."
    )
