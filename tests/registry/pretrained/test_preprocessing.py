"""preprocess_input prepares pixels as each recipe's weights expect.

It works like keras.applications' own functions.
"""

import keras
import numpy as np
import pytest
from helpers import OMIT, tiny_recipe
from keras.src.applications import imagenet_utils

from registry import build, input_convention, list_models, load_recipe, preprocess_input

TINY = tiny_recipe(input_shape=[32, 32, 3], preprocessing="caffe", head=OMIT)


def pixels() -> np.ndarray:
    return np.random.default_rng(0).uniform(0, 255, (2, 8, 8, 3)).astype("float32")


@pytest.mark.parametrize("name", list_models())
def test_every_recipe_matches_keras_convention(name):
    mode = load_recipe(name).preprocessing
    x = pixels()
    ours = preprocess_input(name, x)
    if mode in ("caffe", "tf", "torch"):
        expected = imagenet_utils.preprocess_input(x.copy(), mode=mode)
    else:
        # facenet-pytorch's fixed_image_standardization
        expected = {"rescale": x / 255.0, "facenet": (x - 127.5) / 128.0, "none": x}[mode]
    np.testing.assert_allclose(ours, expected, rtol=1e-6, atol=1e-5)
    np.testing.assert_array_equal(x, pixels())  # the input is left alone


def test_article_networks():
    x = pixels()
    np.testing.assert_allclose(
        preprocess_input("resnet50", x),
        keras.applications.resnet50.preprocess_input(x.copy()),
        atol=1e-4,
    )
    np.testing.assert_allclose(
        preprocess_input("inception_resnet_v2", x),
        keras.applications.inception_resnet_v2.preprocess_input(x.copy()),
        atol=1e-6,
    )
    assert input_convention("resnet50") == "caffe"
    assert input_convention("inception_resnet_v2") == "tf"


def test_a_built_network_knows_its_convention(tmp_path):
    model = build(TINY, include_top=False)
    assert model.input_convention == "caffe"
    np.testing.assert_allclose(preprocess_input(model, pixels()), preprocess_input(TINY, pixels()))
    model.save(tmp_path / "tiny.keras")
    reloaded = keras.saving.load_model(tmp_path / "tiny.keras", safe_mode=True)
    assert reloaded.input_convention == "caffe"
    # With the preprocessing inside, the network takes raw pixels.
    inside = build(TINY, include_top=False, include_preprocessing=True)
    assert input_convention(inside) == "none"
    np.testing.assert_array_equal(preprocess_input(inside, pixels()), pixels())


def test_models_resblocks_did_not_build():
    plain = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Flatten()])
    with pytest.raises(
        TypeError, match="For a keras.applications model use its module's preprocess_input"
    ):
        preprocess_input(plain, pixels())


def test_network_rejects_unknown_convention():
    from resblocks import Network, ResNetStem

    with pytest.raises(
        ValueError,
        match=(
            "Invalid value received for argument `input_convention`: "
            "expected one of caffe, tf, torch, facenet, rescale, none. "
            "Received: input_convention='bgr'"
        ),
    ):
        Network([ResNetStem(8, name="stem")], image_shape=(32, 32, 3), input_convention="bgr")
