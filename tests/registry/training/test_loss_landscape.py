"""`resblocks landscape`: filter-normalised directions (Li et al. 2018) and the loss around θ."""

import json

import keras
import numpy as np
import pytest
from helpers import PNG, two_class_recipe, write_image_folder

from registry import build
from registry.cli import main
from registry.training.landscape import filter_normalized_direction, load_data, loss_landscape

TINY = two_class_recipe()  # one stage: a 16x16 last map


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny model trained a few steps on a two-class folder, saved; (model file, folder)."""
    root = tmp_path_factory.mktemp("landscape")
    write_image_folder(root / "data", {"a": 8, "b": 8}, variants=PNG)  # dark and bright
    keras.utils.set_random_seed(0)
    model = build(TINY, include_preprocessing=True)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(load_data(model, root / "data", 8), epochs=3, shuffle=False, verbose=0)
    model.save(root / "model.keras")
    return root / "model.keras", root / "data"


def test_each_direction_filter_has_the_norm_of_its_weight_filter(trained):
    model = keras.saving.load_model(trained[0])
    direction = filter_normalized_direction(model, np.random.default_rng(0))
    kernels = 0
    for weight, d in zip(model.trainable_weights, direction):
        theta = keras.ops.convert_to_numpy(weight.value).astype("float64")
        assert d.shape == theta.shape
        if theta.ndim < 2:  # a bias, a batch-norm gamma or beta: left out
            assert not d.any(), weight.path
            continue
        kernels += 1
        axes = tuple(range(theta.ndim - 1))  # a filter: one slice of the last axis
        np.testing.assert_allclose(
            np.linalg.norm(d.reshape(-1, d.shape[-1]), axis=0),
            np.sqrt(np.sum(theta**2, axis=axes)),
            rtol=0,
            atol=1e-6,
        )
        assert not np.allclose(d, theta)  # random, not the weights themselves
    assert kernels >= 4  # the stem's conv, the block's two, the dense layer
    names = [w.path for w, d in zip(model.trainable_weights, direction) if not d.any()]
    assert any("gamma" in n for n in names) and any("bias" in n for n in names)


def test_the_centre_is_the_trained_model_loss_and_the_weights_come_back(trained):
    model = keras.saving.load_model(trained[0])
    before = [keras.ops.convert_to_numpy(w.value).copy() for w in model.weights]
    model.compile(loss="sparse_categorical_crossentropy")
    own = model.evaluate(load_data(model, trained[1], 64), verbose=0)
    result = loss_landscape(model, trained[1], points=5, span=0.5)
    assert result.centre == pytest.approx(own, abs=1e-6)
    assert result.losses[2] == pytest.approx(own, abs=1e-6)  # alpha = 0 on the grid
    assert result.alphas.tolist() == [-0.5, -0.25, 0.0, 0.25, 0.5]
    # Away from the centre the weights did move (a few steps of training are no minimum,
    # so whether the loss rises depends on the backend's numbers).
    assert result.losses[0] != pytest.approx(own) and result.losses[-1] != pytest.approx(own)
    for weight, value in zip(model.weights, before):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(weight.value), value)


def test_the_command_draws_the_2d_contours(trained, tmp_path, capsys):
    out = tmp_path / "landscape.png"
    args = ["landscape", str(trained[0]), "--data", str(trained[1]), "--out", str(out)]
    assert main([*args, "--2d", "--points", "3", "--span", "0.5"]) == 0
    assert "loss at the trained weights" in capsys.readouterr().out
    assert out.is_file()


def test_an_even_number_of_points_is_refused(trained, capsys):
    args = ["landscape", str(trained[0]), "--data", str(trained[1]), "--out", "x.png"]
    with pytest.raises(SystemExit):
        main([*args, "--points", "4"])
    assert "expected an odd number of 3 or more. Received: '4'" in capsys.readouterr().err


def test_a_sample_of_images_is_drawn_by_the_seed(trained):
    model = keras.saving.load_model(trained[0])
    counts = [
        sum(len(y) for _, y in load_data(model, trained[1], 4, images=5, seed=seed))
        for seed in (0, 0, 1)
    ]
    assert counts == [5, 5, 5]
    first, again, other = (
        np.concatenate([x for x, _ in load_data(model, trained[1], 4, images=5, seed=seed)])
        for seed in (0, 0, 1)
    )
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    with pytest.raises(ValueError, match="`images` must be a positive int"):
        loss_landscape(model, trained[1], images=0)


def test_two_runs_share_one_figure(trained, tmp_path, capsys):
    out = tmp_path / "both.png"
    model = str(trained[0])
    args = ["landscape", model, model, "--data", str(trained[1]), "--out", str(out)]
    assert main([*args, "--points", "3", "--images", "8"]) == 0
    lines = capsys.readouterr().out.splitlines()
    folder = trained[0].parent.name  # a model.keras is named by its folder
    assert [line.split(":")[0] for line in lines[:2]] == [folder, f"{folder} (2)"]
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    numbers = json.loads(out.with_suffix(".json").read_text())
    assert list(numbers) == [folder, f"{folder} (2)"]
    assert numbers[folder]["alphas"] == [-1.0, 0.0, 1.0] and numbers[folder]["betas"] is None
    assert numbers[folder]["losses"][1] == pytest.approx(numbers[folder]["centre"])
