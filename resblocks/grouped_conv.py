"""GroupedConv2D: a grouped convolution that is fast on every Keras backend.

A grouped convolution (Krizhevsky et al. 2012; ResNeXt's cardinality, Xie
et al. 2017, Fig. 3c) splits the channels into `groups` and convolves each
group on its own. Keras' `Conv2D(groups=g)` computes it, but on a CPU
TensorFlow and JAX lower it to a generic kernel that is very slow to train
(measured here, `Conv2D(128, 3, groups=32)` on a 16x28x28x128 batch: about
7 s per training step on either, 28 ms on PyTorch). The same multiply-adds
written another way run at full speed:

- "depthwise": one depthwise convolution with `depth_multiplier` = output
  channels per group, then a sum over each group's input channels. Fast on
  TensorFlow; it makes an intermediate map `channels / groups` times wider,
  so it is used where a group is small.
- "split": one ordinary convolution per group, concatenated. Fast on JAX
  (the depthwise form trains slowly there) and on TensorFlow for wide groups.
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

# Above this many weights per group and tap ((channels/groups) x (filters/groups)),
# TensorFlow's depthwise form's wider intermediate map costs more than it saves.
DEPTHWISE_MAX_GROUP_SIZE = 16


def fastest_implementation(backend: str, group_in: int, group_out: int, data_format: str) -> str:
    """The implementation "auto" picks, by measurement on a CPU (module docstring)."""
    if backend == "torch" or data_format != "channels_last":
        return "native"
    if backend == "tensorflow" and group_in * group_out <= DEPTHWISE_MAX_GROUP_SIZE:
        return "depthwise"
    return "split"


@keras.saving.register_keras_serializable(package="resblocks")
class GroupedConv2D(keras.layers.Conv2D):
    """A `Conv2D` with `groups > 1` computed the fastest way for the backend.

    Args:
        filters: int. Output channels, a multiple of `groups`.
        kernel_size: int or (int, int). Size of the convolution window.
        groups: int. Number of groups; the input channels must be a multiple.
        implementation: str. "auto" (by backend and group size), "native",
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

    def chosen_implementation(self, channels: int) -> str:
        """The implementation this layer runs for an input of `channels` channels."""
        if self.implementation != "auto":
            return self.implementation
        return fastest_implementation(
            keras.backend.backend(),
            channels // self.groups,
            self.filters // self.groups,
            self.data_format,
        )

    def convolution_op(self, inputs, kernel):
        how = self.chosen_implementation(inputs.shape[-1])
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
