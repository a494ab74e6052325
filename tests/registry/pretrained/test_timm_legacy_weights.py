"""timm's Inception-ResNet-V2, legacy SENet and ResNet-50-GN checkpoints load exactly.

The random state dicts come from torch_reference_legacy.py, written from
timm's modules without our code, BN scales and statistics randomised; its
forward passes use torch.nn.functional only. Logits are compared within
1e-5 of their largest magnitude, from a .pth and a .safetensors file.
`make test` loads Inception-ResNet-V2 with one block of each kind (the same
keys at fewer indices; the whole network, 43 blocks, runs in `make
test-slow`), the smallest legacy SENet of each layout, and ResNet-50-GN.
"""

import numpy as np
import pytest
import torch_reference_legacy as reference
from helpers import representative_params
from loading import LOGITS, assert_relatively_close, check_checkpoint, into_zeroed, save_safetensors

from registry import WeightsError, build, load_weights, torch_state_dict

STORED = dict(np.load(reference.DATA))
INCEPTION = "inception_resnet_v2_timm"
INCEPTION_SHAPE = (reference.INCEPTION_SIDE, reference.INCEPTION_SIDE, 3)
# One Block35, Block17 and Block8 before the last: stages 1, 3 and 5 of the recipe.
INCEPTION_SHORT = {"stages.1.repeats": 1, "stages.3.repeats": 1, "stages.5.repeats": 1}


def check_logits(model, state, x, forward, expected, tmp_path, monkeypatch) -> None:
    """Each file loaded into the zeroed `model` gives the logits within 1e-5 of the largest."""
    check_checkpoint(
        into_zeroed(model),
        state,
        x,
        expected,
        assert_relatively_close,
        tmp_path,
        monkeypatch,
        # The stored logits are the reference's (torch_reference_legacy.py rewrites them).
        reference=lambda: forward(state, x),
    )


# === timm's inception_resnet_v2 ===


@pytest.fixture(scope="module")
def short_inception():
    """The recipe with one block of each kind: every key of the layout at its first index."""
    return build(INCEPTION, input_shape=INCEPTION_SHAPE, overrides={**INCEPTION_SHORT, **LOGITS})


def test_inception_short_gives_timms_logits(short_inception, tmp_path, monkeypatch):
    short = reference.SHORT
    check_logits(
        short_inception,
        reference.inception_state_dict(short),
        reference.images(reference.INCEPTION_SIDE),
        lambda state, x: reference.inception_forward(state, x, short),
        STORED["inception_short"],
        tmp_path,
        monkeypatch,
    )


@pytest.mark.slow
def test_inception_gives_timms_logits(tmp_path, monkeypatch):
    model = build(INCEPTION, input_shape=INCEPTION_SHAPE, overrides=LOGITS)
    check_logits(
        model,
        reference.inception_state_dict(),
        reference.images(reference.INCEPTION_SIDE),
        reference.inception_forward,
        STORED["inception_full"],
        tmp_path,
        monkeypatch,
    )


def test_inception_state_dict_has_timms_keys(short_inception):
    expected = reference.inception_state_dict(reference.SHORT)
    ours = torch_state_dict(short_inception)
    assert set(ours) == {k for k in expected if not k.endswith("num_batches_tracked")}
    assert all(ours[k].shape == expected[k].shape for k in ours)


def test_inception_without_top_skips_the_classifier(tmp_path):
    model = build(
        INCEPTION, input_shape=INCEPTION_SHAPE, overrides=INCEPTION_SHORT, include_top=False
    )
    path = save_safetensors(
        reference.inception_state_dict(reference.SHORT), tmp_path / "t.safetensors"
    )
    load_weights(model, path)  # the file's classifier has no place, and is not refused
    assert not any(key.startswith("classif.") for key in torch_state_dict(model))


def test_keras_layout_refuses_timms_file_and_names_the_recipe(tmp_path):
    # keras.applications' V2 has no BN gamma: timm's scales have nowhere to go.
    model = build("inception_resnet_v2", input_shape=INCEPTION_SHAPE, overrides=INCEPTION_SHORT)
    path = save_safetensors(
        reference.inception_state_dict(reference.SHORT), tmp_path / "t.safetensors"
    )
    with pytest.raises(WeightsError) as caught:
        load_weights(model, path)
    message = str(caught.value)
    assert "in the file but not in the model: block8.branch0.bn.weight" in message
    assert "timm's inception_resnet_v2, recipe inception_resnet_v2_timm (1, 1, 1" in message


# === timm's legacy SENets (senet.py) and resnet50_gn ===

SENET_SHAPE = (reference.SENET_SIDE, reference.SENET_SIDE, 3)


@pytest.mark.parametrize("name", representative_params(list(reference.SENETS)))
def test_legacy_senet_gives_timms_logits(name, tmp_path, monkeypatch):
    check_logits(
        build(name, input_shape=SENET_SHAPE, overrides=LOGITS),
        reference.senet_state_dict(name),
        reference.images(reference.SENET_SIDE),
        lambda state, x: reference.senet_forward(state, x, name),
        STORED[name],
        tmp_path,
        monkeypatch,
    )


def test_resnet50_gn_gives_timms_logits(tmp_path, monkeypatch):
    check_logits(
        build(
            "resnet50_gn", input_shape=(reference.GN_SIDE, reference.GN_SIDE, 3), overrides=LOGITS
        ),
        reference.gn_state_dict(),
        reference.images(reference.GN_SIDE),
        reference.gn_forward,
        STORED["resnet50_gn"],
        tmp_path,
        monkeypatch,
    )


def test_timms_resnet_layout_refuses_a_legacy_file_and_names_the_recipe(tmp_path):
    # seresnet18 pools symmetrically and rounds its SE to 8 channels: another layout.
    model = build("seresnet18", input_shape=SENET_SHAPE)
    state = reference.senet_state_dict("legacy_seresnet18")
    with pytest.raises(WeightsError) as caught:
        load_weights(model, save_safetensors(state, tmp_path / "s.safetensors"))
    message = str(caught.value)
    assert "missing from the file: bn1.bias" in message
    assert "timm's legacy SENet layout (senet.py), recipe legacy_seresnet18 (2, 2, 2, 2" in message


def test_legacy_senet_without_top_skips_last_linear(tmp_path):
    model = build("legacy_seresnet18", input_shape=SENET_SHAPE, include_top=False)
    state = reference.senet_state_dict("legacy_seresnet18")
    load_weights(model, save_safetensors(state, tmp_path / "s.safetensors"))
    assert not any(key.startswith("last_linear.") for key in torch_state_dict(model))
