"""PyTorch checkpoints (torchvision .pth, timm .safetensors) load into recipe-built networks.

Each network's random state dict comes from torch_reference.py, written
from torchvision's and timm's layouts without our code; its forward pass
there uses torch.nn.functional only. Outputs are compared as logits (the
head's softmax off), within 1e-4.
"""

import sys
from functools import partial

import keras
import numpy as np
import pytest
import torch_reference as reference
from helpers import representative_params
from loading import check_network, logits_model, outputs, save_pth, save_safetensors, torch

from registry import WeightsError, build, load_weights

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
STORED = dict(np.load(reference.DATA))


def weights_of(model) -> list[np.ndarray]:
    return [keras.ops.convert_to_numpy(w).copy() for w in model.weights]


def assert_unchanged(model, before) -> None:
    for old, new in zip(before, weights_of(model)):
        np.testing.assert_array_equal(old, new)


# One network of each layout (helpers.representatives) in `make test`: the
# others, ResNet-34, Wide ResNet-50-2 and the 101/152-layer ones, repeat
# a layout with the same keys at more indices or wider tensors; `make
# test-slow` runs them.
@pytest.mark.parametrize("name", representative_params(list(reference.SPECS)))
def test_checkpoint_gives_the_torch_networks_outputs(name, tmp_path, monkeypatch):
    check_network(
        reference,
        name,
        STORED[name],
        partial(np.testing.assert_allclose, atol=1e-4),
        tmp_path,
        monkeypatch,
        # The stored outputs are the reference's (torch_reference.py rewrites them).
        reference_close=partial(np.testing.assert_allclose, atol=1e-5),
    )


# === Files that do not fit: one WeightsError, the model unchanged ===


@pytest.fixture(scope="module")
def resnet18():
    return logits_model("resnet18")


def refused(model, path) -> str:
    before = weights_of(model)
    with pytest.raises(WeightsError) as caught:
        load_weights(model, path)
    assert_unchanged(model, before)
    return str(caught.value)


def test_a_file_for_another_network_names_it(resnet18, tmp_path):
    path = save_safetensors(reference.state_dict("resnet34"), tmp_path / "resnet34.safetensors")
    message = refused(resnet18, path)
    assert "Cannot load" in message and "into resnet18: the file's layout differs" in message
    assert "in the file but not in the model: layer1.2.bn1.bias" in message
    assert "looks like resnet34 (3, 4, 6, 3 basic blocks" in message
    assert message.endswith("The model was left unchanged.")


def test_a_missing_key_is_named(resnet18, tmp_path):
    state = reference.state_dict("resnet18")
    del state["layer3.1.bn2.running_var"]
    message = refused(resnet18, save_safetensors(state, tmp_path / "m.safetensors"))
    assert "missing from the file: layer3.1.bn2.running_var." in message


def test_an_extra_key_is_named(resnet18, tmp_path):
    state = reference.state_dict("resnet18")
    state["layer1.0.attn.weight"] = np.ones(3, "float32")
    message = refused(resnet18, save_safetensors(state, tmp_path / "m.safetensors"))
    assert "in the file but not in the model: layer1.0.attn.weight." in message


def test_a_misshapen_tensor_is_named_with_both_shapes(resnet18, tmp_path):
    state = reference.state_dict("resnet18")
    state["layer2.0.conv1.weight"] = state["layer2.0.conv1.weight"][:64]
    message = refused(resnet18, save_safetensors(state, tmp_path / "m.safetensors"))
    assert "layer2.0.conv1.weight is (64, 64, 3, 3) in the file, (128, 64, 3, 3) for" in message


def test_non_finite_values_are_refused(resnet18, tmp_path):
    state = reference.state_dict("resnet18")
    state["bn1.running_var"][0] = np.nan
    assert "bn1.running_var holds NaN" in refused(
        resnet18, save_safetensors(state, tmp_path / "m.safetensors")
    )


@pytest.mark.parametrize("suffix", [".safetensors", ".pth"])
def test_a_truncated_file_is_refused(resnet18, tmp_path, suffix):
    state = reference.state_dict("resnet18")
    if suffix == ".pth" and torch is None:
        pytest.skip("PyTorch is not installed")
    save = save_pth if suffix == ".pth" else save_safetensors
    path = save(state, tmp_path / f"whole{suffix}")
    cut = tmp_path / f"cut{suffix}"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    message = refused(resnet18, cut)
    assert "truncated" in message and "again" in message


