"""timm's ResNetV2 checkpoints (`resnetv2_50`, `resnetv2_50d`, ...) load into their recipes.

Each network's random state dict comes from torch_reference_v2.py, written
from timm's `resnetv2.py` without our code; its forward pass there uses
torch.nn.functional only. Logits are compared within 1e-5 (3e-5 with BiT's
standardized kernels), relative to their scale.
"""

from functools import partial

import keras
import numpy as np
import pytest
import torch_reference_v2 as reference
from helpers import representative_params
from loading import assert_relatively_close, check_network, logits_model, save_safetensors

from registry import WeightsError, build, torch_state_dict

STORED = dict(np.load(reference.DATA))


def assert_close(ours, expected, name: str) -> None:
    """Within 1e-5 of the logits' scale (float32 through up to 150 layers), 3e-5 with BiT's kernels.

    A standardized kernel is divided by its own standard deviation, which
    magnifies float32 rounding: resnetv2_101x1_bit's logits differ by 1.9e-5
    of their scale (measured), its batch-norm twin resnetv2_101's by less than 1e-5.
    """
    relative = 1e-5 if reference.SPECS[name].std_conv_eps is None else 3e-5
    assert_relatively_close(ours, expected, relative)


@pytest.mark.parametrize("name", representative_params(list(reference.SPECS)))
def test_checkpoint_gives_timms_outputs(name, tmp_path, monkeypatch):
    check_network(
        reference,
        name,
        STORED[name],
        partial(assert_close, name=name),
        tmp_path,
        monkeypatch,
        # The stored outputs are the reference's (torch_reference_v2.py rewrites them).
        reference_close=partial(np.testing.assert_allclose, atol=1e-6),
    )


@pytest.mark.parametrize("name", ["resnetv2_18", "resnetv2_50d"])
def test_torch_state_dict_has_timms_keys_and_shapes(name):
    ours = torch_state_dict(logits_model(name))
    theirs = {k: v for k, v in reference.state_dict(name).items() if "num_batches" not in k}
    assert {k: v.shape for k, v in ours.items()} == {k: v.shape for k, v in theirs.items()}


def test_the_stem_pool_pads_with_minus_infinity():
    """timm's MaxPool2d(padding=1): a border window of negative values keeps its maximum."""
    model = logits_model("resnetv2_50", include_top=False)
    stem = model.get_layer("stem")
    x = -np.abs(np.random.default_rng(0).normal(size=(1, 8, 8, 64))).astype("float32") - 1
    pooled = keras.ops.convert_to_numpy(stem.pool(stem.pool_pad(x)))
    assert pooled.shape == (1, 4, 4, 64)
    assert (pooled < 0).all()  # zero padding would give 0 at every border window
    np.testing.assert_array_equal(pooled[0, 0, 0], x[0, :2, :2].max(axis=(0, 1)))


def test_a_model_without_top_leaves_the_classifier_out(tmp_path):
    path = save_safetensors(reference.state_dict("resnetv2_18"), tmp_path / "r.safetensors")
    model = build(
        "resnetv2_18", input_shape=(64, 64, 3), include_top=False, pooling="avg", weights=path
    )
    assert model.output_shape == (None, 512)


def test_a_new_head_loads_everything_else(tmp_path):
    state = reference.state_dict("resnetv2_18")
    path = save_safetensors(state, tmp_path / "r.safetensors")
    with pytest.warns(UserWarning, match=r"classifier head.fc \(1000 classes\) does not fit"):
        model = build("resnetv2_18", input_shape=(64, 64, 3), num_classes=5, weights=path)
    kernel = keras.ops.convert_to_numpy(model.get_layer("stem").conv.kernel)
    np.testing.assert_array_equal(kernel, state["stem.conv.weight"].transpose(2, 3, 1, 0))


def test_keras_applications_layout_is_refused_saying_why(tmp_path):
    """resnet50v2 is keras.applications' V2: biases, the stride on a stage's last block."""
    path = save_safetensors(reference.state_dict("resnetv2_50"), tmp_path / "r.safetensors")
    with pytest.raises(WeightsError, match="keras.applications' ResNet-V2 layout") as caught:
        build("resnet50v2", input_shape=(64, 64, 3), weights=path)
    assert "build timm's layout, e.g. `resnetv2_50`" in str(caught.value)


def test_a_file_for_another_resnetv2_names_it(tmp_path):
    path = save_safetensors(reference.state_dict("resnetv2_34"), tmp_path / "r.safetensors")
    with pytest.raises(WeightsError) as caught:
        build("resnetv2_18", input_shape=(64, 64, 3), weights=path)
    message = str(caught.value)
    assert "in the file but not in the model: stages.0.blocks.2.conv1.weight" in message
    assert "looks like timm's ResNetV2 with 3, 4, 6, 3 basic blocks, 1000 classes" in message
