"""Counting a built network: multiply-adds and weighted layers, from layer shapes.

The paper's "FLOPs" (He et al. 2015, Table 1: 3.6e9 for ResNet-34, 3.8e9
for ResNet-50) are multiply-adds of the convolutions and the fully
connected layer. Each layer remembers the input shape it was built on, so
counting needs no forward pass. A stand-in for the exercises until
`registry.profile` (MACs per stage) lands; then this should call it.
"""

import math

import keras


def _sublayers(layer: keras.layers.Layer) -> list[keras.layers.Layer]:
    # Keras' own walk over nested layers; there is no public equivalent.
    return list(layer._flatten_layers(include_self=True, recursive=True))


def _own_multiply_adds(layer: keras.layers.Layer) -> int:
    """Multiply-adds of one Conv2D or Dense layer as built; 0 for any other."""
    if not layer.built or not isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense)):
        return 0
    input_shape = layer.get_build_config()["input_shape"]
    if isinstance(layer, keras.layers.Dense):
        return math.prod(input_shape[1:-1]) * math.prod(layer.kernel.shape)
    output_shape = layer.compute_output_shape(input_shape)
    kernel_h, kernel_w, channels_in, channels_out = layer.kernel.shape
    per_output = kernel_h * kernel_w * channels_in // layer.groups
    return output_shape[1] * output_shape[2] * channels_out * per_output


def layer_multiply_adds(layer: keras.layers.Layer) -> int:
    """Multiply-adds of a built layer (a block, say) and everything inside it."""
    return sum(_own_multiply_adds(sub) for sub in _sublayers(layer))


def multiply_adds(model: keras.Model) -> dict[str, int]:
    """Multiply-adds of each top-level layer (stem, blocks, head) of a built model.

    Example:
        >>> macs = multiply_adds(build("resnet50"))
        >>> sum(macs.values()) / 1e9   # 3.86, the paper's "3.8 x 10^9 FLOPs"
    """
    return {layer.name: layer_multiply_adds(layer) for layer in model.layers}


def weighted_layers(model: keras.Model) -> int:
    """The depth the papers count: convolutions and dense layers, shortcuts excluded.

    ResNet-50 has 50: the stem's conv, 16 blocks of three, and the fc layer.
    """
    count = 0
    for layer in model.layers:
        skip = set()
        for sub in _sublayers(layer):
            if sub.name == "downsample":
                skip.update(id(s) for s in _sublayers(sub))
        count += sum(
            isinstance(sub, (keras.layers.Conv2D, keras.layers.Dense)) and id(sub) not in skip
            for sub in _sublayers(layer)
        )
    return count