def test_a_pth_file_without_pytorch_says_how_to_read_it(resnet18, tmp_path, monkeypatch):
    if torch is None:
        pytest.skip("PyTorch is needed to write the file")
    path = save_pth(reference.state_dict("resnet18"), tmp_path / "r.pth")
    monkeypatch.setitem(sys.modules, "torch", None)
    message = refused(resnet18, path)
    assert "pip install torch" in message and "safetensors.torch.save_file" in message


@needs_torch
def test_a_training_checkpoint_wrapper_and_dataparallel_prefix_are_unwrapped(tmp_path):
    state = reference.state_dict("resnet18")
    wrapped = {
        "epoch": 90,
        "state_dict": {f"module.{k}": torch.from_numpy(v) for k, v in state.items()},
    }
    torch.save(wrapped, tmp_path / "checkpoint.pth")
    model = logits_model("resnet18", weights=tmp_path / "checkpoint.pth")
    np.testing.assert_allclose(outputs(model, reference.images()), STORED["resnet18"], atol=1e-4)


def test_keras_applications_v2_layout_is_refused_saying_why(tmp_path):
    """resnet50v2 is keras.applications' pre-activation layout, neither torchvision's nor timm's."""
    path = save_safetensors(reference.state_dict("resnet50_tv"), tmp_path / "r.safetensors")
    with pytest.raises(WeightsError, match="is keras.applications' ResNet-V2 layout"):
        build("resnet50v2", input_shape=(64, 64, 3), weights=path)


# === The head and the input channels ===


def test_a_new_head_loads_everything_else(tmp_path):
    state = reference.state_dict("resnet18")
    path = save_safetensors(state, tmp_path / "r.safetensors")
    with pytest.warns(UserWarning, match=r"classifier fc \(1000 classes\) does not fit"):
        model = build("resnet18", input_shape=(64, 64, 3), num_classes=5, weights=path)
    kernel = keras.ops.convert_to_numpy(model.get_layer("stem").conv.conv.kernel)
    np.testing.assert_array_equal(kernel, state["conv1.weight"].transpose(2, 3, 1, 0))


def test_a_model_without_top_leaves_the_classifier_out(tmp_path):
    path = save_safetensors(reference.state_dict("resnet18"), tmp_path / "r.safetensors")
    model = build(
        "resnet18", input_shape=(64, 64, 3), include_top=False, pooling="avg", weights=path
    )
    assert model.output_shape == (None, 512)


def test_one_channel_sums_the_rgb_filters(tmp_path):
    """adapt_input_conv: a gray x gives what the RGB image (x, x, x) gives."""
    path = save_safetensors(reference.state_dict("resnet50d"), tmp_path / "r.safetensors")
    rgb = logits_model("resnet50d", weights=path)
    gray = logits_model("resnet50d", input_shape=(64, 64, 1), weights=path)
    x = reference.images()[..., :1]
    np.testing.assert_allclose(outputs(gray, x), outputs(rgb, np.repeat(x, 3, axis=-1)), atol=1e-4)


def test_four_channels_repeat_the_filters_scaled_by_three_quarters(tmp_path):
    state = reference.state_dict("resnet18")
    path = save_safetensors(state, tmp_path / "r.safetensors")
    model = logits_model("resnet18", input_shape=(64, 64, 4), weights=path)
    kernel = keras.ops.convert_to_numpy(model.get_layer("stem").conv.conv.kernel)
    rgb = state["conv1.weight"].transpose(2, 3, 1, 0)
    np.testing.assert_allclose(kernel[:, :, :3], rgb * 0.75, rtol=1e-6)
    np.testing.assert_allclose(kernel[:, :, 3], rgb[:, :, 0] * 0.75, rtol=1e-6)


# === And back: our weights under torchvision's keys ===


@pytest.mark.parametrize("name", ["resnet18", "resnext50_32x4d", "resnet50d", "seresnet50"])
def test_torch_state_dict_has_torchvisions_keys_and_shapes(name):
    from registry import torch_state_dict

    ours = torch_state_dict(logits_model(name))
    theirs = {k: v for k, v in reference.state_dict(name).items() if "num_batches" not in k}
    assert {k: v.shape for k, v in ours.items()} == {k: v.shape for k, v in theirs.items()}


