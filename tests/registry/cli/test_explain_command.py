"""`resblocks explain`: one Grad-CAM picture per image, titled with the predicted and true class."""

import numpy as np
import PIL.Image
import pytest
from helpers import two_class_recipe

from registry import build
from registry.cli import main
from registry.training.explain import explain

TINY = two_class_recipe(("dark", "bright"))  # one stage: a 16x16 last map


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A saved model and three images: two in a folder named after a class, one not."""
    folder = tmp_path_factory.mktemp("explain")
    path = folder / "model.keras"
    build(TINY, include_preprocessing=True).save(path)
    rng = np.random.default_rng(0)
    images = []
    for parent, name in (("bright", "a.png"), ("elsewhere", "a.png"), ("bright", "b.jpg")):
        (folder / parent).mkdir(exist_ok=True)
        image = folder / parent / name
        PIL.Image.fromarray(rng.integers(0, 255, (40, 48, 3), dtype=np.uint8)).save(image)
        images.append(str(image))
    return path, images


def test_writes_a_picture_per_image_and_prints_where(saved, tmp_path, capsys):
    model, images = saved
    assert main(["explain", str(model), *images, "--out", str(tmp_path / "cams")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    # Two images called a.png: the second picture gets its own name.
    written = sorted(p.name for p in (tmp_path / "cams").iterdir())
    assert written == ["a.png", "a_2.png", "b.png"]
    for line, image in zip(lines, images):
        assert line.startswith(image) and line.endswith(".png")
        assert line.split()[1] in ("dark", "bright")
    with PIL.Image.open(tmp_path / "cams" / "a.png") as picture:
        assert picture.size[0] > 100


def test_the_true_class_comes_from_the_folder_name(saved, tmp_path):
    model, images = saved
    results = explain(model, images, tmp_path, class_name="bright")
    assert [r.true for r in results] == ["bright", None, "bright"]
    assert all(r.explained == "bright" for r in results)
    assert all(r.heatmap.shape == (32, 32) for r in results)
    assert all(0.0 <= r.heatmap.min() and r.heatmap.max() <= 1.0 for r in results)


def test_an_unknown_class_or_layer_is_an_error_naming_the_choices(saved, tmp_path, capsys):
    model, images = saved
    out = str(tmp_path / "cams")
    assert main(["explain", str(model), images[0], "--class", "brite", "--out", out]) == 2
    err = capsys.readouterr().err
    assert "unknown class 'brite'. Did you mean 'bright'? Classes: bright, dark" in err
    assert main(["explain", str(model), images[0], "--layer", "conv9", "--out", out]) == 2
    assert "Body layers: conv2, stem" in capsys.readouterr().err


def test_a_missing_image_is_an_error(saved, tmp_path, capsys):
    model, _ = saved
    missing = str(tmp_path / "no.png")
    assert main(["explain", str(model), missing, "--out", str(tmp_path)]) == 2
    assert "Image file(s) not found" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["explain", "gradients", "landscape"])
def test_every_option_has_help_text(command):
    from registry.cli.app import parser

    commands = parser()._subparsers._group_actions[0].choices
    for action in commands[command]._actions:
        assert action.help, f"{command} --{action.dest} has no help"
