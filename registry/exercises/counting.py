"""Counting the depth of a built network the way the papers do.

He et al. 2015 name their networks by their weighted layers: ResNet-50 has
the stem's convolution, 16 bottlenecks of three and the fc layer. The
multiply-adds ("FLOPs" in Table 1) are counted by `registry.inspection.costs`.
"""

import keras

from registry.keras_compat import leaf_layers


def weighted_layers(model: keras.Model) -> int:
    """The depth the papers count: convolutions and dense layers, shortcuts excluded.

    ResNet-50 has 50: the stem's conv, 16 blocks of three, and the fc layer.
    """
    count = 0
    for layer in model.layers:
        skip = set()
        for sub in leaf_layers(layer):
            if sub.name == "downsample":
                skip.update(id(s) for s in leaf_layers(sub))
        count += sum(
            isinstance(sub, (keras.layers.Conv2D, keras.layers.Dense)) and id(sub) not in skip
            for sub in leaf_layers(layer)
        )
    return count