def test_torch_state_dict_round_trips(tmp_path):
    from registry import torch_state_dict

    model = logits_model("resnet50d")
    path = save_safetensors(torch_state_dict(model), tmp_path / "ours.safetensors")
    again = logits_model("resnet50d", weights=path)
    x = reference.images()
    np.testing.assert_array_equal(outputs(again, x), outputs(model, x))


def test_fine_tuning_starts_from_a_torchvision_file(tmp_path):
    """`train --weights FILE`: every layer but the new 5-class head loads."""
    from registry.assembly import model_from_recipe
    from registry.recipe import load_recipe
    from registry.training.finetune import load_pretrained

    state = reference.state_dict("resnet18")
    path = save_safetensors(state, tmp_path / "resnet18.safetensors")
    recipe = load_recipe(
        {"base": "resnet18", "name": "mine", "input_shape": [64, 64, 3], "head": {"num_classes": 5}}
    )
    model = model_from_recipe(recipe)
    line = load_pretrained(model, recipe, path)
    assert line.endswith("into 9 of 10 layers; left as initialised: head.")
    kernel = keras.ops.convert_to_numpy(model.get_layer("conv5_block2").conv2.conv.kernel)
    np.testing.assert_array_equal(kernel, state["layer4.1.conv2.weight"].transpose(2, 3, 1, 0))


def test_predict_prints_imagenet_labels_from_a_torchvision_file(tmp_path, capsys):
    """`resblocks predict --model resnet18 --weights FILE --top 5`, against the model by hand.

    The recipe says how torchvision evaluated these weights (`train.eval`):
    Resize(256) + CenterCrop(224) on the PIL image, bilinear.
    """
    import json

    from PIL import Image

    from registry import decode_predictions, preprocess_input
    from registry.cli import main

    path = save_safetensors(reference.state_dict("resnet18"), tmp_path / "resnet18.safetensors")
    photo = tmp_path / "photo.png"
    pixels = np.random.default_rng(5).integers(0, 256, (180, 240, 3), dtype="uint8")
    Image.fromarray(pixels).save(photo)
    # 180x240: the shorter side to 256, the longer to int(256 * 240 / 180) = 341; the crop
    # starts round((256 - 224) / 2) = 16 down and round(58.5) = 58 across (half to even).
    resized = Image.open(photo).convert("RGB").resize((341, 256), Image.BILINEAR)
    x = np.asarray(resized.crop((58, 16, 58 + 224, 16 + 224)), "float32")[None]
    model = build("resnet18", weights=path)
    expected = decode_predictions(model.predict(preprocess_input("resnet18", x), verbose=0))[0]

    code = main(["predict", "--model", "resnet18", "--weights", str(path), "--json", str(photo)])
    assert code == 0
    [printed] = json.loads(capsys.readouterr().out)
    assert [(r["class_id"], r["name"]) for r in printed["predictions"]] == [
        (wnid, name) for wnid, name, _ in expected
    ]


def test_train_command_fine_tunes_from_a_torchvision_file(tmp_path, capsys):
    """`resblocks train --weights resnet18.safetensors`: the file loads into all but the head."""
    import yaml
    from PIL import Image

    from registry.cli import main

    path = save_safetensors(reference.state_dict("resnet18"), tmp_path / "resnet18.safetensors")
    for name, colour in (("red", (200, 30, 30)), ("blue", (30, 30, 200))):
        (tmp_path / "data" / name).mkdir(parents=True)
        for i in range(4):
            Image.new("RGB", (64, 64), tuple(c + 5 * i for c in colour)).save(
                tmp_path / "data" / name / f"{i}.png"
            )
    recipe = tmp_path / "mine.yaml"
    mine = {"base": "resnet18", "name": "mine", "input_shape": [64, 64, 3]}
    recipe.write_text(yaml.safe_dump({**mine, "head": {"num_classes": 2}}))
    code = main(
        ["train", str(recipe), "--data", str(tmp_path / "data"), "--val-split", "0.5"]
        + ["--epochs", "1", "--batch-size", "4", "--weights", str(path)]
        + ["--out", str(tmp_path / "run"), "--verbose", "2"]
    )
    assert code == 0
    assert "into 9 of 10 layers; left as initialised: head." in capsys.readouterr().out
    assert (tmp_path / "run" / "model.keras").is_file()
