"""facenet-pytorch's InceptionResnetV1 checkpoints load into facenet_inception_resnet_v1.

The random state dict comes from facenet_reference.py, written from
facenet-pytorch's `models/inception_resnet_v1.py` without our code, its
BN scales and statistics randomised and its `logits` classifier included;
its forward pass there uses torch.nn.functional only. The embeddings are
compared within 1e-5. `make test` loads the network with one block of each
kind (the same keys at fewer indices); the whole network, 22 blocks, is
large (helpers.is_large) and runs in `make test-slow`.
"""

from functools import partial
from pathlib import Path

import facenet_reference as reference
import keras
import numpy as np
import pytest
from loading import check_checkpoint, into_zeroed, outputs, save_safetensors, zeroed

from registry import WeightsError, build, load_weights, torch_state_dict

NAME = "facenet_inception_resnet_v1"
STORED = dict(np.load(reference.DATA))
SHAPE = (reference.SIDE, reference.SIDE, 3)
SHORT = {"stages.0.repeats": 1, "stages.2.repeats": 1, "stages.4.repeats": 1}


def check_embeddings(model, tmp_path, monkeypatch, repeats, expected):
    """A .pt and a .safetensors file, each loaded into the zeroed model, give the embeddings."""
    state, x = reference.state_dict(repeats), reference.images()
    check_checkpoint(
        into_zeroed(model),
        state,
        x,
        expected,
        partial(np.testing.assert_allclose, atol=1e-5),
        tmp_path,
        monkeypatch,
        # The stored embeddings are the reference's (facenet_reference.py rewrites them).
        reference=lambda: reference.forward(state, x, repeats),
        reference_close=partial(np.testing.assert_allclose, atol=1e-6),
        pth_suffix=".pt",
    )


@pytest.fixture(scope="module")
def short_file(tmp_path_factory) -> Path:
    """The short network's random state dict, written once as .safetensors."""
    path = tmp_path_factory.mktemp("facenet") / "short.safetensors"
    return save_safetensors(reference.state_dict(reference.SHORT), path)


@pytest.fixture(scope="module")
def short_model():
    """The recipe with one block of each kind: every key of the layout at its first index."""
    return build(NAME, input_shape=SHAPE, overrides=SHORT)


def test_a_checkpoint_gives_facenet_pytorchs_embeddings(short_model, tmp_path, monkeypatch):
    check_embeddings(short_model, tmp_path, monkeypatch, reference.SHORT, STORED["short"])


@pytest.mark.slow
def test_the_whole_network_gives_facenet_pytorchs_embeddings(tmp_path, monkeypatch):
    model = build(NAME, input_shape=SHAPE)
    check_embeddings(model, tmp_path, monkeypatch, reference.REPEATS, STORED["full"])


def test_the_reference_layout_has_the_recipes_trainable_parameters():
    """facenet-pytorch's parameters (BN statistics, counters and the classifier left out)."""
    state = reference.state_dict()
    trainable = sum(
        v.size
        for k, v in state.items()
        if not k.startswith("logits.")
        and not k.endswith(("running_mean", "running_var"))
        and not k.endswith("num_batches_tracked")
    )
    assert trainable == 23_482_624  # test_recipes.py's TRAINABLE entry for the recipe


def test_torch_state_dict_has_facenet_pytorchs_keys_and_shapes(short_model):
    ours = torch_state_dict(short_model)
    theirs = {
        k: v.shape
        for k, v in reference.state_dict(reference.SHORT).items()
        if "num_batches" not in k and not k.startswith("logits.")
    }
    assert {k: v.shape for k, v in ours.items()} == theirs


def test_the_classifier_of_the_file_is_left_out_and_not_needed(short_model, tmp_path):
    """`logits` (8631 VGGFace2 identities) is skipped; a file without it loads the same."""
    state = reference.state_dict(reference.SHORT)
    without = {k: v for k, v in state.items() if not k.startswith("logits.")}
    load_weights(zeroed(short_model), save_safetensors(without, tmp_path / "no_logits"))
    np.testing.assert_allclose(outputs(short_model, reference.images()), STORED["short"], atol=1e-5)


