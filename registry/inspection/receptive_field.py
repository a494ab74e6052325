"""Receptive field, effective stride and effective padding of each body layer, from its layers.

The algebra of Araujo, Norris and Sim, "Computing Receptive Fields of
Convolutional Neural Networks" (Distill 2019), the one google-research's
`receptive_field` library computes: a layer with kernel k, stride s,
dilation d and padding p before the first pixel, applied to a map whose
receptive field is r, effective stride S and effective padding P, gives

    r' = r + d (k - 1) S        S' = S s        P' = P + p S

Each block is followed along its main path: the residual branch, leaving
out the shortcut (`downsample`, which only adds a smaller field) and the
squeeze-excite gate (a global pool, not a window); the branches of an
Inception block are each followed and the largest field is kept. The
kernels, strides, dilations and paddings are read from the built
`Conv2D`, `DepthwiseConv2D`, pooling and `ZeroPadding2D` layers, so what
the recipe asked for (`output_stride: 16`, `stride_at`, ...) is what is
counted. A "same" padding whose amount depends on the map's size (a strided
Keras conv, which pads the odd pixel at the end) is worked out from the
size when the input size is known, else the effective padding is None.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import keras

from registry.errors import ResblocksError
from registry.keras_compat import sublayers
from resblocks import Network

LEFT_OUT = ("downsample", "se")  # the shortcut and the squeeze-excite gate
WINDOWS = (
    keras.layers.Conv2D,  # GroupedConv2D too: its split convolutions are parallel, not a chain
    keras.layers.DepthwiseConv2D,
    keras.layers.MaxPooling2D,
    keras.layers.AveragePooling2D,
)


@dataclass(frozen=True)
class Field:
    """The receptive field of one position of a map, along one axis.

    Args:
        size: int. Input pixels that one position of the map sees.
        stride: int. Input pixels between two neighbouring positions.
        padding: int or None. Padding pixels before the first input pixel
            that position 0 sees (None: it depends on the input size).
        length: int or None. The map's length along this axis, where known.
    """

    size: int = 1
    stride: int = 1
    padding: int | None = 0
    length: int | None = None

    def window(self, span: int, stride: int, before: int | None, length: int | None) -> Field:
        """The field after a window `span` pixels wide (dilation included), `before` padded."""
        padding = None if before is None or self.padding is None else self.padding
        return Field(
            size=self.size + (span - 1) * self.stride,
            stride=self.stride * stride,
            padding=None if padding is None else padding + before * self.stride,
            length=length,
        )


@dataclass(frozen=True)
class Row:
    """The receptive field after one body layer, along height and width."""

    layer: str
    height: Field
    width: Field


def receptive_fields(model: keras.Model) -> list[Row]:
    """The receptive field after each body layer of a Network, in order.

    Args:
        model: a resblocks `Network` (with or without its head).

    Returns:
        One `Row` per body layer (the stem, then each block).
    """
    if not isinstance(model, Network):
        raise ResblocksError(
            "The receptive field is followed through a resblocks Network's body. "
            f"Received: {type(model).__name__} '{model.name}'"
        )
    height, width = model.input_shape[1:3]
    fields = [Field(length=height), Field(length=width)]
    rows = []
    for layer in model.body:
        fields = [_through(layer, field, axis) for axis, field in enumerate(fields)]
        rows.append(Row(layer.name, *fields))
    return rows


def _through(layer: keras.layers.Layer, field: Field, axis: int) -> Field:
    """`field` carried through `layer` along `axis`, following its main path."""
    if isinstance(layer, WINDOWS):
        return _window(layer, field, axis)
    if isinstance(layer, keras.layers.ZeroPadding2D):
        before, after = layer.padding[axis]
        length = None if field.length is None else field.length + before + after
        padding = None if field.padding is None else field.padding + before * field.stride
        return Field(field.size, field.stride, padding, length)
    branches = getattr(layer, "branches", None)
    children = [child for child in sublayers(layer) if child.name not in LEFT_OUT]
    if branches:
        inside = {id(item) for branch in branches for item in branch}
        ends = []
        for branch in branches:
            end = field
            for item in branch:
                end = _through(item, end, axis)
            ends.append(end)
        field = max(ends, key=lambda end: end.size)
        children = [child for child in children if id(child) not in inside]
    for child in children:
        field = _through(child, field, axis)
    return field


def _window(layer, field: Field, axis: int) -> Field:
    config = layer.get_config()
    if isinstance(layer, (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D)):
        kernel, stride, dilation = config["pool_size"][axis], config["strides"][axis], 1
    else:
        kernel = config["kernel_size"][axis]
        stride = config["strides"][axis]
        dilation = config["dilation_rate"][axis]
    span = dilation * (kernel - 1) + 1
    length = field.length
    if config["padding"] == "valid" or span == 1:
        before, total = 0, 0
    elif stride == 1:
        before, total = (span - 1) // 2, span - 1  # Keras pads the odd pixel at the end
    elif length is None:
        before = total = None
    else:
        total = max((math.ceil(length / stride) - 1) * stride + span - length, 0)
        before = total // 2
    out = None if length is None or total is None else (length + total - span) // stride + 1
    return field.window(span, stride, before, out)


def format_receptive_fields(recipe, model: keras.Model) -> str:
    """A plain-text table: the field after the stem and after each stage of `recipe`'s model."""
    rows = {row.layer: row for row in receptive_fields(model)}
    ends = [("stem", "stem")] + [(stage.label, stage.layer_names[-1]) for stage in recipe.stages]
    header = ("stage", "receptive field", "effective stride", "effective padding")
    body = [
        (
            label,
            _pair(rows[name].height.size, rows[name].width.size),
            _pair(rows[name].height.stride, rows[name].width.stride),
            _pair(rows[name].height.padding, rows[name].width.padding),
        )
        for label, name in ends
    ]
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
    line = "  ".join(f"{{:<{w}}}" if i == 0 else f"{{:>{w}}}" for i, w in enumerate(widths))
    size = "x".join("any" if n is None else str(n) for n in model.input_shape[1:3])
    out = [f"receptive field at {size} (pixels of the input)", line.format(*header)]
    out += [line.format(*("-" * w for w in widths))]
    out += [line.format(*row) for row in body]
    return "\n".join(out)


def _pair(height, width) -> str:
    """`35`, or `35x51` where height and width differ; `-` for an unknown padding."""
    text = ["-" if value is None else str(value) for value in (height, width)]
    return text[0] if text[0] == text[1] else "x".join(text)
