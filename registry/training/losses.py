"""The loss a `train:` section asks for: categorical cross-entropy, or timm's binary cross-entropy.

Wightman et al. 2021 (ResNet strikes back) train with binary cross-entropy
over one-hot targets, each class a yes/no question scored by a sigmoid;
timm's `BinaryCrossEntropy` composes label smoothing with it by setting the
targets to `smoothing / classes` off and `1 - smoothing + smoothing /
classes` on (Keras' own BinaryCrossentropy smooths towards 1/2 instead).
`BinaryCrossEntropy` is registered (package "resblocks_training"), so
`last.keras` reloads with `safe_mode=True` where this module is imported.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import keras
from keras import ops

from registry.errors import Problem, RecipeError
from registry.recipe.train_spec import TrainSpec

PACKAGE = "resblocks_training"


@keras.saving.register_keras_serializable(package=PACKAGE)
class BinaryCrossEntropy(keras.losses.Loss):
    """Binary cross-entropy over one-hot targets with timm's label smoothing.

    The mean over classes and samples of `-(t log p + (1 - t) log(1 - p))`
    with `t = y (1 - smoothing) + smoothing / classes`, as
    `timm.loss.BinaryCrossEntropy(smoothing)`.

    Args:
        smoothing: float. Label smoothing in [0, 1).
        from_logits: bool. Whether the scores are logits rather than sigmoid
            probabilities (a sigmoid head's output is exact either way on TensorFlow).
    """

    def __init__(self, smoothing: float = 0.0, from_logits: bool = False, **kwargs):
        kwargs.setdefault("name", "binary_cross_entropy")
        super().__init__(**kwargs)
        if not 0.0 <= smoothing < 1.0:
            raise ValueError(
                "Invalid value received for argument `smoothing`: it must be in [0, 1). "
                f"Received: smoothing={smoothing}"
            )
        self.smoothing = smoothing
        self.from_logits = from_logits

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, y_pred.dtype)
        if self.smoothing:
            classes = ops.cast(ops.shape(y_pred)[-1], y_pred.dtype)
            y_true = y_true * (1.0 - self.smoothing) + self.smoothing / classes
        return keras.losses.binary_crossentropy(y_true, y_pred, from_logits=self.from_logits)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "smoothing": self.smoothing,
            "from_logits": self.from_logits,
        }


def make_loss(spec: TrainSpec) -> keras.losses.Loss:
    """The loss of `spec.loss`, with `spec.label_smoothing`, on the head's probabilities.

    With mixup or cutmix on, the targets arrive soft with the smoothing in
    them (timm's `mixup_target`), so the loss takes them as they are: timm's
    SoftTargetCrossEntropy (categorical cross-entropy on soft targets) or
    its BinaryCrossEntropy without smoothing.
    """
    smoothing = 0.0 if spec.augment.mixes else spec.label_smoothing
    if spec.loss == "bce":
        return BinaryCrossEntropy(smoothing=smoothing)
    return keras.losses.CategoricalCrossentropy(label_smoothing=smoothing)


def head_activation(spec: TrainSpec) -> str:
    """The activation of the class scores the loss expects: sigmoid for bce, else softmax."""
    return "sigmoid" if spec.loss == "bce" else "softmax"


def class_weights(
    spec: TrainSpec, class_names: Sequence[str], labels: Sequence[int], source: str = ""
) -> dict[int, float] | None:
    """`spec.class_weight` as Keras' `fit(class_weight=...)`: class index to weight, or None.

    `balanced` weighs class c by `n_samples / (n_classes * count_c)`, as
    scikit-learn's `compute_class_weight("balanced")`, so every class adds
    the same to the loss; a mapping names classes, and the others weigh 1.

    Raises:
        RecipeError: the mapping names a class the training data has not.
    """
    given = spec.class_weight
    if given is None:
        return None
    if given == "balanced":
        counts = Counter(labels)
        n = len(labels)
        return {c: n / (len(class_names) * counts[c]) for c in range(len(class_names)) if counts[c]}
    unknown = [name for name in given if name not in class_names]
    if unknown:
        raise RecipeError(
            source,
            Problem(
                "train.class_weight",
                f"no training class is called {', '.join(repr(u) for u in unknown)}. "
                f"The classes are: {', '.join(class_names)}. Name the class folders.",
            ),
        )
    index = {name: i for i, name in enumerate(class_names)}
    return {index[name]: float(weight) for name, weight in given.items()}
