"""The gradient of the training loss with respect to each body layer's weights.

`layer_norms` gives one number per body layer (the stem, each block): the
norm of d loss / d weights over all of that layer's trainable weights, on
one batch, with the weights left as they are. `resblocks gradients`
(registry.training.gradients) plots it against depth at initialisation
and after training; the `gradient_flow` exercise checks its answers with
it. It lives here, below both, as a way of looking inside a network that
changes nothing.
"""

from __future__ import annotations

import keras
import numpy as np


def layer_norms(model: keras.Model, images, labels) -> np.ndarray:
    """The norm of the loss's gradient over each body layer's trainable weights.

    The loss is the mean cross-entropy of the batch in training mode (batch
    norm on the batch's statistics, as during training); the weights are
    not changed.
    """
    weights = model.trainable_variables
    gradients = weight_gradients(model, images, labels)
    squares = {layer.name: 0.0 for layer in model.body}
    for weight, gradient in zip(weights, gradients):
        owner = weight.path.split("/")[0]
        if owner in squares:
            squares[owner] += float(np.sum(np.square(keras.ops.convert_to_numpy(gradient))))
    return np.sqrt(np.array(list(squares.values()), dtype="float64"))


def weight_gradients(model: keras.Model, images, labels) -> list:
    """d loss / d w for each trainable weight, by each backend's own means.

    Through `stateless_call`, so batch norm's moving statistics are left as
    they were.
    """
    trainable = [v.value for v in model.trainable_variables]
    frozen = [v.value for v in model.non_trainable_variables]
    labels = keras.ops.convert_to_tensor(labels)

    def loss(values):
        outputs, _ = model.stateless_call(values, frozen, images, training=True)
        return keras.ops.mean(keras.losses.sparse_categorical_crossentropy(labels, outputs))

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        trainable = [tf.convert_to_tensor(value) for value in trainable]
        with tf.GradientTape() as tape:
            tape.watch(trainable)
            value = loss(trainable)
        return tape.gradient(value, trainable)
    if backend == "jax":
        import jax

        return jax.jit(jax.grad(loss))(trainable)  # compiled: far faster than op by op
    if backend == "torch":
        import torch

        trainable = [value.detach().clone().requires_grad_(True) for value in trainable]
        with torch.enable_grad():
            return list(torch.autograd.grad(loss(trainable), trainable))
    raise ValueError(
        "Gradient norms are taken on the tensorflow, jax or torch backend. "
        f"Received: KERAS_BACKEND={backend}"
    )
