"""Gradients on whichever Keras backend this process runs: Grad-CAM and the gradients tool.

`make test` runs this file on all three backends. Each backend takes the
gradients its own way, so they are checked against known answers: with
global average pooling and one dense layer as the head, the class score's
gradient at every position of the last map is the class's kernel column
over the map's area, and Grad-CAM is the ReLU of the map weighted by that
column (the CAM of Zhou et al. 2016); the cross-entropy's gradient with
respect to the softmax layer's bias is the mean of probabilities minus
one-hot labels.
"""

import keras
import numpy as np
import PIL.Image
from helpers import image_recipe

from registry import build
from registry.cli import main
from registry.inspection.class_activation import grad_cam, input_gradient, split_at

TINY = image_recipe()


def test_the_gradient_is_the_class_column_over_the_map_area():
    model = build(TINY, include_preprocessing=True)
    images = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    features, scores = split_at(model)
    feature_map = features(images)
    gradient = keras.ops.convert_to_numpy(input_gradient(lambda x: scores(x)[:, 2], feature_map))
    kernel = keras.ops.convert_to_numpy(model.head.predictions.kernel)
    expected = np.broadcast_to(kernel[:, 2] / (16 * 16), gradient.shape)
    np.testing.assert_allclose(gradient, expected, rtol=1e-5, atol=1e-9)


def test_heatmaps_are_the_class_activation_map_resized():
    model = build(TINY, include_preprocessing=True)
    images = np.random.default_rng(1).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    heatmaps = grad_cam(model, images, class_index=1)
    features, _ = split_at(model)
    feature_map = keras.ops.convert_to_numpy(features(images))
    kernel = keras.ops.convert_to_numpy(model.head.predictions.kernel)
    cam = np.maximum(feature_map @ kernel[:, 1], 0.0)[..., None]
    cam = keras.ops.convert_to_numpy(keras.ops.image.resize(cam, (32, 32)))[..., 0]
    cam /= cam.max(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(heatmaps, cam, atol=1e-5)


def test_explain_command(tmp_path, capsys):
    model = tmp_path / "model.keras"
    build(TINY, include_preprocessing=True).save(model)
    image = tmp_path / "image.png"
    PIL.Image.fromarray(np.full((32, 32, 3), 128, dtype=np.uint8)).save(image)
    assert main(["explain", str(model), str(image), "--out", str(tmp_path / "cams")]) == 0
    assert (tmp_path / "cams" / "image.png").is_file()
    assert "image.png" in capsys.readouterr().out


def test_weight_gradients_give_the_analytic_gradient_of_the_output_bias():
    """d mean cross-entropy / d bias of a softmax layer = mean(probabilities - one-hot labels)."""
    from registry.inspection.weight_gradients import layer_norms, weight_gradients

    model = build(TINY, include_preprocessing=True)
    images = np.random.default_rng(2).uniform(0, 255, (4, 32, 32, 3)).astype("float32")
    labels = np.array([0, 1, 2, 1])
    gradients = weight_gradients(model, images, labels)
    paths = [weight.path for weight in model.trainable_variables]
    bias = keras.ops.convert_to_numpy(gradients[paths.index("head/predictions/bias")])
    values = [v.value for v in model.trainable_variables]
    frozen = [v.value for v in model.non_trainable_variables]
    outputs, _ = model.stateless_call(values, frozen, images, training=True)
    expected = (keras.ops.convert_to_numpy(outputs) - np.eye(3)[labels]).mean(axis=0)
    np.testing.assert_allclose(bias, expected, rtol=1e-4, atol=1e-6)
    norms = layer_norms(model, images, labels)
    assert norms.shape == (3,) and np.all(np.isfinite(norms)) and np.all(norms > 0)
