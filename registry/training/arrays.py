"""Images held in memory as numpy arrays: a data source like an image folder, without files.

`(x, y)` as `keras.datasets.*.load_data()` gives them goes straight into the
tf.data pipeline, with no round trip through image files.

The rules for what arrays are accepted (`ImageArrays.from_arrays`):

- images: `(n, height, width)` (grayscale), `(n, height, width, 1)` or
  `(n, height, width, 3)`; uint8, or floats either all in [0, 1] (scaled by
  255) or in [0, 255]. They are kept as uint8, as an image file would hold
  them, so a cache and a fingerprint see the same numbers.
- labels: `(n,)` or `(n, 1)` integers, each in [0, classes).
- colour: images reach the network with the recipe's channels
  (`decode.to_channels`): grayscale is repeated to 3 channels for an RGB
  recipe and kept as it is for a 1-channel one; the arrays are stored once.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from registry.training.data import DataError
from registry.training.decode import changes_pixels, fit_uint8


@dataclasses.dataclass(frozen=True, eq=False)
class ImageArrays:
    """Labelled images in memory, with the same interface as an `ImageFolder`.

    Args:
        images: uint8 array `(n, height, width, channels)`, channels 1 or 3.
        labels: tuple of int. The class index of each image.
        class_names: tuple of str. A label is an index into it.
        name: str. What the images are, for messages and `data.json`: a
            data set's name ("fashion_mnist"), or "arrays".
        split: str or None. The data set's split ("train", "test"), or
            None for arrays given by a user.
        indices: tuple of int or None. The images of `images` this source
            holds, in order (None: all of them), so a split shares the
            arrays instead of copying them.
    """

    images: np.ndarray
    labels: tuple[int, ...]
    class_names: tuple[str, ...]
    name: str
    split: str | None = None
    indices: tuple[int, ...] | None = None

    def __post_init__(self):
        n = len(self.indices) if self.indices is not None else len(self.images)
        if len(self.labels) != n:
            raise ValueError(
                f"`labels` must have one entry per image. Received: {n} images and "
                f"{len(self.labels)} labels"
            )

    @classmethod
    def from_arrays(
        cls,
        images,
        labels,
        *,
        class_names: Sequence[str] | None = None,
        name: str = "arrays",
        split: str | None = None,
    ) -> ImageArrays:
        """Checks and normalises numpy arrays as `keras.datasets` gives them (see the module).

        Raises:
            DataError: the arrays break a rule of the module docstring.
        """
        origin = f"the {split} split of {name}" if split else name
        images = _uint8_images(np.asarray(images), origin)
        labels = _int_labels(np.asarray(labels), len(images), origin)
        top = int(labels.max()) + 1 if len(labels) else 0
        if class_names is None:
            class_names = [str(i) for i in range(top)]
        class_names = tuple(str(name) for name in class_names)
        if top > len(class_names):
            raise DataError(
                f"The labels of {origin} go up to {top - 1}, but {len(class_names)} class names "
                f"were given. Pass one name per class (class_names=[...]), label 0 first."
            )
        if len(class_names) < 2:
            raise DataError(
                f"The labels of {origin} name a single class; a classifier needs at least 2."
            )
        return cls(images, tuple(int(v) for v in labels), class_names, name, split)

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def where(self) -> str:
        """The source in messages: "the test split of fashion_mnist", "arrays"."""
        return f"the {self.split} split of {self.name}" if self.split else self.name

    @property
    def paths(self) -> tuple[str, ...]:
        """A name per image, `fashion_mnist:test[17]`, where a folder has file paths."""
        prefix = f"{self.name}:{self.split}" if self.split else self.name
        return tuple(f"{prefix}[{i}]" for i in self._positions())

    def summary(self) -> str:
        """One line for logs: "10,000 test images of fashion_mnist", "600 images of arrays"."""
        split = f" {self.split}" if self.split else ""
        return f"{len(self):,}{split} images of {self.name}"

    @property
    def skipped(self) -> tuple:
        return ()  # arrays hold no unreadable images

    def subset(self, indices: Sequence[int]) -> ImageArrays:
        """The images at `indices` of this source, sharing its arrays."""
        indices = [int(i) for i in indices]
        if any(not 0 <= i < len(self) for i in indices):
            raise ValueError(
                f"Indices must lie in [0, {len(self)}) for {len(self)} images. "
                f"Received: {[i for i in indices if not 0 <= i < len(self)][:5]}"
            )
        positions = self._positions()
        return dataclasses.replace(
            self,
            labels=tuple(self.labels[i] for i in indices),
            indices=tuple(int(positions[i]) for i in indices),
        )

    def fingerprint(self) -> str:
        """sha256 of the images, labels and class names: the same data gives the same text."""
        digest = hashlib.sha256()
        chosen = self.images if self.indices is None else self.images[list(self.indices)]
        digest.update(repr((chosen.shape, self.class_names)).encode())
        digest.update(np.ascontiguousarray(chosen).tobytes())
        digest.update(np.asarray(self.labels, np.int64).tobytes())
        return digest.hexdigest()

    def cache_key(self) -> str:
        return self.fingerprint()

    def elements(self, image_size: tuple[int, int], fit=None):
        """(dataset of (index, label), load) for `image_dataset`: load gathers and resizes.

        The image keeps its own channels; `image_dataset` gives the network's.
        `fit` (a recipe's `train.eval`, an `EvalSpec`) says how it is fitted to
        `image_size`; None squashes it (`decode.fit_uint8`).

        Only indices travel through shuffling and sharding; an image is
        taken from the array when it is loaded.
        """
        images = tf.constant(self.images)

        def load(index, label):
            return fit_uint8(tf.gather(images, index), image_size, fit), label

        return self._indexed(), load

    def in_memory(
        self, image_size: tuple[int, int], fit=None
    ) -> tuple[tf.data.Dataset, tf.Tensor] | None:
        """(dataset of (index, label), the images as one tensor) when they need no fitting.

        That is when they are `image_size` already and `fit` keeps such an
        image as it is (`load` would give the array's own pixels); else None,
        and `image_dataset` loads each image with `elements`' `load`.
        """
        if tuple(self.images.shape[1:3]) != tuple(image_size) or changes_pixels(fit):
            return None
        return self._indexed(), tf.constant(self.images)

    def _indexed(self) -> tf.data.Dataset:
        """(index into `images`, label) of each image, in order."""
        return tf.data.Dataset.from_tensor_slices(
            (
                tf.constant(self._positions(), tf.int64),
                tf.constant(self.labels, tf.int32),
            )
        )

    def _positions(self) -> np.ndarray:
        if self.indices is None:
            return np.arange(len(self.images))
        return np.asarray(self.indices, dtype=np.int64)


def _uint8_images(images: np.ndarray, origin: str) -> np.ndarray:
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4 or images.shape[-1] not in (1, 3) or not images.size:
        raise DataError(
            f"The images of {origin} must be an array (n, height, width) or (n, height, width, "
            f"1 or 3), as keras.datasets gives them. Received: shape {images.shape}"
        )
    if images.dtype == np.uint8:
        return np.ascontiguousarray(images)
    if images.dtype.kind in "iu":
        low, high = int(images.min()), int(images.max())
        if low < 0 or high > 255:
            raise DataError(
                f"The images of {origin} are {images.dtype} with values from {low} to {high}; "
                "pixels must lie in 0-255."
            )
        return images.astype(np.uint8)
    if images.dtype.kind != "f":
        raise DataError(
            f"The images of {origin} must be uint8 or float pixels. Received: dtype {images.dtype}"
        )
    if not np.isfinite(images).all():
        raise DataError(f"The images of {origin} hold NaN or infinite values.")
    low, high = float(images.min()), float(images.max())
    if low < 0 or high > 255:
        raise DataError(
            f"The images of {origin} hold values from {low:g} to {high:g}; float pixels must "
            "lie in [0, 1] or in [0, 255] (the recipe's preprocessing does any other scaling)."
        )
    scale = 255.0 if high <= 1.0 else 1.0  # [0, 1] images, as after `x / 255`
    return np.round(images * scale).astype(np.uint8)


def _int_labels(labels: np.ndarray, n: int, origin: str) -> np.ndarray:
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]  # keras.datasets.cifar10 gives (n, 1)
    if labels.ndim != 1 or len(labels) != n:
        raise DataError(
            f"The labels of {origin} must be one integer per image, shape ({n},) or ({n}, 1). "
            f"Received: shape {labels.shape}"
            + (" (one-hot labels: pass labels.argmax(axis=1))" if labels.ndim == 2 else "")
        )
    if labels.dtype.kind not in "iu":
        raise DataError(
            f"The labels of {origin} must be integers (class indices). Received: dtype "
            f"{labels.dtype}"
        )
    if len(labels) and labels.min() < 0:
        raise DataError(f"The labels of {origin} must be class indices from 0; one is negative.")
    return labels.astype(np.int64)
