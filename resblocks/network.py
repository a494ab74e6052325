"""Network: a stem, a stack of blocks and a head, wired as one Keras model."""

from collections.abc import Sequence

import keras

from resblocks.checks import check_one_of
from resblocks.heads import POOLINGS
from resblocks.preprocessing import MODES

GLOBAL_POOLS = {"avg": keras.layers.GlobalAveragePooling2D, "max": keras.layers.GlobalMaxPooling2D}


class LayerInputError(ValueError):
    """A body layer cannot take the map it is given (a wrong shape, a map too small).

    Attributes:
        layer: the body layer that failed.
    """

    def __init__(self, layer: keras.layers.Layer, message: str):
        super().__init__(message)
        self.layer = layer


@keras.saving.register_keras_serializable(package="resblocks")
class Network(keras.Model):
    """A residual network: image -> body (stem, then blocks) -> head.

    A functional model built from layer instances, so `summary()` lists every
    block with its output shape and parameters, and the graph runs as fast
    as a hand-written functional model. Named taps expose intermediate
    feature maps (`c1` after the stem, `c2`..`c5` after each stage) for
    multi-scale feature extraction.

    Args:
        body: list of layers. Applied in order; the first is the stem.
            Layer names must be unique.
        head: layer or None. Applied to the last feature map; None leaves
            the network without a top.
        image_shape: [int, int, int]. Input height, width, channels; height
            and width may be None for any size.
        taps: dict mapping a feature name (e.g. "c3") to the name of the
            body layer whose output it is.
        features: list of str or None. Tap names to return: the model
            then outputs a dict of those maps (plus "predictions" if it
            has a head).
        pooling: str or None. Without head or features: "avg" or "max"
            pools the last map to a vector, None returns the map itself.
        preprocessing: layer or None. Applied to the raw image first.
        input_convention: str. The pixel convention the weights expect
            (a `Preprocess` mode: "caffe", "tf", "torch", "rescale" or
            "none"), kept so that images can be prepared for this network
            even when `preprocessing` is not inside it.

    Input shape: `(batch, *image_shape)`.
    Output: class scores, a feature map, a pooled vector or a dict of maps.
    """

    def __init__(
        self,
        body: Sequence[keras.layers.Layer],
        head: keras.layers.Layer | None = None,
        image_shape: Sequence[int | None] = (224, 224, 3),
        taps: dict[str, str] | None = None,
        features: Sequence[str] | None = None,
        pooling: str | None = None,
        preprocessing: keras.layers.Layer | None = None,
        input_convention: str = "none",
        **kwargs,
    ):
        body = list(body)
        taps = dict(taps or {})
        features = list(features) if features else None
        _check_wiring(body, taps, features, pooling)
        check_one_of("input_convention", input_convention, MODES)

        # === Functional model ===
        inputs = keras.Input(shape=tuple(image_shape), name="image")
        x = preprocessing(inputs) if preprocessing is not None else inputs
        maps = {}
        for layer in body:
            try:
                x = layer(x)
            except ValueError as error:
                raise LayerInputError(
                    layer,
                    (
                        f"Layer '{layer.name}' ({type(layer).__name__}) cannot take its "
                        f"input of shape {tuple(x.shape)}: {error}"
                    ),
                ) from error
            maps[layer.name] = x
        if features:
            outputs = {name: maps[taps[name]] for name in features}
            if head is not None:
                outputs["predictions"] = head(x)
        elif head is not None:
            outputs = head(x)
        elif pooling is not None:
            outputs = GLOBAL_POOLS[pooling](name=f"{pooling}_pool")(x)
        else:
            outputs = x
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        # A block rebuilt from its config with trainable=False is frozen
        # itself, but the sublayers its __init__ made are not. Setting the
        # flag passes it down, so a fine-tuned model reloads with the same
        # weights frozen (and its saved optimizer state fits). Set twice:
        # on TensorFlow, `layer.trainable = False` when it already is False
        # is skipped as a no-op assignment, setter and all.
        for layer in self.layers:
            if not layer.trainable:
                layer.trainable = True
                layer.trainable = False

        # === Config ===
        self.body = body
        self.head = head
        self.image_shape = list(image_shape)
        self.taps = taps
        self.features = features
        self.pooling = pooling
        self.preprocessing = preprocessing
        self.input_convention = input_convention

    def get_config(self):
        serialize = keras.saving.serialize_keras_object
        return {
            "name": self.name,
            "trainable": self.trainable,
            "body": [serialize(layer) for layer in self.body],
            "head": serialize(self.head) if self.head is not None else None,
            "image_shape": self.image_shape,
            "taps": self.taps,
            "features": self.features,
            "pooling": self.pooling,
            "preprocessing": serialize(self.preprocessing) if self.preprocessing else None,
            "input_convention": self.input_convention,
        }

    @classmethod
    def from_config(cls, config):
        deserialize = keras.saving.deserialize_keras_object
        config = dict(config)
        config["body"] = [deserialize(layer) for layer in config["body"]]
        for key in ("head", "preprocessing"):
            if config.get(key) is not None:
                config[key] = deserialize(config[key])
        return cls(**config)


def _check_wiring(body, taps, features, pooling) -> None:
    """Raises a ValueError naming the first inconsistency in the arguments."""
    if not body:
        raise ValueError(
            "Argument `body` must hold at least one layer (the stem). Received: body=[]"
        )
    names = [layer.name for layer in body]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"Layer names in `body` must be unique. Repeated: {', '.join(repeated)}")
    for tap, layer_name in taps.items():
        if layer_name not in names:
            raise ValueError(
                f"Tap '{tap}' points at layer '{layer_name}', which is not in the body. "
                f"Body layers: {', '.join(names[:5])}{', ...' if len(names) > 5 else ''}"
            )
    for name in features or ():
        if name not in taps:
            raise ValueError(
                f"Unknown feature '{name}'. Available taps: {', '.join(taps) or 'none'}"
            )
    check_one_of("pooling", pooling, (None, *POOLINGS))
