"""Receptive fields counted from the built layers equal google-research/receptive_field's table.

The table (receptive_field/RECEPTIVE_FIELD_TABLE.md) measures TF-slim's
networks. TF-slim's ResNet v1 strides at the *end* of blocks 1-3 (the last
unit's 3x3 conv), while keras.applications and our `resnet50` stride at the
*start* of the next stage (its first 1x1 conv). So:

- our recipes laid out as TF-slim's (`stride_at: 3x3`, `stride_at_block:
  last`, strides 2, 2, 2, 1) give the table's numbers at conv2..conv5 =
  slim's block1..block4, all three of them;
- the shipped recipes give slim's receptive field and effective padding at
  the same end-points, with half its effective stride at conv2..conv4 (the
  stride comes one 1x1 conv later, which widens no field).

Effective padding is compared with the 321-pixel rows: TF's "SAME" pads
the odd pixel at the end, so at 224 slim's max pool pads nothing before
and its numbers are 2 lower; at 321 it pads evenly, as our symmetric
padding does at every size.
"""

import pytest

from registry import build
from registry.cli import main
from registry.inspection.receptive_field import receptive_fields

# resnet_v1_N/block1..block4 at 321 px: (receptive field, effective stride, effective padding)
SLIM_RESNET_V1 = {
    "resnet50": [(35, 8, 17), (99, 16, 49), (291, 32, 145), (483, 32, 241)],
    "resnet101": [(35, 8, 17), (99, 16, 49), (835, 32, 417), (1027, 32, 513)],
    "resnet152": [(35, 8, 17), (163, 16, 81), (1315, 32, 657), (1507, 32, 753)],
}
# inception_resnet_v2's end-points (the same at 224 and 321: valid padding throughout)
SLIM_INCEPTION_RESNET_V2 = {
    "stem": (31, 8, 2),  # MaxPool_5a_3x3
    "mixed_5b": (63, 8, 18),
    "mixed_6a": (415, 16, 186),
    "block17_20": (2335, 16, 1146),  # PreAuxLogits
    "mixed_7a": (2399, 32, 1162),
    "conv_7b": (3039, 32, 1482),  # Conv2d_7b_1x1
}
SLIM_LAYOUT = {"defaults.stride_at": "3x3"}
for _i, _strides in enumerate((2, 2, 2, 1)):
    SLIM_LAYOUT[f"stages.{_i}.strides"] = _strides
    SLIM_LAYOUT[f"stages.{_i}.stride_at_block"] = "last"


def stage_ends(model) -> list[tuple[int, int, int]]:
    """(field, stride, padding) along the height after conv2, conv3, conv4 and conv5."""
    last = {}
    for row in receptive_fields(model):
        last[row.layer.split("_")[0]] = (row.height.size, row.height.stride, row.height.padding)
    return [last[stage] for stage in ("conv2", "conv3", "conv4", "conv5")]


@pytest.mark.parametrize("recipe", sorted(SLIM_RESNET_V1))
def test_slim_layout_gives_the_published_table(recipe):
    model = build(recipe, overrides=SLIM_LAYOUT, input_shape=[321, 321, 3], include_top=False)
    assert stage_ends(model) == SLIM_RESNET_V1[recipe]


def test_shipped_resnet50_strides_one_conv_later_than_slim():
    model = build("resnet50", include_top=False)
    ours = stage_ends(model)
    slim = SLIM_RESNET_V1["resnet50"]
    assert [(field, padding) for field, _, padding in ours] == [(f, p) for f, _, p in slim]
    assert [stride for _, stride, _ in ours] == [4, 8, 16, 32]


def test_output_stride_16_dilates_conv5():
    """conv5 keeps stride 16; its first block keeps dilation 1 (torchvision's rule), the
    other two see through dilation 2: 291 + 2 x 16 + 2 x (2 x 2 x 16) = 451."""
    model = build("resnet50", output_stride=16, include_top=False)
    assert stage_ends(model)[3] == (451, 16, 145 + 16 + 2 * 32)


def test_inception_resnet_v2_gives_the_published_table():
    model = build("inception_resnet_v2", include_top=False)
    rows = {row.layer: row.height for row in receptive_fields(model)}
    for layer, expected in SLIM_INCEPTION_RESNET_V2.items():
        assert (rows[layer].size, rows[layer].stride, rows[layer].padding) == expected, layer


def test_height_and_width_alike_and_padding_unknown_without_a_size():
    model = build("resnet50", input_shape=[None, None, 3], include_top=False)
    rows = receptive_fields(model)
    assert all(row.height == row.width for row in rows)
    # A strided 1x1 conv pads nothing and ConvBN pads its strided 3x3s itself,
    # so resnet50's padding is known at any input size.
    assert stage_ends(model)[3] == (483, 32, 241)


def test_show_prints_the_table(capsys):
    assert main(["show", "resnet20_cifar", "--receptive-field"]) == 0
    out = capsys.readouterr().out
    assert "receptive field at 32x32" in out
    assert [line.split() for line in out.splitlines()[-4:]] == [
        ["stem", "3", "1", "1"],
        ["conv2", "15", "1", "7"],  # six 3x3 convs: 3 + 6 x 2
        ["conv3", "37", "2", "18"],  # a 3x3 at stride 1 (+2), then five at stride 2 (+4 each)
        ["conv4", "81", "4", "40"],  # the same at strides 2 and 4: 37 + 4 + 5 x 8
    ]
