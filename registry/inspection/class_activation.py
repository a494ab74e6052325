"""Grad-CAM: where in an image a network looks for a class (Selvaraju et al. 2017).

The class score's gradient with respect to a feature map, averaged over
the map's positions, weighs each channel; the ReLU of the weighted sum
of channels, scaled up to the input size, is the heatmap (paper, eq. 1-2).

The network is split at a body layer of its functional graph: the part
up to that layer is a sub-model of the same graph (top-level layers only,
so no "Graph disconnected" error from reaching into a nested block,
tensorflow#44462), and the rest (later body layers and the head) is
called on the map. The gradient of that rest is taken by each backend's
own means in `input_gradient`, so the same code runs on TensorFlow, JAX
and PyTorch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import keras
import numpy as np

from registry.errors import ResblocksError
from registry.names import unknown_name_message
from resblocks import Classifier, Network


def grad_cam(
    model: keras.Model,
    images,
    layer: str | None = None,
    class_index: int | Sequence[int] | None = None,
    *,
    batch_size: int = 32,
) -> np.ndarray:
    """Grad-CAM heatmaps of `images` for a class, at the input size.

    Args:
        model: a resblocks `Network` with a head (built by `registry.build`
            or loaded from a `.keras` file).
        images: array (N, H, W, C). Images as the model takes them: raw
            0-255 pixels for a model with its preprocessing inside.
        layer: str or None. The body layer whose output map is explained
            (a stage's block such as "conv4_block2", or "stem"). Default:
            the last body layer before the head, the last stage's map.
        class_index: int, a list of one int per image, or None for each
            image's predicted class.
        batch_size: int. Images per gradient computation.

    Returns:
        float32 array (N, H, W) in [0, 1]: 1 where the map most supports the
        class, all zeros where nothing does.

    Raises:
        ResblocksError: the model is not a Network with a head, or `layer`
            is not one of its body layers.
    """
    images = np.asarray(images, dtype="float32")
    if images.ndim != 4:
        raise ResblocksError(
            "Argument `images` must be a batch of shape (N, H, W, C). "
            f"Received: shape={images.shape}"
        )
    features, scores = split_at(model, layer)
    classes = _class_indices(class_index, len(images))
    maps = []
    for start in range(0, len(images), batch_size):
        batch = images[start : start + batch_size]
        feature_map = features(batch, training=False)
        wanted = classes[start : start + batch_size] if classes is not None else None
        if wanted is None:
            wanted = keras.ops.convert_to_numpy(keras.ops.argmax(scores(feature_map), axis=-1))
        chosen = keras.ops.one_hot(np.asarray(wanted), int(model.output_shape[-1]))

        def class_score(x, chosen=chosen):
            return keras.ops.sum(scores(x) * chosen, axis=-1)

        gradient = input_gradient(class_score, feature_map)
        maps.append(_heatmaps(feature_map, gradient, images.shape[1:3]))
    return np.concatenate(maps, axis=0)


def split_at(model: keras.Model, layer: str | None = None) -> tuple[keras.Model, Callable]:
    """The network cut after body layer `layer`: (images -> map, map -> class scores).

    Class scores are the head's scores before its softmax, as the paper
    asks (the gradient of a probability also depends on the other classes).
    """
    if not isinstance(model, Network) or model.head is None:
        raise ResblocksError(
            "Grad-CAM needs a resblocks Network with a head (built by registry.build or "
            f"trained by `resblocks train`). Received: {type(model).__name__} '{model.name}'"
        )
    body = list(model.body)
    names = [item.name for item in body]
    name = names[-1] if layer is None else layer
    if name not in names:
        raise ResblocksError(
            f"Argument `layer` must name a body layer of '{model.name}': "
            + unknown_name_message("layer", name, names, listed="Body layers")
        )
    cut = names.index(name)
    features = keras.Model(model.inputs[0], body[cut].output, name=f"{model.name}_to_{name}")
    rest = body[cut + 1 :]
    head = model.head

    def scores(x):
        for later in rest:
            x = later(x, training=False)
        return class_scores(head, x)

    return features, scores


def class_scores(head: keras.layers.Layer, x):
    """The head's outputs before a softmax: a `Classifier`'s last dense layer without it."""
    if not isinstance(head, Classifier) or head.activation != "softmax":
        return head(x, training=False)
    *hidden, dense = head.sublayers
    for sublayer in hidden:
        if sublayer is not None:
            x = sublayer(x, training=False)
    x = keras.ops.cast(x, dense.kernel.dtype)
    logits = keras.ops.matmul(x, dense.kernel)
    return logits + dense.bias if dense.use_bias else logits


def input_gradient(function: Callable, x):
    """The gradient of `sum(function(x))` with respect to the tensor `x`, on any backend.

    Keras has no backend-neutral gradient of a plain function, so each
    backend's own is used: `tf.GradientTape`, `jax.grad`, `torch.autograd`.
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        x = tf.convert_to_tensor(x)
        with tf.GradientTape() as tape:
            tape.watch(x)
            total = tf.reduce_sum(function(x))
        return tape.gradient(total, x)
    if backend == "jax":
        import jax
        import jax.numpy as jnp

        return jax.jit(jax.grad(lambda value: jnp.sum(function(value))))(x)
    if backend == "torch":
        import torch

        x = x.detach().clone().requires_grad_(True)
        with torch.enable_grad():
            (gradient,) = torch.autograd.grad(torch.sum(function(x)), x)
        return gradient
    raise ResblocksError(
        "Grad-CAM needs gradients, which this project takes on the tensorflow, jax or torch "
        f"backend. Received: KERAS_BACKEND={backend}"
    )


def _heatmaps(feature_map, gradient, size) -> np.ndarray:
    """ReLU(sum over channels of (mean gradient) x map), resized to `size`, scaled to [0, 1]."""
    ops = keras.ops
    feature_map = ops.cast(feature_map, "float32")
    weights = ops.mean(ops.cast(gradient, "float32"), axis=(1, 2), keepdims=True)  # eq. 1
    cam = ops.relu(ops.sum(weights * feature_map, axis=-1, keepdims=True))  # eq. 2
    cam = ops.image.resize(cam, tuple(size), interpolation="bilinear")[..., 0]
    cam = ops.convert_to_numpy(cam).astype("float32")
    peak = cam.max(axis=(1, 2), keepdims=True)
    return np.divide(cam, peak, out=np.zeros_like(cam), where=peak > 0)


def _class_indices(class_index, count: int) -> np.ndarray | None:
    if class_index is None:
        return None
    if isinstance(class_index, (int, np.integer)) and not isinstance(class_index, bool):
        return np.full(count, int(class_index))
    indices = np.asarray(class_index)
    if indices.shape != (count,) or not np.issubdtype(indices.dtype, np.integer):
        raise ResblocksError(
            "Argument `class_index` must be an int, one int per image or None. "
            f"Received: class_index={class_index!r} for {count} images"
        )
    return indices
