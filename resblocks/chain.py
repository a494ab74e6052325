"""Building a composite layer's children, one after another.

Keras requires a layer's build() to create the state of all its children,
so that a saved model's weights have somewhere to go when it is loaded.
Composite layers here call `build_chain` in build() on each path of their
graph, `chain_output_shape` in compute_output_shape(), and `call_chain` to
run a path.
"""

from collections.abc import Sequence

import keras


def build_chain(layers: Sequence[keras.layers.Layer | None], input_shape) -> tuple:
    """Builds each layer on the previous one's output shape; returns the last shape."""
    shape = tuple(input_shape)
    for layer in layers:
        if layer is None:
            continue
        if not layer.built:
            layer.build(shape)
        shape = tuple(layer.compute_output_shape(shape))
    return shape


def chain_output_shape(layers: Sequence[keras.layers.Layer | None], input_shape) -> tuple:
    """The output shape of applying `layers` in order, without building them."""
    shape = tuple(input_shape)
    for layer in layers:
        if layer is not None:
            shape = tuple(layer.compute_output_shape(shape))
    return shape


def call_chain(layers: Sequence[keras.layers.Layer | None], x, training=None):
    """Applies `layers` to x in order, skipping None.

    Keras passes `training` only to layers that take it.
    """
    for layer in layers:
        if layer is not None:
            x = layer(x, training=training)
    return x
