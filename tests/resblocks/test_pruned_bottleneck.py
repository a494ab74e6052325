"""A pruned bottleneck: its convolutions' widths and ECA's k given, not derived from `filters`."""

import keras
import pytest
from helpers import assert_keras_round_trip

from resblocks import BottleNeck, ResBlock


def kernels(block) -> list[tuple]:
    return [tuple(conv.conv.kernel.shape) for conv in (block.conv1, block.conv2, block.conv3)]


def test_conv_widths_size_the_three_convolutions_and_the_projection():
    # timm's ecaresnet50d_pruned, layer1.0: [47, 18, 19] where ResNet-50's is [64, 64, 256].
    block = BottleNeck(64, 1, "3x3", conv_widths=[47, 18, 19], avg_down=True)
    out = block(keras.ops.zeros((1, 8, 8, 64)))
    assert kernels(block) == [(1, 1, 64, 47), (3, 3, 47, 18), (1, 1, 18, 19)]
    assert block.width == 18 and block.out_channels == 19 and tuple(out.shape) == (1, 8, 8, 19)
    assert tuple(block.downsample.conv.conv.kernel.shape) == (1, 1, 64, 19)


def test_eca_keeps_the_k_it_is_given():
    # 19 channels would give the paper's k = 3; timm's pruned block keeps the unpruned 256's 5.
    block = BottleNeck(64, conv_widths=[47, 18, 19], attention="eca", eca_kernel_size=5)
    block.build((None, 8, 8, 19))
    assert block.se.kernel == 5 and tuple(block.se.conv.kernel.shape) == (5, 1, 1)
    adaptive = BottleNeck(64, conv_widths=[47, 18, 19], attention="eca")
    adaptive.build((None, 8, 8, 19))
    assert adaptive.se.kernel == 3


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"conv_widths": [47, 18]}, r"`conv_widths`.*expected 3 positive int.*conv1, conv2, conv3"),
        ({"conv_widths": [47, 18, 19], "base_width": 4}, r"`base_width`.*Use one of them"),
        ({"conv_widths": [48, 18, 19], "reduce_first": 2}, r"`reduce_first`.*Use one of them"),
        ({"conv_widths": [48, 18, 19], "groups": 4}, r"`conv_widths`.*divisible by groups=4"),
        ({"eca_kernel_size": 5}, r"`eca_kernel_size`.*gate is None.*attention='eca'"),
        ({"eca_kernel_size": 5, "attention": "se"}, r"`eca_kernel_size`.*gate is 'se'"),
        ({"eca_kernel_size": 4, "attention": "eca"}, r"`eca_kernel_size`.*odd positive int"),
    ],
)
def test_inconsistent_widths_and_kernels_are_refused(arguments, message):
    with pytest.raises(ValueError, match=message):
        BottleNeck(64, **arguments)


def test_a_basic_block_takes_the_eca_kernel_too():
    block = ResBlock(8, attention="eca", eca_kernel_size=7)
    block.build((None, 8, 8, 8))
    assert block.se.kernel == 7


def test_a_pruned_bottleneck_survives_a_safe_keras_round_trip(tmp_path):
    block = BottleNeck(
        16, 2, "3x3", conv_widths=[6, 5, 7], attention="eca", eca_kernel_size=5, avg_down=True
    )
    assert_keras_round_trip(block, (8, 8, 4), tmp_path, atol=1e-6, seed=0)
