"""train.augment's keys: defaults, shorthands, and one located message for every bad value."""

import pytest
from helpers import training_recipe

from registry import RecipeError, load_recipe


def augment_of(**augment):
    return load_recipe(training_recipe(augment=augment)).train.augment


def test_true_gives_the_references_defaults():
    spec = augment_of(random_resized_crop=True, rand_augment=True, random_erasing=True)
    assert spec.random_resized_crop.scale == [0.08, 1.0]
    assert spec.random_resized_crop.ratio == pytest.approx([3 / 4, 4 / 3])
    assert (spec.rand_augment.num_ops, spec.rand_augment.magnitude) == (2, 9.0)
    erasing = spec.random_erasing
    assert (erasing.probability, erasing.value) == (0.25, "random")
    assert erasing.scale == pytest.approx([0.02, 1 / 3])
    assert erasing.ratio == pytest.approx([0.3, 1 / 0.3])
    assert (spec.mix_probability, spec.mix_switch_probability) == (1.0, 0.5)
    assert not spec.mixes and augment_of(cutmix=1.0).mixes


def test_the_issues_example_validates():
    spec = augment_of(
        random_resized_crop={
            "scale": [0.08, 1.0],
            "ratio": [0.75, 1.3333],
            "interpolation": "bilinear",
        },
        random_crop={"padding": 4},
        rand_augment={"num_ops": 2, "magnitude": 9, "magnitude_std": 0.5},
        color_jitter=0.4,
        random_erasing={
            "probability": 0.25,
            "scale": [0.02, 0.33],
            "ratio": [0.3, 3.3],
            "value": 0,
        },
        mixup=0.2,
        cutmix=1.0,
        mix_probability=1.0,
        mix_switch_probability=0.5,
    )
    assert spec.random_erasing.value == 0.0 and spec.random_crop.padding == 4


@pytest.mark.parametrize(
    "augment, message",
    [
        (
            {"random_resized_crop": {"scale": [0.5, 0.1]}},
            "train.augment.random_resized_crop: scale must be [low, high] with 0 < low <= high, "
            "at most 1, e.g. [0.08, 1.0]. Received: [0.5, 0.1].",
        ),
        (
            {"random_resized_crop": {"ratio": [0.0, 2.0]}},
            "train.augment.random_resized_crop: ratio must be [low, high] with 0 < low <= high",
        ),
        (
            {"random_resized_crop": {"interpolation": "cubic"}},
            "train.augment.random_resized_crop.interpolation: ",
        ),
        ({"random_crop": {"padding": 0}}, "train.augment.random_crop.padding: must be at least 1"),
        ({"random_crop": {}}, "train.augment.random_crop.padding: "),
        (
            {"rand_augment": {"magnitude": 11}},
            "train.augment.rand_augment.magnitude: must be at most 10",
        ),
        (
            {"rand_augment": {"num_ops": 0}},
            "train.augment.rand_augment.num_ops: must be at least 1",
        ),
        (
            {"rand_augment": {"magnitude_std": -0.5}},
            "train.augment.rand_augment.magnitude_std: must be at least 0",
        ),
        ({"trivial_augment": "yes"}, "train.augment.trivial_augment: "),
        ({"color_jitter": 1.5}, "train.augment.color_jitter: must be at most 1"),
        (
            {"random_erasing": {"probability": 0}},
            "train.augment.random_erasing.probability: must be greater than 0",
        ),
        (
            {"random_erasing": {"value": "noise"}},
            "train.augment.random_erasing.value: must be random (per-pixel noise) or a pixel "
            "value from 0 to 255, e.g. 0. Received: 'noise'.",
        ),
        ({"random_erasing": {"scale": [0.02, 1.5]}}, "train.augment.random_erasing: scale must be"),
        ({"mixup": -0.2}, "train.augment.mixup: must be at least 0"),
        ({"cutmix": "1"}, "train.augment.cutmix: "),
        ({"mix_probability": 1.5}, "train.augment.mix_probability: must be at most 1"),
        (
            {"mix_switch_probability": -1},
            "train.augment.mix_switch_probability: must be at least 0",
        ),
        (
            {"rand_augment": True, "trivial_augment": True},
            "train.augment: give one of rand_augment and trivial_augment",
        ),
        ({"random_erasng": True}, "unknown key 'random_erasng'. Did you mean 'random_erasing'"),
    ],
)
def test_bad_values_are_one_located_line(augment, message):
    with pytest.raises(RecipeError) as error:
        load_recipe(training_recipe(augment=augment))
    text = str(error.value)
    assert message in text
    # One problem, one line.
    assert len([line for line in text.splitlines() if "train.augment" in line]) == 1


def test_validate_exits_2_with_one_located_line(tmp_path, capsys):
    from helpers import write_recipe

    from registry.cli import main

    path = write_recipe(tmp_path / "bad.yaml", training_recipe(augment={"cutmix": -1}))
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml: train.augment.cutmix: must be at least 0" in err
    assert "Traceback" not in err
