"""profile() counts parameters and multiply-accumulates from the layers.

Its counts agree with the papers.
"""

import pytest
from helpers import tiny_recipe

from registry import build, load_recipe, profile
from registry.inspection.costs import format_profile

# He et al. 2015, "Deep Residual Learning for Image Recognition", Table 1,
# row "FLOPs" at 224x224 (the paper's FLOPs are multiply-adds).
PAPER_TABLE_1 = {
    "resnet18": 1.8e9,
    "resnet34": 3.6e9,
    "resnet50": 3.8e9,
    "resnet101": 7.6e9,
    "resnet152": 11.3e9,
}

# A 7x7/2 stem and one stage of one basic block, at 32x32: counted by hand below.
TINY = tiny_recipe(
    **{
        "name": "tiny_resnet",
        "input_shape": [32, 32, 3],
        "stem.block": "res_net_stem",
        "stem.filters": 8,
        "stages": [{"name": "conv2", "block": "res_block", "filters": 8}],
        "head.num_classes": 10,
    }
)


@pytest.mark.parametrize("name", list(PAPER_TABLE_1))
def test_macs_within_3_percent_of_table_1(name):
    result = profile(name)
    published = PAPER_TABLE_1[name]
    assert result.input_shape == (224, 224, 3)
    assert abs(result.total.macs - published) / published <= 0.03
    # The recipe file carries the same figure, which `resblocks show` prints.
    assert [ref.macs for ref in result.references if ref.macs] == [published]
    for ref in result.references:
        if ref.params:
            assert result.total.params == ref.params
        if ref.trainable_params:
            assert result.total.trainable == ref.trainable_params
    assert result.total.params == sum(row.cost.params for row in result.rows)
    assert [row.stage for row in result.rows] == [
        "stem",
        "conv2",
        "conv3",
        "conv4",
        "conv5",
        "head",
    ]


def test_counts_by_hand():
    result = profile(TINY)
    stem, conv2, head = result.rows
    # 7x7/2 conv, 3 -> 8 channels, on 32x32: a 16x16 output.
    assert stem.cost.macs == 16 * 16 * 7 * 7 * 3 * 8
    # Two 3x3 convs, 8 -> 8 channels, on the 8x8 map after the max-pool.
    assert conv2.cost.macs == 2 * 8 * 8 * 3 * 3 * 8 * 8
    assert head.cost.macs == 8 * 10
    assert result.total.macs == 301_056 + 73_728 + 80
    assert result.total.bn_ops == 16 * 16 * 8 + 2 * 8 * 8 * 8
    # conv 1176 + BN 32 | 2 x (conv 576 + BN 32) | dense 80 + 10
    assert result.total.params == 1_208 + 1_216 + 90
    assert result.total.trainable == result.total.params - 3 * 2 * 8  # BN moving mean and variance


def test_profile_of_a_built_model_groups_its_layers_by_name():
    model = build(TINY, num_classes=10)
    result = profile(model)
    assert [(row.stage, row.layers) for row in result.rows] == [
        ("stem", ["stem"]),
        ("conv2", ["conv2"]),
        ("head", ["head"]),
    ]
    assert result.total.macs == profile(TINY).total.macs
    assert result.references == []


def test_format_profile_shows_the_published_figure():
    text = format_profile(profile("resnet18"))
    assert "total" in text and "MACs" in text
    assert (
        "published MACs: 1.800 G (He et al. 2015, Table 1 (FLOPs, i.e. multiply-adds)); counted "
        "1.814 G (+0.8%)" in text
    )
    assert (
        "published trainable params: 11,689,512 (torchvision resnet18); counted 11,689,512 (+0.0%)"
        in text
    )


def test_open_input_size_cannot_be_profiled():
    open_size = {**TINY, "input_shape": [None, None, 3]}
    with pytest.raises(
        ValueError,
        match=r"Cannot profile 'tiny_resnet' at input_shape=\[None, None, 3\].*Pass input_shape",
    ):
        profile(open_size)
    assert profile(open_size, input_shape=[32, 32, 3]).total.macs == profile(TINY).total.macs
    with pytest.raises(
        ValueError,
        match="it was built for input shape .*None.*Build the network at a fixed input_shape",
    ):
        profile(build(open_size))


def test_references_are_validated():
    bad = {**TINY, "references": [{"source": "x", "macs": -1}]}
    with pytest.raises(ValueError, match=r"references\[0\]\.macs"):
        load_recipe(bad)


@pytest.mark.parametrize(
    "name, published, counted",
    [
        ("resnet50_tv", "4.100 G", "4.089 G (-0.3%)"),
        ("resnext50_32x4d", "4.200 G", "4.230 G (+0.7%)"),
    ],
)
def test_show_puts_xie_et_al_table_1_beside_the_count(name, published, counted):
    text = format_profile(profile(name))
    assert (
        f"published MACs: {published} (Xie et al. 2017, Table 1 (FLOPs, i.e. multiply-adds)); "
        f"counted {counted}" in text
    )
