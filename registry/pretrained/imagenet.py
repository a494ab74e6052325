"""ImageNet class names shipped with the package, and decode_predictions.

`data/imagenet_class_index.json` is byte for byte the file keras.applications
downloads on first use (md5 c2c37ea517e94d9795004a39431a14cb, the hash in
keras' imagenet_utils): the 1000 ILSVRC-2012 classes as [WordNet id, name],
with keras' spelling. Shipped, so nothing is downloaded.
"""

import functools
import json
from pathlib import Path
from typing import NamedTuple

import numpy as np

CLASS_INDEX_FILE = Path(__file__).resolve().parent / "data" / "imagenet_class_index.json"
NUM_CLASSES = 1000


class ImageNetClass(NamedTuple):
    """One row of `decode_predictions`: equal to keras' `(class_id, name, score)` tuple.

    Attributes:
        class_id: str. The WordNet id, e.g. "n02504458".
        name: str. keras.applications' class name, e.g. "African_elephant".
        score: float. The model's score for the class.
    """

    class_id: str
    name: str
    score: float

    @property
    def class_index(self) -> int:
        """The class's position (0-999) in the model's 1000 outputs."""
        return _index_of_wnid()[self.class_id]


@functools.cache
def imagenet_class_index() -> dict[int, tuple[str, str]]:
    """The 1000 ImageNet classes: index -> (WordNet id, name)."""
    with CLASS_INDEX_FILE.open(encoding="utf-8") as f:
        raw = json.load(f)
    return {int(index): (wnid, name) for index, (wnid, name) in raw.items()}


def imagenet_class_names() -> list[str]:
    """The 1000 class names in output order (`[0]` is "tench")."""
    index = imagenet_class_index()
    return [index[i][1] for i in range(NUM_CLASSES)]


@functools.cache
def _index_of_wnid() -> dict[str, int]:
    return {wnid: index for index, (wnid, _) in imagenet_class_index().items()}


def decode_predictions(preds, top: int = 5) -> list[list[ImageNetClass]]:
    """The top-scoring ImageNet classes of each prediction, as keras.applications returns them.

    Args:
        preds: array of shape `(samples, 1000)`: a batch of class scores.
        top: int. How many classes to return per sample.

    Returns:
        One list per sample of `top` rows `(class_id, name, score)`, best
        first; each row is an `ImageNetClass` (a tuple) that also knows its
        `class_index`.

    Raises:
        ValueError: `preds` is not of shape `(samples, 1000)`, or `top` is
            not between 1 and 1000.
    """
    preds = np.asarray(preds)
    if preds.ndim != 2 or preds.shape[1] != NUM_CLASSES:
        raise ValueError(
            "`decode_predictions` expects a batch of ImageNet predictions, a 2D array of shape "
            f"(samples, {NUM_CLASSES}). Received array with shape: {preds.shape}. A model with "
            "another number of classes has its own class names."
        )
    if not 1 <= int(top) <= NUM_CLASSES:
        raise ValueError(
            f"Invalid value received for argument `top`: expected 1 to {NUM_CLASSES}. Received: "
            f"top={top!r}"
        )
    index = imagenet_class_index()
    results = []
    for pred in preds:
        best = np.argsort(pred, kind="stable")[::-1][:top]
        results.append([ImageNetClass(*index[int(i)], float(pred[i])) for i in best])
    return results
