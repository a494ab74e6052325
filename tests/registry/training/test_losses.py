"""`train: {loss: bce}`: timm's binary cross-entropy with its label smoothing, on a sigmoid head."""

import keras
import numpy as np
import pytest
from helpers import tiny_recipe

from registry import RecipeError, load_recipe
from registry.recipe.train_spec import TrainSpec
from registry.training.losses import BinaryCrossEntropy, make_loss

RECIPE = tiny_recipe(input_shape=[32, 32, 3])


def scores_and_labels():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(5, 4)).astype("float32")
    labels = rng.integers(0, 4, size=5)
    return logits, labels


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_bce_is_timms_binary_cross_entropy_with_its_smoothing(smoothing):
    torch = pytest.importorskip("torch")
    logits, labels = scores_and_labels()
    # timm.loss.BinaryCrossEntropy.forward, for integer targets:
    off = smoothing / 4
    target = torch.full((5, 4), off, dtype=torch.float64)
    target.scatter_(1, torch.tensor(labels).view(-1, 1), 1.0 - smoothing + off)
    theirs = torch.nn.functional.binary_cross_entropy_with_logits(
        torch.tensor(logits, dtype=torch.float64), target, reduction="mean"
    )
    one_hot = np.eye(4, dtype="float32")[labels]
    loss = make_loss(TrainSpec.model_validate({"loss": "bce", "label_smoothing": smoothing}))
    ours = loss(one_hot, keras.activations.sigmoid(keras.ops.convert_to_tensor(logits)))
    assert float(keras.ops.convert_to_numpy(ours)) == pytest.approx(float(theirs), abs=1e-6)
    on_logits = BinaryCrossEntropy(smoothing=smoothing, from_logits=True)(one_hot, logits)
    assert float(keras.ops.convert_to_numpy(on_logits)) == pytest.approx(float(theirs), abs=1e-6)


def test_the_default_is_categorical_cross_entropy_with_its_smoothing():
    loss = make_loss(TrainSpec.model_validate({"label_smoothing": 0.1}))
    assert isinstance(loss, keras.losses.CategoricalCrossentropy)
    assert loss.get_config()["label_smoothing"] == 0.1


def test_the_bce_loss_reloads_in_safe_mode():
    loss = BinaryCrossEntropy(smoothing=0.2)
    again = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(loss), safe_mode=True
    )
    assert type(again) is BinaryCrossEntropy and again.smoothing == 0.2


def test_bce_gives_the_trained_model_a_sigmoid_head_and_compiles_with_it():
    from registry.training.run import new_model, resolve_recipe

    recipe = load_recipe({**RECIPE, "train": {"loss": "bce", "label_smoothing": 0.1}})
    resolved = resolve_recipe(recipe, recipe.train, ["a", "b", "c"], (32, 32))
    assert resolved.raw["head"]["activation"] == "sigmoid"
    model = new_model(resolved, recipe.train, steps_per_epoch=2, say=lambda *_: None)
    assert model.get_layer("head").activation == "sigmoid"
    assert isinstance(model.loss, BinaryCrossEntropy) and model.loss.smoothing == 0.1


def test_bce_with_a_softmax_head_is_a_located_error_with_the_fix():
    from registry.training.run import resolve_recipe

    head = {"block": "classifier", "num_classes": 3, "activation": "softmax"}
    recipe = load_recipe({**RECIPE, "head": head, "train": {"loss": "bce"}})
    with pytest.raises(RecipeError) as error:
        resolve_recipe(recipe, recipe.train, ["a", "b", "c"], (32, 32))
    assert (
        "head.activation: train.loss: bce scores each class with a sigmoid, but the head's "
        "activation is 'softmax'. Remove head.activation (bce sets sigmoid), or train with "
        "loss: categorical." in str(error.value)
    )


def test_an_unknown_loss_is_a_located_error():
    with pytest.raises(RecipeError, match=r"train.loss: .*'categorical' or 'bce'"):
        load_recipe({**RECIPE, "train": {"loss": "focal"}})
