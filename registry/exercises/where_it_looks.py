"""Exercise where_it_looks: does Grad-CAM find the object the network classifies?

The task is made up so the answer is known: an image of the class
`bright` is dim noise with a bright 8x8 square somewhere, one of `dark` is
the noise alone; the square is the only evidence. The student trains the
worksheet's small network on it, explains bright images with
`registry.grad_cam`, and names the body layer and class whose heatmaps
put their peak on the square. The checker trains the same recipe on
images it draws itself (seeded, so every run agrees), calls Grad-CAM with
the student's choice on new images and counts how often the peak lands
inside the square.
"""

import json
from pathlib import Path

import keras
import numpy as np

from registry.assembly import build
from registry.exercises.worksheet import (
    Fail,
    answer,
    check_number,
    number,
    read_yaml_file,
    recipe_from,
)
from registry.inspection import grad_cam, profile

TITLE = "Where does the network look? Grad-CAM on images with a bright square"
STARTER = "starter.yaml"

CLASSES = ("dark", "bright")
SIZE, SQUARE = 32, 8  # image side; the bright square's side
# How the checker trains: as the README's script does.
TRAIN_IMAGES, TEST_IMAGES, EPOCHS, BATCH_SIZE, LEARNING_RATE = 512, 64, 3, 32, 3e-3
# A network that finds its class must get the test images right, and its
# heatmaps must peak on the square in most bright images.
MIN_ACCURACY, MIN_HITS = 0.9, 0.8
# The student's own hit rate may differ from the checker's by this much:
# another run of training, other images.
HIT_TOLERANCE = 0.2
# Multiply-adds per image the checker trains in seconds (the starter's
# network has about 2.3 M).
MAX_MACS = 20_000_000

GRAD_CAM = (
    "Explain the bright test images with registry.grad_cam(model, images, layer=..., "
    "class_index=...) for each body layer (model.body) and both classes, and see where "
    "each heatmap's maximum falls."
)


