"""`train: {class_weight: ...}`: balanced as scikit-learn, or named classes, applied by fit."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import PNG, tiny_recipe, write_image_folder

from registry import RecipeError, load_recipe
from registry.recipe.train_spec import TrainSpec
from registry.training.losses import class_weights

RECIPE = tiny_recipe(input_shape=[32, 32, 3])
NAMES = ("cat", "dog", "fox")
LABELS = (0,) * 6 + (1,) * 3 + (2,)


def weights_of(class_weight):
    spec = TrainSpec.model_validate({"class_weight": class_weight})
    return class_weights(spec, NAMES, LABELS)


def test_balanced_is_scikit_learns():
    from sklearn.utils.class_weight import compute_class_weight

    expected = compute_class_weight("balanced", classes=np.arange(3), y=np.array(LABELS))
    got = weights_of("balanced")
    assert [got[c] for c in range(3)] == pytest.approx(list(expected))


def test_a_mapping_names_classes_and_number_keys_are_folder_names():
    assert weights_of({"fox": 4.0, "cat": 0.5}) == {2: 4.0, 0: 0.5}
    spec = TrainSpec.model_validate({"class_weight": {0: 2.0}})
    assert class_weights(spec, ("0", "1"), (0, 1)) == {0: 2.0}
    assert weights_of(None) is None


def test_an_unknown_class_is_a_located_error_listing_the_classes():
    spec = TrainSpec.model_validate({"class_weight": {"cow": 2.0}})
    with pytest.raises(RecipeError) as error:
        class_weights(spec, NAMES, LABELS, "r.yaml")
    assert (
        "train.class_weight: no training class is called 'cow'. The classes are: cat, dog, fox."
        in str(error.value)
    )


@pytest.mark.parametrize(
    "value, message",
    [
        (
            "balance",
            "train.class_weight: must be balanced or a mapping of class names to weights, "
            "e.g. {cat: 2.0}. Received: 'balance'. Did you mean 'balanced'?",
        ),
        (
            {"cat": -1.0},
            "train.class_weight: the weight of class 'cat' must be a number from 0 to 1e6. "
            "Received: -1.0.",
        ),
        ({}, "train.class_weight: must be balanced or a mapping"),
        (3, "train.class_weight: must be balanced or a mapping"),
    ],
)
def test_bad_values_are_one_located_error_with_the_fix(value, message):
    with pytest.raises(RecipeError) as error:
        load_recipe({**RECIPE, "train": {"class_weight": value}})
    assert message in str(error.value) and "problems" not in str(error.value)


def test_keras_fit_weighs_one_hot_labels_from_a_dataset_by_class():
    """A class of weight 0 teaches nothing: the weights stay as they were."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="categorical_crossentropy")
    x = np.random.default_rng(0).normal(size=(8, 4)).astype("float32")
    y = np.eye(2, dtype="float32")[np.zeros(8, int)]  # every image of class 0
    data = tf.data.Dataset.from_tensor_slices((x, y)).batch(4)
    before = [keras.ops.convert_to_numpy(w).copy() for w in model.weights]
    model.fit(data, epochs=1, class_weight={0: 0.0, 1: 1.0}, shuffle=False, verbose=0)
    for a, b in zip(before, model.weights):
        np.testing.assert_array_equal(a, keras.ops.convert_to_numpy(b))


@pytest.mark.slow  # a run: about 30 s on a busy CPU
def test_a_run_prints_and_uses_its_class_weights(tmp_path, capsys):
    from registry.training.run import train

    write_image_folder(tmp_path / "data", {"dark": 9, "light": 3}, size=16, variants=PNG)
    recipe = {
        **RECIPE,
        "input_shape": [16, 16, 3],
        "train": {"batch_size": 4, "epochs": 1, "val_split": 0.34, "class_weight": "balanced"},
    }
    train(recipe, data=tmp_path / "data", out=tmp_path / "run", verbose=1)
    assert "Class weights: dark 0.667, light 2." in capsys.readouterr().out