def test_without_top_the_body_loads_and_the_head_is_left_out(short_file):
    state = reference.state_dict(reference.SHORT)
    path = short_file
    model = build(
        NAME, input_shape=SHAPE, overrides=SHORT, include_top=False, pooling="avg", weights=path
    )
    assert model.output_shape == (None, 1792)
    kernel = keras.ops.convert_to_numpy(model.get_layer("block8_6").up.kernel)
    np.testing.assert_array_equal(kernel, state["block8.conv2d.weight"].transpose(2, 3, 1, 0))


def test_a_missing_key_is_named_and_the_file_recognised(short_model, tmp_path):
    state = reference.state_dict(reference.SHORT)
    del state["mixed_7a.branch2.1.bn.weight"]
    before = [keras.ops.convert_to_numpy(w).copy() for w in short_model.weights]
    with pytest.raises(WeightsError) as caught:
        load_weights(short_model, save_safetensors(state, tmp_path / "m.safetensors"))
    message = str(caught.value)
    assert "missing from the file: mixed_7a.branch2.1.bn.weight." in message
    assert "looks like facenet-pytorch's InceptionResnetV1" in message
    for old, new in zip(before, short_model.weights):
        np.testing.assert_array_equal(old, keras.ops.convert_to_numpy(new))


def test_a_facenet_file_into_a_resnet_says_what_it_is(short_file):
    path = short_file
    with pytest.raises(WeightsError, match="looks like facenet-pytorch's InceptionResnetV1"):
        build("resnet18", input_shape=(64, 64, 3), weights=path)


def test_inception_resnet_v1_without_bn_scale_refuses_the_gammas(short_file):
    """The shipped V1 recipe has TF-slim's BN without gamma: facenet's gammas have no place."""
    path = short_file
    with pytest.raises(WeightsError) as caught:
        build(
            "inception_resnet_v1",
            input_shape=SHAPE,
            overrides=SHORT,
            include_top=False,
            weights=path,
        )
    message = str(caught.value)
    assert "in the file but not in the model: block8.branch0.bn.weight" in message
    assert "batch-norm scale with" in message


def test_predict_prints_norms_and_writes_the_embeddings(short_model, short_file, tmp_path, capsys):
    """`resblocks predict --model RECIPE --weights FILE --embeddings OUT.npy`, against by hand."""
    import yaml
    from PIL import Image

    from registry.cli import main

    recipe = tmp_path / "short_facenet.yaml"
    stages = {0: {"repeats": 1}, 2: {"repeats": 1}, 4: {"repeats": 1}}
    recipe.write_text(
        yaml.safe_dump(
            {"base": NAME, "name": "short_facenet", "input_shape": list(SHAPE), "stages": stages}
        )
    )
    photos = []
    for i in range(2):
        pixels = np.random.default_rng(i).integers(0, 256, SHAPE, dtype="uint8")
        photos.append(tmp_path / f"face{i}.png")
        Image.fromarray(pixels).save(photos[-1])
    out = tmp_path / "embeddings.npy"
    args = ["predict", "--model", str(recipe), "--weights", str(short_file)]
    code = main([*args, "--embeddings", str(out), *map(str, photos)])
    assert code == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{photos[0]}  embedding  512 values, norm 1.0000"
    assert lines[-1] == f"wrote 2 embeddings of 512 values to {out}"
    load_weights(short_model, short_file)
    x = np.stack([np.asarray(Image.open(p), dtype="float32") for p in photos])
    np.testing.assert_allclose(np.load(out), outputs(short_model, (x - 127.5) / 128), atol=1e-5)


def test_embeddings_without_an_embedding_recipe_is_a_usage_error(capsys):
    from registry.cli import main

    code = main(
        ["predict", "--model", "resnet18", "--weights", "w.pt", "--embeddings", "e.npy", "x.png"]
    )
    assert code == 2
    assert "--embeddings" in capsys.readouterr().err
