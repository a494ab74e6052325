"""Grad-CAM (Selvaraju et al. 2017): it finds what defines a class, on every layout of network."""

import keras
import numpy as np
import pytest
from helpers import built, image_recipe, representative_params, small_shape

from registry import build, list_models
from registry.errors import ResblocksError
from registry.inspection.class_activation import grad_cam, split_at

SIZE, SIDE = 32, 8  # images and the bright square in them

# Stride 2 once: the last map is 16x16, fine enough to place a peak in an 8x8 square.
SQUARES = image_recipe(name="squares", **{"input_shape": [SIZE, SIZE, 3], "head.num_classes": 2})


def square_images(count: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Dim noise; class 1 has a bright SIDE x SIDE square at a random place.

    Returns the images (0-255), the labels and each square's top-left corner.
    """
    rng = np.random.default_rng(seed)
    images = rng.uniform(0, 100, (count, SIZE, SIZE, 3)).astype("float32")
    labels = np.arange(count) % 2
    corners = rng.integers(0, SIZE - SIDE + 1, (count, 2))
    for image, label, (row, col) in zip(images, labels, corners):
        if label:
            image[row : row + SIDE, col : col + SIDE] = 255.0
    return images, labels, corners


@pytest.fixture(scope="module")
def square_model():
    keras.utils.set_random_seed(0)
    model = build(SQUARES, include_preprocessing=True)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy")
    images, labels, _ = square_images(512, seed=1)
    model.fit(images, labels, batch_size=32, epochs=3, verbose=0)
    return model


def test_heatmap_peak_falls_inside_the_square_that_defines_the_class(square_model):
    images, labels, corners = square_images(80, seed=2)
    squares, corners = images[labels == 1], corners[labels == 1]
    heatmaps = grad_cam(square_model, squares, class_index=1)
    assert heatmaps.shape == (len(squares), SIZE, SIZE)
    peaks = [np.unravel_index(np.argmax(h), h.shape) for h in heatmaps]
    inside = [
        row <= r < row + SIDE and col <= c < col + SIDE
        for (r, c), (row, col) in zip(peaks, corners)
    ]
    assert np.mean(inside) >= 0.9, f"peak inside the square for {np.mean(inside):.0%} only"


def test_an_untrained_class_score_gradient_is_not_all_one_place(square_model):
    """The check above can fail: a heatmap fixed at one place would miss most squares."""
    images, labels, corners = square_images(40, seed=3)
    heatmaps = grad_cam(square_model, images[labels == 1], class_index=1)
    peaks = {np.unravel_index(np.argmax(h), h.shape) for h in heatmaps}
    assert len(peaks) > 5


def test_inception_resnet_with_its_preprocessing_gives_heatmaps_in_0_1_at_the_input_size():
    """The Inception layout at its smallest input, raw pixels in; the others are tested below."""
    model = build(
        "inception_resnet_v2", input_shape=[75, 75, 3], num_classes=3, include_preprocessing=True
    )
    images = np.random.default_rng(0).uniform(0, 255, (2, 75, 75, 3))
    heatmaps = grad_cam(model, images)
    assert heatmaps.shape == (2, 75, 75)
    assert heatmaps.dtype == np.float32
    assert 0.0 <= heatmaps.min() and heatmaps.max() <= 1.0


# Every shipped recipe. `make test` runs the representatives (every layer
# class: 13 heatmaps, about 20 s on a loaded 2-core machine); the others, large
# ones included, are slow: building the other 80 that are not large again
# would cost about two minutes there.
@pytest.mark.parametrize("name", representative_params(list_models()))
def test_every_shipped_recipe_gives_heatmaps(name):
    """Grad-CAM (what `resblocks explain` draws) on each recipe at its small input, random weights.

    The models are `built`'s, shared with the other tests of whole recipes;
    grad_cam only reads them. A heatmap is scaled by its peak: its maximum
    is 1, or 0 where no position supports the class.
    """
    shape = small_shape(name)
    image = np.random.default_rng(0).uniform(0, 1, (1, *shape)).astype("float32")
    model = built(name)
    heatmaps = grad_cam(model, image)
    assert heatmaps.shape == (1, *shape[:2]) and heatmaps.dtype == np.float32
    assert np.isfinite(heatmaps).all()
    assert heatmaps.min() >= 0.0 and heatmaps.max() in (0.0, 1.0)
    # The default map is the last body layer's: the last stage, or the
    # pre-activation networks' final norm after it.
    features, _ = split_at(model)
    assert features.output.shape[1:] == model.body[-1].output.shape[1:]


def test_a_named_layer_and_one_class_per_image(square_model):
    images, _, _ = square_images(4, seed=4)
    heatmaps = grad_cam(square_model, images, layer="conv2", class_index=[0, 1, 0, 1])
    assert heatmaps.shape == (4, SIZE, SIZE)


def test_the_scores_are_the_logits_before_the_softmax(square_model):
    images, _, _ = square_images(4, seed=5)
    features, scores = split_at(square_model)
    logits = keras.ops.convert_to_numpy(scores(features(images)))
    probabilities = keras.ops.convert_to_numpy(square_model(images))
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(keras.ops.softmax(logits)), probabilities, atol=1e-5
    )


def test_unknown_layer_names_the_body_layers(square_model):
    expected = r"unknown layer 'conv9'.*Body layers: conv2, conv3, stem"
    with pytest.raises(ResblocksError, match=expected):
        grad_cam(square_model, np.zeros((1, SIZE, SIZE, 3)), layer="conv9")


def test_a_model_without_head_is_refused():
    model = build(SQUARES, include_top=False)
    with pytest.raises(ResblocksError, match="Network with a head"):
        grad_cam(model, np.zeros((1, SIZE, SIZE, 3)))


def test_class_index_of_the_wrong_length_is_refused(square_model):
    with pytest.raises(ResblocksError, match="one int per image"):
        grad_cam(square_model, np.zeros((2, SIZE, SIZE, 3)), class_index=[0, 1, 1])
