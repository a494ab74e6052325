"""The classifier head carries its class names through config, saving and recipes."""

import keras
import pytest
from helpers import tiny_recipe

from registry import RecipeError, build
from resblocks import Classifier

TINY = tiny_recipe(**{"head.num_classes": 2, "head.class_names": ["cat", "dog"]})


def test_class_names_survive_save_and_load(tmp_path):
    model = build(TINY)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert loaded.get_layer("head").class_names == ["cat", "dog"]


def test_class_names_default_to_none():
    assert Classifier(3).class_names is None
    assert Classifier(3).get_config()["class_names"] is None


def test_class_names_must_match_num_classes():
    with pytest.raises(ValueError, match=r"one name per class \(3\). Received: 2 names"):
        Classifier(3, class_names=["a", "b"])


def test_recipe_with_wrong_number_of_class_names_is_located():
    with pytest.raises(
        RecipeError, match=r"head: Argument `class_names` must hold one name per class \(5\)"
    ):
        build(TINY, num_classes=5)
