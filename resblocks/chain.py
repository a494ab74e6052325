"""Building a composite layer's children, one after another.

Keras requires a layer's build() to create the state of all its children,
so that a saved model's weights have somewhere to go when it is loaded.
Composite layers here call `build_chain` in build() on each path of their
graph, `chain_output_shape` in compute_output_shape(), and `call_chain` to
run a path.
"""

from collections.abc import Sequence

import keras

from resblocks.arguments import argument_config


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


def strided_output_shape(input_shape, strides: int, channels: int) -> tuple:
    """The output shape of a "same"-padded layer of stride `strides`: ceil(h / s), ceil(w / s)."""
    batch, height, width, _ = input_shape
    return (
        batch,
        None if height is None else -(-height // strides),
        None if width is None else -(-width // strides),
        channels,
    )


def call_chain(layers: Sequence[keras.layers.Layer | None], x, training=None):
    """Applies `layers` to x in order, skipping None.

    Keras passes `training` only to layers that take it.
    """
    for layer in layers:
        if layer is not None:
            x = layer(x, training=training)
    return x


class ChainLayer(keras.layers.Layer):
    """A layer that applies its `sublayers` one after another: a stem, a post-norm.

    The plumbing of such layers, written once: a subclass makes its layers
    in `__init__`, keeps its arguments (`keep_arguments`) and lists the
    layers in call order in `sublayers`; building, calling, the output
    shape and the config (exactly the constructor's arguments) follow.
    """

    @property
    def sublayers(self) -> list[keras.layers.Layer]:
        """The layers in the order `call` applies them."""
        raise TypeError(f"{type(self).__name__} must define sublayers: its layers in call order")

    def build(self, input_shape):
        build_chain(self.sublayers, input_shape)

    def call(self, x, training=None):
        return call_chain(self.sublayers, x, training)

    def compute_output_shape(self, input_shape):
        return chain_output_shape(self.sublayers, input_shape)

    def get_config(self):
        return {**super().get_config(), **argument_config(self)}
