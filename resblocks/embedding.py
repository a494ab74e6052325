"""Embedding: the head of a face-recognition network, a unit vector per image.

FaceNet (Schroff et al. 2015, sec. 3) maps a face to a point on the unit
hypersphere, so that the distance between two embeddings says whether they
show the same person. facenet-pytorch's `InceptionResnetV1` ends so:
average pool, dropout, `last_linear` (1792 -> 512, no bias), `last_bn`
(BatchNorm1d, epsilon 0.001, momentum 0.1), `F.normalize` (L2). Not Keras'
`Embedding` layer (a lookup table of token vectors): a head block, named
`embedding` in recipes as the classifier is `classifier`.
"""

import keras
from keras import ops

from resblocks.arguments import argument_config, keep_arguments
from resblocks.chain import build_chain, call_chain
from resblocks.checks import check_one_of
from resblocks.heads import POOLINGS

# F.normalize's floor on the norm: an all-zero vector stays zero, not NaN.
NORM_EPSILON = 1e-12


@keras.saving.register_keras_serializable(package="resblocks")
class Embedding(keras.layers.Layer):
    """Global pooling -> dropout -> [dense without bias] -> [batch norm] -> [L2 normalisation].

    With the defaults it is FaceNet's head as facenet-pytorch builds it:
    512 dimensions, batch-normalised, of norm 1, so that the cosine of two
    embeddings is their dot product.

    Args:
        units: int or None. Width of the bottleneck dense layer (no bias,
            as the batch norm after it has its own shift); None: no dense
            layer, the embedding is the pooled features.
        pooling: str. "avg" or "max" global pooling over height and width.
        dropout: float. Dropout rate before the dense layer (facenet-pytorch:
            0.6); 0 for none. Off at inference.
        batch_norm: bool. Batch-normalise the embedding (facenet-pytorch's
            `last_bn`, with its scale and shift).
        bn_epsilon: float. Its epsilon (facenet-pytorch: 0.001).
        bn_momentum: float. Its moving-average momentum, Keras' convention:
            0.9 is PyTorch's momentum 0.1.
        normalize: bool. Divide each embedding by its L2 norm (floored at
            1e-12, as `torch.nn.functional.normalize`).

    Attributes:
        sublayers: list of layers. The pool, dropout, dense and batch norm
            in the order `call` applies them (None for those that are off);
            the normalisation follows them.

    Input shape: `(batch, height, width, channels)`.
    Output shape: `(batch, units)` (`(batch, channels)` without dense),
    float32.
    """

    def __init__(
        self,
        units: int | None = 512,
        pooling: str = "avg",
        dropout: float = 0.0,
        batch_norm: bool = True,
        bn_epsilon: float = 1e-3,
        bn_momentum: float = 0.9,
        normalize: bool = True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_one_of("pooling", pooling, POOLINGS)
        keep_arguments(self, locals())
        pool = (
            keras.layers.GlobalAveragePooling2D
            if pooling == "avg"
            else keras.layers.GlobalMaxPooling2D
        )
        dtype = self.dtype_policy
        self.pool = pool(name=f"{pooling}_pool", dtype=dtype)
        self.drop = keras.layers.Dropout(dropout, name="dropout", dtype=dtype) if dropout else None
        self.bottleneck = (
            keras.layers.Dense(units, use_bias=False, name="bottleneck", dtype=dtype)
            if units
            else None
        )
        # float32, as the classifier's predictions: the norm stays exact under mixed precision.
        self.bn = (
            keras.layers.BatchNormalization(
                epsilon=bn_epsilon, momentum=bn_momentum, dtype="float32", name="bn"
            )
            if batch_norm
            else None
        )

    @property
    def sublayers(self) -> list[keras.layers.Layer | None]:
        """pool, dropout, dense, batch norm; None for those that are off."""
        return [self.pool, self.drop, self.bottleneck, self.bn]

    def build(self, input_shape):
        build_chain(self.sublayers, input_shape)

    def call(self, x, training=None):
        x = ops.cast(call_chain(self.sublayers, x, training), "float32")
        if not self.normalize:
            return x
        norm = ops.sqrt(ops.sum(ops.square(x), axis=-1, keepdims=True))
        return x / ops.maximum(norm, NORM_EPSILON)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.units or input_shape[-1])

    def get_config(self):
        return {**super().get_config(), **argument_config(self)}
