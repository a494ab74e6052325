"""One writer per export format: a Keras model that takes raw pixels, written with its metadata.

Each writes through `keras.Model.export` (the model's `call` in inference
mode, the batch dimension left open), then puts the metadata where the
format keeps it: ONNX's `metadata_props`, OpenVINO's `rt_info`, a JSON
file in a SavedModel's `assets.extra/` (TF Serving's folder for extra
files), a JSON sidecar beside a LiteRT file. With `calibration` images,
LiteRT and OpenVINO are quantized to int8 after training.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np

from registry.deploy.formats import SAVEDMODEL_METADATA, SIDECAR, Format

METADATA_KEY = "resblocks"  # the key of the metadata JSON in ONNX and OpenVINO


def write(
    fmt: Format,
    model: keras.Model,
    path: Path,
    metadata: dict,
    calibration: np.ndarray | None = None,
) -> None:
    """Writes `model` as `fmt` to `path` (which must not exist), metadata included."""
    # Keras' ONNX export refuses a model that was never called (a freshly
    # folded copy): one call on a blank image marks it, and costs little.
    model(np.zeros((1, *model.input_shape[1:]), "float32"), training=False)
    WRITERS[fmt.name](model, path, metadata, calibration)


def _savedmodel(model: keras.Model, path: Path, metadata: dict, calibration) -> None:
    model.export(str(path), format="tf_saved_model", verbose=False)
    (path / SAVEDMODEL_METADATA).parent.mkdir(parents=True, exist_ok=True)
    (path / SAVEDMODEL_METADATA).write_text(json.dumps(metadata, indent=1) + "\n")


def _onnx(model: keras.Model, path: Path, metadata: dict, calibration) -> None:
    import logging

    import onnx

    logging.getLogger("tf2onnx").setLevel(logging.ERROR)  # its per-op progress is noise here
    model.export(str(path), format="onnx", verbose=False)
    proto = onnx.load(str(path))
    entry = proto.metadata_props.add()
    entry.key, entry.value = METADATA_KEY, json.dumps(metadata)
    onnx.save(proto, str(path))


def _litert(model: keras.Model, path: Path, metadata: dict, calibration) -> None:
    options = {}
    if calibration is not None:
        import tensorflow as tf

        def representative():  # one image at a time, as the converter's calibration wants
            for image in calibration:
                yield [image[None].astype("float32")]

        # Weights and activations in int8; the input stays float 0-255 pixels,
        # so the file takes the same images as the float one.
        options = {
            "optimizations": [tf.lite.Optimize.DEFAULT],
            "representative_dataset": representative,
        }
    model.export(str(path), format="litert", verbose=False, **options)
    path.with_name(path.name + SIDECAR).write_text(json.dumps(metadata, indent=1) + "\n")


def _openvino(model: keras.Model, path: Path, metadata: dict, calibration) -> None:
    import openvino as ov

    raw = path.with_name("keras-" + path.name)
    model.export(str(raw), format="openvino", verbose=False)
    ov_model = ov.Core().read_model(str(raw))
    if calibration is not None:
        import nncf

        ov_model = nncf.quantize(
            ov_model,
            nncf.Dataset([image[None].astype("float32") for image in calibration]),
            subset_size=len(calibration),
        )
    ov_model.set_rt_info(json.dumps(metadata), METADATA_KEY)
    ov.save_model(ov_model, str(path), compress_to_fp16=False)  # fp16 weights would break 1e-4
    raw.unlink()
    raw.with_suffix(".bin").unlink()


WRITERS: dict[str, Callable[..., None]] = {
    "savedmodel": _savedmodel,
    "onnx": _onnx,
    "litert": _litert,
    "openvino": _openvino,
}
