"""explain(): Grad-CAM pictures of image files, from a trained model alone (`resblocks explain`).

Each image is decoded as in training, its Grad-CAM heatmap
(`registry.inspection.class_activation`, Selvaraju et al. 2017) is laid over it,
and the picture is titled with the predicted class and its probability,
the true class when the image's folder is named after one, and the class
explained when it is not the predicted one.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path

import keras
import numpy as np

from registry.errors import ResblocksError
from registry.inspection.class_activation import grad_cam
from registry.names import unknown_name_message
from registry.recipe.train_spec import EvalSpec
from registry.training import saved
from registry.training.data import DataError, ImageFolder, image_dataset
from registry.training.eval_transform import run_eval_spec
from registry.training.predict import image_paths


@dataclasses.dataclass(frozen=True)
class Explained:
    """One image explained.

    Args:
        path: str. The image file.
        picture: str. The PNG written: the image with its heatmap over it.
        predicted: str. The model's top class.
        probability: float. Its probability.
        explained: str. The class whose heatmap was drawn.
        true: str or None. The class the image's folder is named after.
        heatmap: float32 array (height, width) in [0, 1], at the input size.
    """

    path: str
    picture: str
    predicted: str
    probability: float
    explained: str
    true: str | None
    heatmap: np.ndarray

    def line(self) -> str:
        """`path  predicted  probability  -> picture`."""
        return f"{self.path}  {self.predicted}  {self.probability:.4f}  -> {self.picture}"


def explain(
    model: str | os.PathLike | keras.Model,
    images: Sequence[str | os.PathLike],
    out: str | os.PathLike,
    *,
    layer: str | None = None,
    class_name: str | None = None,
    image_size: int | Sequence[int] | None = None,
    allow_plugins: bool = False,
) -> list[Explained]:
    """Writes one Grad-CAM picture per image into `out`.

    Args:
        model: a `.keras` file, a run folder (its `model.keras`), or a model.
        images: list of image file paths.
        out: str or path. The folder for the pictures (made if missing);
            each is named after its image (`cat.jpg` -> `cat.png`).
        layer: str or None. The body layer explained; default the last one
            before the head.
        class_name: str or None. The class to explain in every image;
            default each image's predicted class.
        image_size: int, (height, width) or None for the model's input size.
        allow_plugins: bool. Import the plugins of the run's recipe.yaml
            first, for a model made of custom blocks.

    Returns:
        One `Explained` per image, in the order given.
    """
    fit = run_eval_spec(model)  # the crop the run's model is evaluated on
    model = saved.load_trained(model, allow_plugins=allow_plugins)
    names = saved.class_names(model)
    paths = image_paths(images)
    if not paths:
        raise DataError("No images to explain. Pass one or more image files.")
    wanted = None
    if class_name is not None:
        if class_name not in names:
            raise ResblocksError(
                "Argument `class_name` must be one of the model's classes: "
                + unknown_name_message("class", class_name, names, listed="Classes")
            )
        wanted = names.index(class_name)
    pixels, inputs = load_images(model, paths, image_size, fit)
    probabilities = model.predict(inputs, batch_size=32, verbose=0)
    predicted = probabilities.argmax(axis=1)
    heatmaps = grad_cam(model, inputs, layer=layer, class_index=wanted)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    results, used = [], set()
    for path, image, heatmap, row, best in zip(paths, pixels, heatmaps, probabilities, predicted):
        true = Path(path).parent.name if Path(path).parent.name in names else None
        explained = names[best] if wanted is None else names[wanted]
        picture = _free_name(folder, Path(path).stem, used)
        result = Explained(
            path, str(picture), names[best], float(row[best]), explained, true, heatmap
        )
        draw_overlay(image, heatmap, _title(result), picture)
        results.append(result)
    return results


def load_images(
    model: keras.Model, paths: Sequence[str], image_size=None, fit: EvalSpec | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The images as 0-255 pixels (for the pictures) and as the model takes them.

    Fitted to the input size by `fit` (a run's `train.eval`), None squashes.
    """
    folder = ImageFolder(
        root=".", class_names=("images",), paths=tuple(paths), labels=(0,) * len(paths)
    )
    dataset = image_dataset(
        folder,
        image_size=saved.image_size(model, image_size),
        batch_size=len(paths),
        shuffle=False,
        fit=fit,
    )
    ((pixels, _),) = dataset.take(1).as_numpy_iterator()
    (inputs,) = saved.model_inputs(model, dataset).take(1).as_numpy_iterator()
    return np.asarray(pixels, dtype="float32"), np.asarray(inputs, dtype="float32")


def draw_overlay(image: np.ndarray, heatmap: np.ndarray, title: str, path) -> None:
    """The image with the heatmap over it (jet colours, 40 % opaque), titled."""
    import matplotlib

    matplotlib.use("Agg", force=False)  # files only, never a window
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots(figsize=(4, 4.4))
    shown = np.clip(image, 0, 255).astype("uint8")
    ax.imshow(shown[..., 0] if shown.shape[-1] == 1 else shown, cmap="gray")
    ax.imshow(heatmap, cmap="jet", alpha=0.4, vmin=0.0, vmax=1.0)
    ax.set_title(title, fontsize=9)
    ax.axis("off")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def _title(result: Explained) -> str:
    lines = [f"predicted: {result.predicted} ({result.probability:.2f})"]
    if result.true is not None:
        lines.append(f"true: {result.true}")
    if result.explained != result.predicted:
        lines.append(f"heatmap of: {result.explained}")
    return "\n".join(lines)


def _free_name(folder: Path, stem: str, used: set[str]) -> Path:
    """`folder/stem.png`, or `stem_2.png`... when two images share a name."""
    name, n = stem, 1
    while name in used:
        n += 1
        name = f"{stem}_{n}"
    used.add(name)
    return folder / f"{name}.png"
