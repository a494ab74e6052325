"""One loader per runtime: an exported model run where it will be served, with its metadata.

TensorFlow runs a SavedModel, ONNX Runtime an `.onnx`, OpenVINO an `.xml`,
the LiteRT interpreter a `.tflite`. Each `Runner` takes a float32 batch
of raw 0-255 RGB images (NHWC) and returns the class probabilities. All
use every core of the machine (ONNX Runtime's threads do not spin while
idle); OpenVINO is held to float32 arithmetic
(on a CPU with bfloat16 it would otherwise compute in bfloat16).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from registry.deploy.errors import ExportError
from registry.deploy.formats import SAVEDMODEL_METADATA, SIDECAR, Format, check_packages
from registry.deploy.writers import METADATA_KEY


@dataclass
class Runner:
    """A loaded exported model.

    Attributes:
        run: callable. A float32 (batch, height, width, 3) array of 0-255
            pixels to a (batch, classes) array of probabilities.
        metadata: dict. What the export recorded: `class_names`,
            `image_size`, `format`, `source`, `folded_bn`, `int8`.
        runtime: str. The runtime and its version, as shown in messages.
    """

    run: Callable[[np.ndarray], np.ndarray]
    metadata: dict
    runtime: str


def load(fmt: Format, path: str | os.PathLike) -> Runner:
    """The exported model at `path` (of format `fmt`), ready to run in its own runtime."""
    check_packages(fmt)
    try:
        return LOADERS[fmt.name](Path(path))
    except ExportError:
        raise
    except Exception as error:  # each runtime has its own errors for a damaged file
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise ExportError(
            f"{fmt.title} file '{os.fspath(path)}' cannot be loaded by {fmt.runtime}: {reason}. "
            "Export it again with `resblocks export`."
        ) from error


def _savedmodel(path: Path) -> Runner:
    import tensorflow as tf

    loaded = tf.saved_model.load(str(path))
    serve = loaded.signatures["serving_default"]  # what TF Serving calls
    (name,) = serve.structured_outputs

    def run(images: np.ndarray) -> np.ndarray:
        return serve(tf.constant(images, tf.float32))[name].numpy()

    metadata = _read_json(path / SAVEDMODEL_METADATA, path)
    return Runner(run, metadata, f"TensorFlow {tf.__version__}")


def _onnx(path: Path) -> Runner:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    # Its threads spin while they wait for work by default: on cores shared
    # with other processes that costs more than it saves (measured here on
    # ResNet-50, batch 16: 0.79x Keras spinning, 1.09x not).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    props = session.get_modelmeta().custom_metadata_map
    if METADATA_KEY not in props:
        raise _no_metadata(path)

    def run(images: np.ndarray) -> np.ndarray:
        return session.run(None, {name: images.astype("float32")})[0]

    return Runner(run, json.loads(props[METADATA_KEY]), f"ONNX Runtime {ort.__version__}")


def _openvino(path: Path) -> Runner:
    import openvino as ov

    core = ov.Core()
    model = core.read_model(str(path))
    if not model.has_rt_info(METADATA_KEY):
        raise _no_metadata(path)
    metadata = json.loads(model.get_rt_info(METADATA_KEY).astype(str))
    compiled = core.compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})

    def run(images: np.ndarray) -> np.ndarray:
        return np.asarray(compiled(images.astype("float32"))[0])

    return Runner(run, metadata, f"OpenVINO {ov.get_version().split('-')[0]}")


def _litert(path: Path) -> Runner:
    from importlib.metadata import version

    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path), num_threads=os.cpu_count())
    metadata = _read_json(path.with_name(path.name + SIDECAR), path)
    (entry,), (exit_,) = interpreter.get_input_details(), interpreter.get_output_details()
    shape = [None]

    def run(images: np.ndarray) -> np.ndarray:
        if shape[0] != images.shape:  # the batch is dynamic: resize once per new size
            interpreter.resize_tensor_input(entry["index"], images.shape)
            interpreter.allocate_tensors()
            shape[0] = images.shape
        interpreter.set_tensor(entry["index"], images.astype("float32"))
        interpreter.invoke()
        return interpreter.get_tensor(exit_["index"]).copy()

    return Runner(run, metadata, f"LiteRT {version('ai-edge-litert')}")


def _read_json(file: Path, model: Path) -> dict:
    if not file.is_file():
        raise _no_metadata(model, file)
    return json.loads(file.read_text(encoding="utf-8"))


def _no_metadata(model: Path, file: Path | None = None) -> ExportError:
    where = f" (no '{file}')" if file is not None else ""
    return ExportError(
        f"'{model}' was not exported by resblocks: it has no class names or input size{where}. "
        "Export the .keras model with `resblocks export`."
    )


LOADERS: dict[str, Callable[[Path], Runner]] = {
    "savedmodel": _savedmodel,
    "onnx": _onnx,
    "litert": _litert,
    "openvino": _openvino,
}
