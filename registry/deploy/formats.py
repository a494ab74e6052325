"""The export formats: what each writes, which runtime runs it, which packages it needs.

One table, `FORMATS`, read by the writers, the runtimes, the command line
and the docs. Each format's files are given by `outputs(path)`: a
SavedModel is a folder, OpenVINO an `.xml` with its `.bin`, LiteRT a
`.tflite` with a JSON sidecar (the format has no place of its own for
class names).
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

from registry.deploy.errors import ExportError, MissingRuntimeError
from registry.names import unknown_name_message

SIDECAR = ".json"  # LiteRT: model.tflite + model.tflite.json
SAVEDMODEL_METADATA = Path("assets.extra") / "resblocks.json"  # TF Serving's extra-assets folder
EXTRA = ".[export]"  # `pip install -e` from a clone: resblocks is not on the package index


@dataclass(frozen=True)
class Format:
    """One export format.

    Attributes:
        name: str. As given to `--format`.
        title: str. As shown to people.
        keras_format: str. `keras.Model.export`'s name for it.
        suffix: str. The output's suffix; "" for a folder.
        runtime: str. The package that runs it, by import name.
        packages: tuple of (import name, pip name). Needed to write and run it.
        int8: bool. Whether `--int8` post-training quantization is offered.
    """

    name: str
    title: str
    keras_format: str
    suffix: str
    runtime: str
    packages: tuple[tuple[str, str], ...]
    int8: bool = False

    def outputs(self, path: Path) -> list[Path]:
        """Every file or folder an export to `path` writes, the main one first."""
        if self.name == "openvino":
            return [path, path.with_suffix(".bin")]
        if self.name == "litert":
            return [path, path.with_name(path.name + SIDECAR)]
        return [path]


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format(
            "savedmodel",
            "SavedModel",
            "tf_saved_model",
            "",
            "tensorflow",
            (("tensorflow", "tensorflow"),),
        ),
        Format(
            "onnx",
            "ONNX",
            "onnx",
            ".onnx",
            "onnxruntime",
            (("onnx", "onnx"), ("tf2onnx", "tf2onnx"), ("onnxruntime", "onnxruntime")),
        ),
        Format(
            "litert",
            "LiteRT",
            "litert",
            ".tflite",
            "ai_edge_litert",
            (("ai_edge_litert", "ai-edge-litert"),),
            int8=True,
        ),
        Format(
            "openvino",
            "OpenVINO",
            "openvino",
            ".xml",
            "openvino",
            (("openvino", "openvino"),),
            int8=True,
        ),
    )
}
INT8_PACKAGES = {"openvino": (("nncf", "nncf"),)}  # OpenVINO quantizes with NNCF


def get_format(name: str) -> Format:
    """The format called `name`; an unknown one is an `ExportError` listing the formats."""
    if name not in FORMATS:
        raise ExportError(
            unknown_name_message("export format", name, FORMATS, listed="Formats")
            + ". Choose one with --format."
        )
    return FORMATS[name]


def check_packages(fmt: Format, *, int8: bool = False) -> None:
    """Raises `MissingRuntimeError` naming what to `pip install` when a package is missing."""
    needed = fmt.packages + (INT8_PACKAGES.get(fmt.name, ()) if int8 else ())
    missing = [pip for module, pip in needed if importlib.util.find_spec(module) is None]
    if missing:
        raise MissingRuntimeError(
            f"Exporting to {fmt.title} needs {', '.join(missing)}, which "
            f"{'is' if len(missing) == 1 else 'are'} not installed. Install "
            f"{'it' if len(missing) == 1 else 'them'} with `pip install {' '.join(missing)}` "
            f"(or every runtime with `pip install -e '{EXTRA}'` in your resblocks clone)."
        )


def output_path(fmt: Format, path: str | os.PathLike) -> Path:
    """`path` with the format's suffix added when it has none; a different suffix is an error."""
    path = Path(path)
    if fmt.suffix == "":
        if path.suffix and path.suffix in {f.suffix for f in FORMATS.values()}:
            raise ExportError(
                f"A SavedModel is a folder; '{path}' ends in {path.suffix}. Give a folder "
                "name with --out, such as exported/sat_savedmodel."
            )
        return path
    if path.suffix == "":
        return path.with_suffix(fmt.suffix)
    if path.suffix != fmt.suffix:
        raise ExportError(
            f"{fmt.title} files end in {fmt.suffix}; --out '{path}' ends in {path.suffix}. "
            f"Give --out {path.with_suffix(fmt.suffix)} (or leave the suffix out)."
        )
    return path


def format_of(path: str | os.PathLike) -> Format | None:
    """The format of an exported file or folder, by its suffix or a SavedModel's saved_model.pb."""
    path = Path(path)
    if path.is_dir():
        return FORMATS["savedmodel"] if (path / "saved_model.pb").is_file() else None
    for fmt in FORMATS.values():
        if fmt.suffix and path.suffix == fmt.suffix:
            return fmt
    return None
