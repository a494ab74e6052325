"""build() takes keras.applications' keywords, and refuses unknown ones with the closest names."""

import keras
import pytest

from registry import build
from registry.errors import ArgumentNameError, ResblocksError, WeightsError
from registry.pretrained.keras_files import imagenet_file_name

TINY = "resnet20_cifar"


def test_classes_is_num_classes():
    assert build(TINY, classes=5).output_shape == (None, 5)


def test_classes_and_num_classes_must_agree():
    with pytest.raises(ArgumentNameError, match="keras.applications' name for num_classes"):
        build(TINY, classes=5, num_classes=7)


@pytest.mark.parametrize("activation", [None, "linear", "sigmoid"])
def test_classifier_activation_sets_the_head(activation):
    model = build(TINY, classifier_activation=activation)
    head = model.get_layer("head")
    assert head.activation == activation


def test_classifier_activation_none_gives_logits():
    images = keras.random.uniform((2, 32, 32, 3), 0, 255, seed=1)
    logits = keras.ops.convert_to_numpy(build(TINY, classifier_activation=None)(images))
    assert not ((logits >= 0) & (logits <= 1)).all() or abs(logits.sum(-1) - 1).max() > 1e-3


def test_input_tensor_starts_the_model():
    tensor = keras.Input((40, 40, 3))
    model = build(TINY, input_tensor=tensor, classes=3)
    assert model.inputs[0] is tensor
    assert model.output_shape == (None, 3)


def test_input_tensor_and_input_shape_must_agree():
    with pytest.raises(ArgumentNameError, match="disagree"):
        build(TINY, input_tensor=keras.Input((40, 40, 3)), input_shape=[32, 32, 3])


def test_pooling_without_top():
    assert build(TINY, include_top=False, pooling="max").output_shape == (None, 64)


@pytest.mark.parametrize(
    ("keyword", "suggestion"),
    [("num_class", "'num_classes'"), ("clases", "'classes'"), ("input_tensr", "'input_tensor'")],
)
def test_unknown_keyword_is_a_resblocks_error_with_did_you_mean(keyword, suggestion):
    with pytest.raises(ResblocksError) as caught:
        build(TINY, **{keyword: 5})
    message = str(caught.value)
    assert f"unexpected keyword argument {keyword!r}" in message
    assert f"Did you mean {suggestion}" in message
    assert isinstance(caught.value, TypeError)  # as Python's own error is


def test_imagenet_file_names_follow_keras_applications():
    assert imagenet_file_name("resnet50", True) == "resnet50_weights_tf_dim_ordering_tf_kernels.h5"
    assert (
        imagenet_file_name("inception_resnet_v2", False)
        == "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels_notop.h5"
    )


def test_imagenet_offline_names_the_file_and_the_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))

    def offline(*args, **kwargs):
        raise Exception("URL fetch failure: no network")  # what keras.utils.get_file raises

    monkeypatch.setattr(keras.utils, "get_file", offline)
    with pytest.raises(WeightsError) as caught:
        build("resnet50", weights="imagenet", include_top=False)
    message = str(caught.value)
    assert "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5" in message
    assert f"{tmp_path / 'models'}/" in message
    assert "URL fetch failure" in message


def test_imagenet_reads_the_file_keras_keeps(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    (tmp_path / "models").mkdir()
    kept = tmp_path / "models" / "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"
    kept.write_bytes(b"not an HDF5 file")
    with pytest.raises(WeightsError) as caught:  # found, then read: this one is no HDF5 file
        build("resnet50", weights="imagenet", include_top=False)
    assert str(kept) in str(caught.value) or kept.name in str(caught.value)


def test_imagenet_of_a_recipe_without_keras_weights():
    with pytest.raises(WeightsError, match="resnet50, resnet101"):
        build(TINY, weights="imagenet")
