"""export(): a trained network written in a serving format, checked in its runtime first.

The steps, each a reason an export can be trusted:
1. the format and its packages are checked, and the output path, before
   any work (an existing output is refused unless `force`);
2. the model is loaded and must be a resblocks classifier; its
   preprocessing goes inside the exported graph, so the file takes raw
   0-255 RGB pixels as the `.keras` file does; how an image of any size
   becomes that input (the run's `train.eval`: squash, or resize the
   shorter side and crop the centre, and test-time flipping) is recorded in
   the metadata's `eval`, which `resblocks predict` on the export applies;
3. batch norm is folded into the convolutions (`fold_bn`);
4. the files are written to a temporary folder beside the output, then
   run by the format's own runtime on a batch of images and compared with
   Keras (the unfolded model): within `TOLERANCE` and the same top-1 label
   for every image, else a `VerificationError` and nothing is written;
5. only then are they renamed into place.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from registry.deploy import images as image_sources
from registry.deploy.errors import ExportError, VerificationError
from registry.deploy.fold import fold_batchnorm
from registry.deploy.formats import Format, check_packages, get_format, output_path
from registry.deploy.runtimes import load
from registry.deploy.writers import write
from registry.recipe.train_spec import EvalSpec
from registry.training import saved
from registry.training.eval_transform import run_eval_spec
from resblocks import Network, Preprocess

TOLERANCE = 1e-4  # largest |probability difference| allowed for a float32 export
CHECK_IMAGES = 64  # images of a folder an export is checked on
CALIBRATION_IMAGES = 300  # images of --calibration that int8 quantization sees


@dataclass(frozen=True)
class ExportResult:
    """What `export` wrote and how it was checked.

    Attributes:
        path: Path. The exported file or folder.
        files: list of Path. Everything written (OpenVINO's `.bin`, LiteRT's sidecar).
        format: Format.
        runtime: str. The runtime it was checked in, with its version.
        checked_on: str. The images of the check ("'digits/val'", "generated images").
        images: int. How many.
        max_difference: float. Largest |probability difference| with Keras.
        top1_agreement: float. Fraction of images with Keras' top-1 label.
        folded: int. Batch norms folded into convolutions (0 without `fold_bn`).
        int8: bool. Quantized to int8 (then the check is `top1_agreement` on
            the calibration images, reported, not a pass or fail).
    """

    path: Path
    files: list[Path]
    format: Format
    runtime: str
    checked_on: str
    images: int
    max_difference: float
    top1_agreement: float
    folded: int
    int8: bool

    def summary(self) -> str:
        what = "int8 " if self.int8 else ""
        folded = f", {self.folded} batch norms folded" if self.folded else ""
        check = (
            f"top-1 agreement with float32 Keras {self.top1_agreement:.1%}"
            if self.int8
            else "the same top-1 labels"
        )
        return (
            f"Exported {what}{self.format.title} to '{self.path}'{folded}; checked with "
            f"{self.runtime} on {self.images} {self.checked_on}: largest difference "
            f"{self.max_difference:.2g}, {check}."
        )


def export(
    model: str | os.PathLike | keras.Model,
    path: str | os.PathLike,
    format: str = "savedmodel",
    *,
    fold_bn: bool = True,
    force: bool = False,
    images: str | os.PathLike | None = None,
    int8: bool = False,
    calibration: str | os.PathLike | None = None,
    allow_plugins: bool = False,
) -> ExportResult:
    """Exports a trained network to `path` in `format`, verified in that format's runtime.

    Args:
        model: a `.keras` file, a run folder (its `model.keras`), or a
            resblocks `Network`.
        path: str or path. The output: a folder for "savedmodel", a file
            for the others (the suffix, `.onnx`, `.tflite` or `.xml`, is
            added when missing).
        format: str. "savedmodel", "onnx", "litert" or "openvino".
        fold_bn: bool. Fold batch norm into the convolutions first.
        force: bool. Replace an existing output.
        images: folder or None. A class-per-subfolder folder to check the
            export on; None checks on the validation images of the run
            `model` is in (its data.json), else on generated images.
        int8: bool. Quantize to int8 after training (LiteRT, OpenVINO).
        calibration: folder. With `int8`: the images to calibrate on.
        allow_plugins: bool. Import the run's recipe plugins first.

    Returns:
        An `ExportResult`.

    Raises:
        ExportError: the format, the packages, the model or the path cannot
            be used; `VerificationError`: the runtime disagrees with Keras.
            Either way nothing is written.
    """
    if keras.config.backend() != "tensorflow":
        # Every format goes through TensorFlow's converters, and so do the
        # checks against Keras; the .keras file is the same on every backend.
        raise ExportError(
            f"Exporting runs on the TensorFlow backend, and Keras runs on "
            f"{keras.config.backend()} here. Run `resblocks --backend tensorflow export ...` "
            "(or KERAS_BACKEND=tensorflow): a model trained on any backend loads there."
        )
    fmt = get_format(format)
    if int8 and not fmt.int8:
        raise ExportError(
            f"--int8 is offered for LiteRT and OpenVINO, not {fmt.title}. "
            "Choose --format litert or openvino, or leave --int8 out."
        )
    if int8 and calibration is None:
        raise ExportError("--int8 needs --calibration DIR: a folder of images to calibrate on.")
    check_packages(fmt, int8=int8)
    path = output_path(fmt, path)
    outputs = fmt.outputs(path)
    existing = [p for p in outputs if p.exists() or p.is_symlink()]
    if existing and not force:
        raise ExportError(
            f"'{existing[0]}' exists. Pass --force (force=True) to replace it, "
            "or choose another --out."
        )

    fit = run_eval_spec(model)
    network = _classifier(model, allow_plugins)
    size = saved.image_size(network)
    reference = serving_model(network)
    folded = fold_batchnorm(network) if fold_bn else None
    exported = serving_model(folded.model) if folded else reference
    check = (
        image_sources.folder_images(calibration, size, limit=CALIBRATION_IMAGES, fit=fit)
        if int8
        else image_sources.folder_images(images, size, limit=CHECK_IMAGES, fit=fit)
        if images is not None
        else _run_validation_images(model, size, fit) or image_sources.generated_images(size)
    )
    names = saved.class_names(network)
    metadata = {
        "format": fmt.name,
        "class_names": names,
        "image_size": list(size),
        "input": "float32 RGB pixels 0-255, (batch, height, width, 3), any batch size",
        "source": os.fspath(model) if not isinstance(model, keras.Model) else model.name,
        "folded_bn": bool(folded),
        "int8": int8,
        **eval_metadata(fit, size),
    }

    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.export-", dir=_existing_ancestor(path)))
    try:
        staged = staging / path.name
        write(fmt, exported, staged, metadata, check.images if int8 else None)
        runner = load(fmt, staged)
        expected = reference.predict(check.images, batch_size=32, verbose=0)
        got = runner.run(check.images)
        difference, agreement = _compare(fmt, runner.runtime, expected, got, check, names, int8)
        path.parent.mkdir(parents=True, exist_ok=True)
        _move_into_place(staging, fmt.outputs(staged), outputs)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ExportResult(
        path,
        outputs,
        fmt,
        runner.runtime,
        f"images from {check.source}" if check.source != "generated images" else check.source,
        len(check.images),
        difference,
        agreement,
        folded.folded if folded else 0,
        int8,
    )


def serving_model(network: keras.Model) -> keras.Model:
    """`network` taking raw 0-255 pixels: itself if its preprocessing is inside, else wrapped."""
    if network.preprocessing is not None or network.input_convention == "none":
        return network
    inputs = keras.Input(shape=network.input_shape[1:], name="image")
    outputs = network(Preprocess(network.input_convention, name="preprocess")(inputs))
    return keras.Model(inputs, outputs, name=network.name)


def eval_metadata(fit: EvalSpec | None, size: tuple[int, int]) -> dict:
    """The metadata's `eval` (the run's `train.eval`, every key) and `eval_note`, in words.

    The exported graph takes images already at `size`, as the `.keras`
    model does: resizing and cropping an image of any size happen before
    it, in the reader (the crop's place depends on each image's own shape,
    and a fixed input keeps every runtime's graph static), so they are
    recorded here for whoever feeds the model, and `resblocks predict`
    applies them.
    """
    fit = fit or EvalSpec()
    return {"eval": fit.model_dump(mode="json"), "eval_note": fit.describe(size)}


def _run_validation_images(model, size: tuple[int, int], fit) -> image_sources.Batch | None:
    if isinstance(model, keras.Model):
        return None
    return image_sources.run_validation_images(model, size, limit=CHECK_IMAGES, fit=fit)


def _classifier(model, allow_plugins: bool) -> Network:
    network = saved.load_trained(model, allow_plugins=allow_plugins)
    where = f"'{model}'" if not isinstance(model, keras.Model) else f"The model '{model.name}'"
    if not isinstance(network, Network):
        raise ExportError(
            f"{where} is not a resblocks model (it is a {type(network).__name__}). Export a "
            ".keras file written by `resblocks train` or a model made by `registry.build`."
        )
    if network.head is None or network.features:
        raise ExportError(
            f"{where} has no classifier head to export (it returns feature maps). Export a "
            "model with its head, as `resblocks train` saves it."
        )
    if network.input_shape[-1] != 3:
        # Every format's metadata, runtime check and `predict` on an export speak RGB.
        raise ExportError(
            f"{where} takes {network.input_shape[-1]}-channel images; exports take RGB (3 "
            "channels). Train an RGB recipe (grayscale data is repeated to RGB) to export it."
        )
    return network


def _compare(fmt, runtime, expected, got, check, names, int8) -> tuple[float, float]:
    """(largest difference, top-1 agreement); a float32 export outside the bounds raises."""
    if got.shape != expected.shape:
        raise VerificationError(
            f"The {fmt.title} export gives outputs of shape {got.shape} in {runtime}; Keras "
            f"gives {expected.shape}. Nothing was written."
        )
    difference = np.abs(got.astype("float64") - expected)
    same = got.argmax(axis=1) == expected.argmax(axis=1)
    largest = float(difference.max())
    if not int8 and (largest > TOLERANCE or not same.all()):
        image, label = np.unravel_index(int(difference.argmax()), difference.shape)
        raise VerificationError(
            f"The {fmt.title} export disagrees with Keras when run in {runtime} on "
            f"{check.source}: largest difference {largest:.3g} (tolerance {TOLERANCE:g}) for "
            f"class '{names[label]}' of {check.paths[image]} (Keras {expected[image, label]:.6f}, "
            f"{fmt.title} {got[image, label]:.6f}); top-1 labels differ on {int((~same).sum())} "
            f"of {len(same)} images. Nothing was written. Try again with --no-fold-bn; if it "
            "still differs, the runtime computes this network differently: report it."
        )
    return largest, float(same.mean())


def _existing_ancestor(path: Path) -> Path:
    """The nearest folder above `path` that exists: staging there leaves no new folder behind."""
    parent = path.absolute().parent
    while not parent.is_dir():
        parent = parent.parent
    return parent


def _move_into_place(staging: Path, staged: list[Path], outputs: list[Path]) -> None:
    """Renames the staged files onto the outputs; replaced ones go to the staging folder first."""
    trash = staging / ".replaced"
    trash.mkdir()
    for i, output in enumerate(outputs):
        if output.exists() or output.is_symlink():
            os.replace(output, trash / str(i))
    for source, output in zip(staged, outputs):
        os.replace(source, output)
