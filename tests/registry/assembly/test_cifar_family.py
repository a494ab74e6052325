"""The CIFAR-10 networks of He et al. 2015, sec. 4.2, against the paper's Table 6."""

import keras
import pytest
from helpers import built

from registry import list_models, load_recipe
from registry.exercises import weighted_layers

# Table 6 of the paper: parameters of the CIFAR-10 ResNets, in millions.
TABLE_6 = {20: 0.27, 32: 0.46, 44: 0.66, 56: 0.85, 110: 1.7}
PLAIN = (20, 32, 44, 56)


@pytest.fixture(scope="module")
def resnets():
    return {depth: built(f"resnet{depth}_cifar") for depth in TABLE_6}


def trainable(model) -> int:
    return sum(int(keras.ops.size(w)) for w in model.trainable_weights)


def test_the_family_is_registered():
    names = set(list_models("*_cifar"))
    assert {f"resnet{d}_cifar" for d in TABLE_6} <= names
    assert {f"plain{d}_cifar" for d in PLAIN} <= names


@pytest.mark.parametrize("depth", TABLE_6)
def test_parameters_match_table_6(resnets, depth):
    # The paper rounds: 0.27 M for 269,722, 1.7 M for 1,727,962.
    millions = trainable(resnets[depth]) / 1e6
    assert millions == pytest.approx(TABLE_6[depth], rel=0.03), (
        f"resnet{depth}_cifar: {millions:.3f} M, Table 6: {TABLE_6[depth]} M"
    )


def test_exact_counts(resnets):
    # Pinned so that a change to the blocks shows up here first.
    assert {d: trainable(m) for d, m in resnets.items()} == {
        20: 269_722, 32: 464_154, 44: 658_586, 56: 853_018, 110: 1_727_962,
    }  # fmt: skip


@pytest.mark.parametrize("depth", TABLE_6)
def test_depth_is_6n_plus_2(resnets, depth):
    recipe = load_recipe(f"resnet{depth}_cifar")
    n = (depth - 2) // 6
    assert [stage.repeats for stage in recipe.stages] == [n, n, n]
    assert weighted_layers(resnets[depth]) == depth


@pytest.mark.parametrize("depth", TABLE_6)
def test_layout_of_sec_4_2(resnets, depth):
    model = resnets[depth]
    assert model.get_layer("stem").output.shape == (None, 32, 32, 16)
    assert [model.get_layer(f"conv{i}_block1").output.shape for i in (2, 3, 4)] == [
        (None, 32, 32, 16), (None, 16, 16, 32), (None, 8, 8, 64),
    ]  # fmt: skip
    assert model.output.shape == (None, 10)


@pytest.mark.parametrize("depth", TABLE_6)
def test_resnets_use_zero_padding_shortcuts(resnets, depth):
    blocks = [layer for layer in resnets[depth].layers if layer.name.startswith("conv")]
    assert {block.shortcut for block in blocks} == {"zero_pad"}
    padded = [block.name for block in blocks if block.downsample is not None]
    assert padded == ["conv3_block1", "conv4_block1"]  # where the shape changes
    assert all(
        block.downsample.count_params() == 0 for block in blocks if block.downsample is not None
    )


@pytest.mark.parametrize("depth", PLAIN)
def test_plain_twin_differs_only_in_the_shortcut(depth):
    plain, residual = load_recipe(f"plain{depth}_cifar"), load_recipe(f"resnet{depth}_cifar")
    assert [s.repeats for s in plain.stages] == [s.repeats for s in residual.stages]
    for mine, theirs in zip(plain.stages, residual.stages):
        assert mine.call.args == {**theirs.call.args, "shortcut": "none"}


@pytest.mark.parametrize("depth", (20, 56))
def test_plain_twin_has_no_shortcuts_and_the_same_parameters(resnets, depth):
    plain = built(f"plain{depth}_cifar")
    blocks = [layer for layer in plain.layers if layer.name.startswith("conv")]
    assert {block.shortcut for block in blocks} == {"none"}
    assert all(block.downsample is None for block in blocks)
    assert plain.count_params() == resnets[depth].count_params()
    assert weighted_layers(plain) == depth


@pytest.mark.parametrize("depth", TABLE_6)
def test_recipes_state_table_6(depth):
    (reference,) = load_recipe(f"resnet{depth}_cifar").references
    assert "Table 6" in reference.source
    assert reference.trainable_params == round(TABLE_6[depth] * 1e6)
