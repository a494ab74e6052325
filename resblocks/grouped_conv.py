"""GroupedConv2D: a grouped convolution that is fast on every Keras backend.

A grouped convolution (Krizhevsky et al. 2012; ResNeXt's cardinality, Xie
et al. 2017, Fig. 3c) splits the channels into `groups` and convolves each
group on its own. Keras' `Conv2D(groups=g)` computes it, but on a CPU
TensorFlow and JAX lower it to a generic kernel that is very slow to train
(measured here, `Conv2D(128, 3, groups=32)` on a 16x28x28x128 batch: about
7 s per training step on either, 28 ms on PyTorch). The same multiply-adds
written another way run at full speed:

- "split": one ordinary convolution per group, concatenated. The fastest
  here on TensorFlow and JAX: a ResNeXt-50 training step 1.4 times faster
  than "depthwise" on TensorFlow; on JAX "depthwise" trains slower still
  than Keras' own kernel.
- "depthwise": one depthwise convolution with `depth_multiplier` = output
  channels per group, then a sum over each group's input channels; its
  intermediate map is `channels / groups` times wider. Kept for machines
  where it measures faster.
- "native": `keras.ops.conv` with the grouped kernel, as Conv2D does; the
  fast one on PyTorch.

The layer is a `keras.layers.Conv2D` with the same kernel, shape
`(kh, kw, channels / groups, filters)`, and the same config, so weights
move between it and `Conv2D(groups=g)` and a saved model loads on every
backend; only `convolution_op` differs. docs/concepts/cardinality_and_width.md
has the timings.
"""

import keras

from resblocks.checks import check_one_of

IMPLEMENTATIONS = ("auto", "native", "depthwise", "split")


def fastest_implementation(backend: str, data_format: str = "channels_last") -> str:
    """The implementation "auto" picks, by measurement on a CPU (module docstring)."""
    if backend == "torch" or data_format != "channels_last":
        return "native"
    return "split"


@keras.saving.register_keras_serializable(package="resblocks")
class GroupedConv2D(keras.layers.Conv2D):
    """A `Conv2D` with `groups > 1` computed the fastest way for the backend.

    Args:
        filters: int. Output channels, a multiple of `groups`.
        kernel_size: int or (int, int). Size of the convolution window.
        groups: int. Number of groups; the input channels must be a multiple.
        implementation: str. "auto" (by backend), "native",
            "depthwise" or "split"; all compute the same function with the
            same kernel.
        **kwargs: the other arguments of `keras.layers.Conv2D`.

    Input shape: `(batch, height, width, channels)`.
    Output shape: as `keras.layers.Conv2D`.
    """

    def __init__(
        self,
        filters: int,
        kernel_size,
        groups: int = 1,
        implementation: str = "auto",
        **kwargs,
    ):
        check_one_of("implementation", implementation, IMPLEMENTATIONS)
        super().__init__(filters, kernel_size, groups=groups, **kwargs)
        self.implementation = implementation

    def chosen_implementation(self) -> str:
        """The implementation this layer runs on the current backend."""
        if self.implementation != "auto":
            return self.implementation
        return fastest_implementation(keras.backend.backend(), self.data_format)

    def convolution_op(self, inputs, kernel):
        how = self.chosen_implementation()
        if how == "native" or self.groups == 1:
            return super().convolution_op(inputs, kernel)
        if self.data_format != "channels_last":
            raise ValueError(
                f"implementation={how!r} needs data_format='channels_last'. "
                f"Use implementation='native'. Received: data_format={self.data_format!r}"
            )
        if how == "split":
            return self._split(inputs, kernel)
        return self._depthwise(inputs, kernel)

    def _options(self) -> dict:
        return {
            "strides": tuple(self.strides),
            "padding": self.padding,
            "dilation_rate": self.dilation_rate,
            "data_format": self.data_format,
        }

    def _split(self, inputs, kernel):
        """One convolution per group: group j sees channels j*c/g .. (j+1)*c/g."""
        pieces = zip(
            keras.ops.split(inputs, self.groups, axis=-1),
            keras.ops.split(kernel, self.groups, axis=-1),
        )
        outputs = [keras.ops.conv(x, k, **self._options()) for x, k in pieces]
        return keras.ops.concatenate(outputs, axis=-1)

    def _depthwise(self, inputs, kernel):
        """Every (input channel, output channel of its group) pair, then a sum per group.

        The depthwise kernel's channel c = j * group_in + i, multiplier m holds
        the grouped kernel's weight from input i of group j to its output m.
        """
        kh, kw, group_in, filters = kernel.shape
        groups = self.groups
        group_out = filters // groups
        depthwise = keras.ops.reshape(kernel, (kh, kw, group_in, groups, group_out))
        depthwise = keras.ops.transpose(depthwise, (0, 1, 3, 2, 4))
        depthwise = keras.ops.reshape(depthwise, (kh, kw, groups * group_in, group_out))
        x = keras.ops.depthwise_conv(inputs, depthwise, **self._options())
        shape = keras.ops.shape(x)
        x = keras.ops.reshape(x, (-1, shape[1], shape[2], groups, group_in, group_out))
        x = keras.ops.sum(x, axis=4)
        return keras.ops.reshape(x, (-1, shape[1], shape[2], filters))

    def get_config(self):
        return {**super().get_config(), "implementation": self.implementation}