def squares(count: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Images of the task: (images, labels, squares' top-left corners).

    Every second image (label 1, `bright`) has a bright 8x8 square at a
    random place; its corner is (row, col), and (-1, -1) for a dark image.
    Images are 32x32x3 raw pixels, noise in 0-100, the square at 255.
    """
    rng = np.random.default_rng(seed)
    images = rng.uniform(0, 100, (count, SIZE, SIZE, 3)).astype("float32")
    labels = np.arange(count) % 2
    corners = np.full((count, 2), -1)
    for i in np.flatnonzero(labels):
        row, col = rng.integers(0, SIZE - SQUARE + 1, 2)
        images[i, row : row + SQUARE, col : col + SQUARE] = 255.0
        corners[i] = row, col
    return images, labels, corners


def hit_rate(heatmaps: np.ndarray, corners: np.ndarray) -> float:
    """The fraction of heatmaps whose maximum lies inside the image's square."""
    hits = 0
    for heatmap, (row, col) in zip(heatmaps, corners):
        peak_row, peak_col = np.unravel_index(np.argmax(heatmap), heatmap.shape)
        hits += row <= peak_row < row + SQUARE and col <= peak_col < col + SQUARE
    return float(hits / len(heatmaps))


def check(path: Path) -> str:
    sheet = read_yaml_file(path)
    recipe = recipe_from(sheet.get("recipe"), "recipe", path.parent)
    _check_task(recipe)
    settings = sheet.get("grad_cam") or {}
    layer = answer(settings, "layer", "Name a body layer: " + GRAD_CAM, where="grad_cam")
    chosen = answer(settings, "class", "dark or bright: " + GRAD_CAM, where="grad_cam")
    if chosen not in CLASSES:
        raise Fail(
            f"grad_cam.class must be one of {', '.join(CLASSES)}. Received: {chosen!r}",
            "Name the class whose evidence the heatmap should show.",
        )
    answers = sheet.get("answers") or {}
    answer(answers, "map_size", "The side of your layer's output map, in cells.")
    answer(answers, "hit_rate", "Measure it: hit_rate(heatmaps, corners) of your bright images.")

    model, accuracy = trained(recipe)
    body = [item.name for item in model.body]
    if layer not in body:
        raise Fail(
            f"grad_cam.layer = {layer!r} is not a body layer of {recipe.name}. Body layers: "
            f"{', '.join(body)}",
            "Grad-CAM explains the output map of one top-level body layer: the stem or a block.",
        )
    if accuracy < MIN_ACCURACY:
        raise Fail(
            f"trained as the README trains it, {recipe.name} gets only {accuracy:.0%} of the "
            "checker's test images right.",
            "A heatmap explains what a network does; first make one that works. The starter's "
            "network learns the task in 3 epochs.",
        )
    check_number(
        answers,
        "map_size",
        int(model.get_layer(layer).output.shape[1]),
        f"The side of {layer}'s output map, in cells: model.get_layer('{layer}').output.shape, "
        "or the stage table of `resblocks show`. The heatmap is that map, scaled up.",
        rel=0,
    )
    images, labels, corners = squares(TEST_IMAGES, seed=2)
    bright = labels == 1
    heatmaps = grad_cam(model, images[bright], layer=layer, class_index=CLASSES.index(chosen))
    hits = hit_rate(heatmaps, corners[bright])
    if hits < MIN_HITS:
        raise Fail(
            f"Grad-CAM of class '{chosen}' at {layer} peaks inside the square in only {hits:.0%} "
            f"of the checker's bright images (it wants {MIN_HITS:.0%}).",
            _why_not(model, layer, chosen),
        )
    reported = number(answers, "hit_rate", "A fraction, 0 to 1.")
    if abs(reported - hits) > HIT_TOLERANCE:
        direction = "high" if reported > hits else "low"
        raise Fail(
            f"answers.hit_rate = {reported:g} is too {direction}: the checker's run finds "
            f"{hits:.2f}.",
            "Count the bright images whose heatmap's argmax falls inside the square "
            "(hit_rate() in registry.exercises.where_it_looks does it), divided by all of them.",
        )
    return (
        f"Grad-CAM of class '{chosen}' at {layer} ({model.get_layer(layer).output.shape[1]} cells "
        f"a side) puts its peak on the square in {hits:.0%} of new bright images. The network "
        "looks where the evidence is; try the other layers and the other class to see when a "
        "heatmap stops meaning that."
    )


# The last recipe `trained` trained (its raw mapping as JSON), with its model and accuracy.
_TRAINED: dict[str, tuple[keras.Model, float]] = {}


def trained(recipe) -> tuple[keras.Model, float]:
    """The recipe trained as the README trains it, and its accuracy on the checker's test images.

    The weights and the shuffle are seeded, so a recipe gets the same
    network on every run; the last one trained is kept, so checking a file
    again in the same process does not train again.
    """
    key = json.dumps(recipe.raw, sort_keys=True, default=str)
    if key not in _TRAINED:
        keras.utils.set_random_seed(0)
        model = build(recipe, include_preprocessing=True)
        model.compile(
            optimizer=keras.optimizers.Adam(LEARNING_RATE),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        images, labels, _ = squares(TRAIN_IMAGES, seed=1)
        model.fit(images, labels, batch_size=BATCH_SIZE, epochs=EPOCHS, verbose=0)
        test, test_labels, _ = squares(TEST_IMAGES, seed=2)
        accuracy = float(model.evaluate(test, test_labels, verbose=0)[1])
        _TRAINED.clear()
        _TRAINED[key] = (model, accuracy)
    return _TRAINED[key]


def _check_task(recipe) -> None:
    if tuple(recipe.input_shape) != (SIZE, SIZE, 3):
        raise Fail(
            f"recipe's input_shape is {list(recipe.input_shape)}; the task's images are "
            f"[{SIZE}, {SIZE}, 3].",
            "Keep the starter's `input_shape: [32, 32, 3]`.",
        )
    head = recipe.head.args if recipe.head is not None else {}
    if tuple(head.get("class_names") or ()) != CLASSES:
        raise Fail(
            f"recipe's head must have class_names [{', '.join(CLASSES)}], in that order. "
            f"Received: {head.get('class_names')}",
            "Keep the starter's head: label 0 is dark, label 1 is bright.",
        )
    macs = profile(build(recipe)).total.macs
    if macs > MAX_MACS:
        raise Fail(
            f"recipe costs {macs / 1e6:.0f} M multiply-adds per image; the checker trains "
            f"networks of up to {MAX_MACS / 1e6:.0f} M.",
            "A bright square needs no big network: fewer filters or blocks (`resblocks show` "
            "counts them).",
        )


def _why_not(model: keras.Model, layer: str, chosen: str) -> str:
    if chosen != "bright":
        return (
            "A heatmap shows the evidence FOR a class. Which class is the bright square "
            "evidence for?"
        )
    if layer != model.body[-1].name:
        return (
            "An early map is less specific to the class: its channels answer to edges and "
            "brightness anywhere. Compare with the last body layer's heatmaps."
        )
    return (
        "Look at the heatmaps: if they are blurred across the image, the last map may be too "
        "coarse (each stride 2 halves it); keep more cells."
    )
