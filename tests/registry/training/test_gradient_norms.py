"""`resblocks gradients`: each block's gradient norm, repeatable bit for bit with a seed."""

import numpy as np
import pytest
import yaml
from helpers import PNG, image_recipe, write_image_folder

from registry.cli import main
from registry.training.gradients import gradient_norms

TINY = image_recipe(**{"stages.0.repeats": 2})


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return write_image_folder(tmp_path_factory.mktemp("gradients"), {"a": 6, "b": 6}, variants=PNG)


def test_the_same_seed_gives_the_same_numbers_bit_for_bit(data):
    first = gradient_norms(TINY, data, steps=3, batch_size=4, seed=1)
    again = gradient_norms(TINY, data, steps=3, batch_size=4, seed=1)
    other = gradient_norms(TINY, data, steps=0, batch_size=4, seed=2)
    assert first.layers == ["stem", "conv2_block1", "conv2_block2", "conv3"]
    assert np.array_equal(first.initial, again.initial)
    assert np.array_equal(first.trained, again.trained)
    assert not np.array_equal(first.initial, other.initial)
    # Training moved the weights: the gradients measured on the same batch changed.
    assert not np.array_equal(first.initial, first.trained)
    assert np.all(np.isfinite(first.trained)) and np.all(first.initial > 0)


def test_zero_steps_measures_the_initialisation_only(data):
    result = gradient_norms(TINY, data, steps=0, batch_size=4)
    assert result.steps == 0
    assert np.array_equal(result.initial, result.trained)


def test_the_command_draws_one_line_per_recipe(data, tmp_path, capsys):
    recipe = tmp_path / "tiny.yaml"
    recipe.write_text(yaml.safe_dump(TINY))
    plain = tmp_path / "plain.yaml"
    plain.write_text(yaml.safe_dump({**TINY, "name": "plain", "defaults": {"shortcut": "none"}}))
    out = tmp_path / "norms.png"
    args = ["gradients", str(recipe), str(plain), "--data", str(data), "--out", str(out)]
    assert main([*args, "--steps", "2", "--batch-size", "4"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("tiny: first/last block")
    assert lines[1].startswith("plain: first/last block")
    assert out.is_file()


def test_negative_steps_are_refused(data, tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(
            ["gradients", "resnet20_cifar", "--data", str(data), "--out", "x.png", "--steps", "-1"]
        )
    assert "expected a whole number, 0 or more. Received: '-1'" in capsys.readouterr().err
