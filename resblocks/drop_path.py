"""DropPath: stochastic depth, the residual branch dropped per sample.

Huang et al. 2016, "Deep Networks with Stochastic Depth", sec. 3: during
training each residual block is skipped with probability `rate`, so the
block computes relu(x) from its shortcut alone; at test time every block
is active. timm's `DropPath` (timm/layers/drop.py) does this per sample of
the batch and divides the kept branches by 1 - rate, so the expected sum is
unchanged and inference needs no rescaling. We do the same.
"""

import keras


@keras.saving.register_keras_serializable(package="resblocks")
class DropPath(keras.layers.Layer):
    """Drops the whole input of a sample with probability `rate` in training.

    Each sample of the batch keeps or drops its residual branch as a whole
    (one Bernoulli draw per sample, broadcast over height, width and
    channels); kept samples are scaled by `1 / (1 - rate)`. At inference it
    is the identity.

    Args:
        rate: float. Probability, in [0, 1), that a sample's branch is dropped.
        seed: int or None. Seed of the layer's `keras.random.SeedGenerator`,
            so a seeded network drops the same branches run after run.

    Call arguments:
        x: the residual branch, `(batch, ...)`.
        training: bool. Drop only when True.

    Input shape: any, batch first. Output shape: the same.
    """

    def __init__(self, rate: float, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 <= rate < 1.0:
            raise ValueError(
                "Invalid value received for argument `rate`. Expected a float in [0, 1): "
                f"the probability of dropping a residual branch. Received: rate={rate!r}"
            )
        self.rate = rate
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, x, training=None):
        if not training or self.rate == 0.0:
            return x
        # One draw per sample: None keeps the batch size, 1 broadcasts the rest.
        noise_shape = (None,) + (1,) * (len(x.shape) - 1)
        return keras.random.dropout(x, self.rate, noise_shape=noise_shape, seed=self.seed_generator)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}
