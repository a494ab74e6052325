"""The input pipeline against the training step it feeds, at the demo's settings.

Training must never wait on its input: images decoded, resized and
augmented from a folder per second must well exceed the images per second
one training step consumes. Measured three ways: the pipeline alone
(uncached, so every epoch decodes every file, and cached, as `cache="auto"`
does for small folders), the training step alone (one batch held in
memory), and training fed by the pipeline; the last two should match.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from pathlib import Path

import keras
import tensorflow as tf
from bench_models import Setting, compile_for_bench
from bench_stats import Samples, alternate, timed

# The recipe `make run` trains; its train: section gives the settings measured.
DEMO_RECIPE = "digits_demo"


def demo_settings() -> dict:
    """image_size, batch and augment of the demo, read from its recipe's train: section."""
    from registry import load_recipe

    train = load_recipe(DEMO_RECIPE).train
    return {
        "image_size": train.image_hw[0],
        "batch": train.batch_size,
        "augment": train.augment.model_dump(exclude_defaults=True),
    }


@dataclasses.dataclass
class PipelineResult:
    """What the pipeline benchmark measured; rates are images per second.

    Args:
        images: int. Images in the training folder.
        image_size: int. Side of the square images.
        batch: int. Images per batch.
        augment: dict. The recipe's `train.augment` keys.
        pipeline: dict. Mode ("no cache", "memory cache") -> img/s, after a
            first epoch that is not counted.
        first_epoch: dict. Mode -> img/s of the first epoch (for the memory
            cache, the epoch that decodes and fills it).
        step: dict. Model name -> img/s of training on one batch in memory.
        fed: dict. Model name -> img/s of training fed by the pipeline.
    """

    images: int
    image_size: int
    batch: int
    augment: dict
    pipeline: dict[str, Samples]
    first_epoch: dict[str, float]
    step: dict[str, Samples]
    fed: dict[str, Samples]

    def headroom(self, mode: str, model: str) -> float:
        """The slowest pipeline sample over the fastest training-step sample.

        Above 1, training never waits.

        The extremes, not the medians: a small network's step rate swings
        between levels from one `fit()` to the next on a shared 2-core
        machine, and the bar must hold against its fastest.
        """
        return self.pipeline[mode].low / self.step[model].high


def demo_datasets(workdir: Path, image_size: int, batch: int, augment: dict):
    """The folder and a function making the demo's augmented dataset for a cache mode."""
    from registry.recipe.train_spec import AugmentSpec
    from registry.training.augment import augment_images
    from registry.training.data import image_dataset, scan_image_folder
    from registry.training.digits import write_digits_folder

    train_dir, _ = write_digits_folder(workdir / "digits", image_size=image_size)
    folder = scan_image_folder(train_dir)

    def make(cache: bool) -> tf.data.Dataset:
        return image_dataset(
            folder,
            image_size=(image_size, image_size),
            batch_size=batch,
            shuffle=True,
            seed=0,
            cache=cache,
            augment=augment_images(AugmentSpec.model_validate(augment), seed=0),
        )

    return folder, make


def measure_pipeline(
    workdir: Path,
    *,
    models: Sequence[str | dict] = (DEMO_RECIPE,),
    repeats: int = 3,
    epochs: int = 3,
    seconds_per_sample: float = 4.0,
    image_size: int | None = None,
    batch: int | None = None,
    augment: dict | None = None,
    log: Callable[[str], None] = print,
) -> PipelineResult:
    """Measures the pipeline alone, then each model's step alone and fed by it.

    Args:
        workdir: path. Where the digits folder is written.
        models: recipes (names or mappings) of the networks trained on the digits.
        repeats: int. Samples of each rate.
        epochs: int. Epochs per sample of the pipeline alone.
        seconds_per_sample: float. About how long each training sample runs.
        image_size, batch, augment: None for the demo's (`demo_settings()`).
    """
    from registry import build

    demo = demo_settings()
    image_size = demo["image_size"] if image_size is None else image_size
    batch = demo["batch"] if batch is None else batch
    augment = dict(demo["augment"] if augment is None else augment)
    folder, make = demo_datasets(Path(workdir), image_size, batch, augment)
    n = len(folder)

    pipeline: dict[str, Samples] = {}
    first_epoch: dict[str, float] = {}
    for mode, cache in (("no cache", False), ("memory cache", True)):
        dataset = make(cache)
        first_epoch[mode] = n / timed(lambda: _drain(dataset))
        pipeline[mode] = Samples(unit="img/s")
        for _ in range(repeats):
            pipeline[mode].add(n * epochs / timed(lambda: [_drain(dataset) for _ in range(epochs)]))
        log(
            f"  pipeline, {mode}: {pipeline[mode].format(0)} img/s "
            f"(first epoch {first_epoch[mode]:.0f} img/s), {n} images of {image_size}x{image_size}"
        )

    step: dict[str, Samples] = {}
    fed: dict[str, Samples] = {}
    for recipe in models:
        name = recipe["name"] if isinstance(recipe, dict) else Path(recipe).stem
        model = build(
            recipe, num_classes=folder.num_classes, input_shape=(image_size, image_size, 3)
        )
        compile_for_bench(model, Setting())
        images, labels = next(iter(make(True)))
        held = tf.data.Dataset.from_tensors((images, labels)).repeat()
        feeding = make(True)
        _drain(feeding)  # fills the memory cache, as the first epoch of training does
        feeding = feeding.repeat()
        model.fit(held, steps_per_epoch=2, epochs=1, verbose=0, shuffle=False)  # traces the step
        model.fit(feeding, steps_per_epoch=2, epochs=1, verbose=0, shuffle=False)
        steps = max(
            3, math.ceil(seconds_per_sample / timed(lambda: model.train_on_batch(images, labels)))
        )
        step[name], fed[name] = Samples(unit="img/s"), Samples(unit="img/s")
        sources = {"step": (held, step[name]), "fed": (feeding, fed[name])}
        for order in alternate(list(sources), repeats):
            for source in order:
                dataset, samples = sources[source]
                seconds = timed(
                    lambda: model.fit(
                        dataset, steps_per_epoch=steps, epochs=1, verbose=0, shuffle=False
                    )
                )
                samples.add(steps * batch / seconds)
        log(
            f"  {name}: training step {step[name].format(1)} img/s on a batch in memory, "
            f"{fed[name].format(1)} img/s fed by the pipeline ({steps} steps per sample)"
        )
        model = None  # frees the network before the next one is built
        keras.utils.clear_session()

    return PipelineResult(n, image_size, batch, augment, pipeline, first_epoch, step, fed)


def _drain(dataset: tf.data.Dataset) -> None:
    for _ in dataset:
        pass
