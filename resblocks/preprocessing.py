"""Preprocess: raw 0-255 RGB pixels to the input convention of a network's weights.

The conventions of keras.applications' `preprocess_input`, as one layer, so
a model can carry its own preprocessing and take raw images.
"""

import keras
from keras import ops

from resblocks.checks import check_one_of

# ImageNet channel statistics: BGR means in 0-255 for Caffe-trained
# weights, RGB mean and std in 0-1 for PyTorch-trained ones.
CAFFE_BGR_MEAN = (103.939, 116.779, 123.68)
TORCH_MEAN = (0.485, 0.456, 0.406)
TORCH_STD = (0.229, 0.224, 0.225)

MODES = ("caffe", "tf", "torch", "facenet", "rescale", "none")


@keras.saving.register_keras_serializable(package="resblocks")
class Preprocess(keras.layers.Layer):
    """Maps raw RGB pixels in [0, 255] to what the weights were trained on.

    Modes:
        "caffe": RGB -> BGR, minus the ImageNet BGR mean (keras.applications
            ResNet-50/101/152).
        "tf": scaled to [-1, 1] (Inception-ResNet-V2).
        "torch": scaled to [0, 1], minus mean, over std per channel
            (torchvision weights).
        "facenet": (x - 127.5) / 128, facenet-pytorch's
            `fixed_image_standardization` (its VGGFace2 and CASIA-WebFace
            weights).
        "rescale": scaled to [0, 1] (`rescale=1/255` in ImageDataGenerator).
        "none": unchanged.

    Args:
        mode: str. One of the modes above.

    Input shape: `(batch, height, width, 3)` ("none" and "rescale": any channels).
    Output shape: same as the input.
    """

    def __init__(self, mode: str = "none", **kwargs):
        super().__init__(**kwargs)
        check_one_of("mode", mode, MODES)
        self.mode = mode

    def call(self, x):
        x = ops.cast(x, self.compute_dtype)
        if self.mode == "caffe":
            return ops.flip(x, axis=-1) - ops.convert_to_tensor(CAFFE_BGR_MEAN, x.dtype)
        if self.mode == "tf":
            return x / 127.5 - 1.0
        if self.mode == "torch":
            mean = ops.convert_to_tensor(TORCH_MEAN, x.dtype)
            std = ops.convert_to_tensor(TORCH_STD, x.dtype)
            return (x / 255.0 - mean) / std
        if self.mode == "facenet":
            return (x - 127.5) / 128.0
        if self.mode == "rescale":
            return x / 255.0
        return x

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}
