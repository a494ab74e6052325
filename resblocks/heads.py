"""Classifier heads: global pooling, optional hidden layers, class scores."""

from collections.abc import Sequence

import keras

from resblocks.arguments import argument_config, keep_arguments
from resblocks.chain import build_chain, call_chain
from resblocks.checks import check_one_of

POOLINGS = ("avg", "max")  # global pooling over height and width


@keras.saving.register_keras_serializable(package="resblocks")
class Classifier(keras.layers.Layer):
    """Global pooling -> [dropout -> dense]* -> dropout -> dense(num_classes).

    With the defaults it is the head of every ResNet in He et al. 2015
    (global average pool, 1000-way fully connected, softmax). The ResNet-101
    article's head is `hidden_units=[1024], dropout=0.5`.

    Args:
        num_classes: int. Number of classes.
        pooling: str. "avg" or "max" global pooling over height and width.
        hidden_units: list of int. Widths of hidden dense layers, in order.
        dropout: float. Dropout rate before each dense layer; 0 for none.
        hidden_activation: str. Activation of the hidden dense layers.
        activation: str or None. "softmax" for probabilities, None for
            logits (pair with `from_logits=True` losses).
        class_names: list of str or None. The label of each class, in
            output order. Kept in the config, so a saved model can name
            its predictions with nothing else at hand.

    Attributes:
        sublayers: list of layers. The pool, dropouts and dense layers in
            the order `call` applies them (None for a dropout that is off).
        predictions: the last dense layer, which gives the class scores.

    Input shape: `(batch, height, width, channels)`.
    Output shape: `(batch, num_classes)`, always float32 so that softmax and
    the loss stay exact under mixed precision.
    """

    def __init__(
        self,
        num_classes: int = 1000,
        pooling: str = "avg",
        hidden_units: Sequence[int] = (),
        dropout: float = 0.0,
        hidden_activation: str = "relu",
        activation: str | None = "softmax",
        class_names: Sequence[str] | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if class_names is not None and len(class_names) != num_classes:
            raise ValueError(
                f"Argument `class_names` must hold one name per class ({num_classes}). "
                f"Received: {len(class_names)} names. Give exactly "
                f"{num_classes} names, in the order of the outputs, or leave class_names unset."
            )
        check_one_of("pooling", pooling, POOLINGS)
        keep_arguments(self, locals())
        # Lists, as a recipe writes them and the config holds them.
        self.hidden_units = list(hidden_units)
        self.class_names = list(class_names) if class_names is not None else None

        pool = (
            keras.layers.GlobalAveragePooling2D
            if pooling == "avg"
            else keras.layers.GlobalMaxPooling2D
        )
        dtype = self.dtype_policy
        self.pool = pool(name=f"{pooling}_pool", dtype=dtype)
        self.hidden = [
            keras.layers.Dense(units, activation=hidden_activation, name=f"fc{i + 1}", dtype=dtype)
            for i, units in enumerate(self.hidden_units)
        ]
        self.drops = [
            keras.layers.Dropout(dropout, name=f"dropout{i + 1}", dtype=dtype) if dropout else None
            for i in range(len(self.hidden_units) + 1)
        ]
        # float32 whatever the policy: under mixed precision the softmax and
        # the loss stay exact (Keras' mixed-precision guide).
        self.predictions = keras.layers.Dense(
            num_classes, activation=activation, dtype="float32", name="predictions"
        )

    @property
    def sublayers(self) -> list[keras.layers.Layer | None]:
        """pool, then (dropout, dense) for each hidden layer and the predictions.

        A dropout is None when off.
        """
        layers = [self.pool]
        for drop, dense in zip(self.drops, [*self.hidden, self.predictions]):
            layers += [drop, dense]
        return layers

    def build(self, input_shape):
        build_chain(self.sublayers, input_shape)

    def call(self, x, training=None):
        return call_chain(self.sublayers, x, training)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_classes)

    def get_config(self):
        return {**super().get_config(), **argument_config(self)}
