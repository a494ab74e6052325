"""Whether an input is large enough for a network's downsampling, and the smallest that is.

A "same"-padded network never fails on a small input: it shrinks the map
to 1x1 and then keeps "halving" 1x1 maps, which silently gives a network
whose later stages see no spatial context. A "valid"-padded one (the
Inception-ResNet reductions) fails deep inside Keras with a negative size.
Both are caught here, before anything is built, by walking the layers'
`compute_output_shape`: a layer that downsamples by f (its stride, read
from its output size on a large probe input) must receive a map of at
least f x f, and every output must keep at least one pixel.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import keras

PROBE = 1024  # large enough that every layer's downsampling factor shows exactly
LARGEST = 8192  # the largest input side a recipe accepts


# Why a layer cannot take its map: smaller than the layer's downsampling
# factor, or too small for its kernels (a "valid" convolution or pool).
TOO_FEW_PIXELS = "stride"
EMPTY_OUTPUT = "empty"


@dataclass(frozen=True)
class Misfit:
    """The first layer that cannot take its input map.

    Attributes:
        kind: TOO_FEW_PIXELS or EMPTY_OUTPUT.
    """

    index: int
    layer: keras.layers.Layer
    size: tuple  # the (height, width) the layer receives
    factor: int  # how much it downsamples
    kind: str

    @property
    def reason(self) -> str:
        """The kind in words, for messages."""
        if self.kind == TOO_FEW_PIXELS:
            return f"smaller than its downsampling factor {self.factor}"
        return "too small for its kernels: its output would be empty"


def first_misfit(
    body: Sequence[keras.layers.Layer], image_shape: Sequence[int | None]
) -> Misfit | None:
    """The first body layer whose input is too small, or None if all fit.

    Also None where it cannot tell: a layer without `compute_output_shape`
    (the Network's own build then reports any failure).
    """
    shape = (None, *image_shape)
    for index, layer in enumerate(body):
        if not _has_output_shape(layer):
            return None
        size = tuple(shape[1:3])
        factor = _factor(layer, shape[-1])
        small = [d for d in size if d is not None and d < factor]
        if small:
            return Misfit(index, layer, size, factor, TOO_FEW_PIXELS)
        try:
            out = tuple(layer.compute_output_shape(shape))
        except ValueError:  # Keras: "Computed output size would be zero or negative"
            return Misfit(index, layer, size, factor, EMPTY_OUTPUT)
        except Exception:  # noqa: BLE001 - a user layer's shape code; the build will tell
            return None
        if len(out) != 4:
            return None
        if any(d is not None and d < 1 for d in out[1:3]):
            return Misfit(index, layer, size, factor, EMPTY_OUTPUT)
        shape = out
    return None


def smallest_input(body: Sequence[keras.layers.Layer], channels: int) -> int | None:
    """The smallest side n such that an n x n input fits every layer, or None up to LARGEST."""
    if first_misfit(body, (LARGEST, LARGEST, channels)) is not None:
        return None
    low, high = 1, LARGEST  # high fits; find the smallest that does (fitting grows with n)
    while low < high:
        middle = (low + high) // 2
        if first_misfit(body, (middle, middle, channels)) is None:
            high = middle
        else:
            low = middle + 1
    return low


def _factor(layer: keras.layers.Layer, channels: int) -> int:
    try:
        out = layer.compute_output_shape((None, PROBE, PROBE, channels))
    except Exception:  # noqa: BLE001 - no factor to read; the walk checks the output size
        return 1
    side = out[1] if len(out) == 4 else None
    if not side or side >= PROBE:
        return 1
    return max(1, round(PROBE / side))


def _has_output_shape(layer: keras.layers.Layer) -> bool:
    method = type(layer).compute_output_shape
    return method is not keras.layers.Layer.compute_output_shape
