"""Reading PyTorch checkpoints as numpy arrays: `.pth` state dicts and `.safetensors` files.

A torchvision file (`~/.cache/torch/hub/checkpoints/resnet18-f37072fd.pth`)
is a pickled state dict, read with `torch.load(weights_only=True)`, which
runs no code from the file; PyTorch is needed for it. A timm file (a
Hugging Face cache's `model.safetensors`) is read by the `safetensors`
package's numpy API, without PyTorch. Files are told apart by content:
`.pth` is a zip archive holding `data.pkl` (or, before PyTorch 1.6, a bare
pickle), `.safetensors` an 8-byte header length and a JSON header.
"""

import json
import struct
import zipfile
from pathlib import Path

import numpy as np

from registry.errors import WeightsError

TORCH_PICKLE = "torch"  # torch.save: a zip with <name>/data.pkl, or a legacy pickle
SAFETENSORS = "safetensors"

# Names PyTorch checkpoints go by: a damaged one is still reported as one.
TORCH_SUFFIXES = (".pth", ".pt", ".bin", ".ckpt")

# The wrappers training scripts put around a state dict.
WRAPPERS = ("state_dict", "model", "state_dict_ema", "model_ema")


def torch_file_kind(path: Path, head: bytes) -> str | None:
    """TORCH_PICKLE or SAFETENSORS if the file is one, else None; `head` is its first 16 bytes."""
    if path.suffix == ".safetensors":
        return SAFETENSORS  # read by its own reader, whose errors say what is wrong
    if head.startswith(b"PK"):
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
        except (zipfile.BadZipFile, OSError, EOFError):
            return TORCH_PICKLE if path.suffix in TORCH_SUFFIXES else None
        return TORCH_PICKLE if any(n.endswith("data.pkl") for n in names) else None
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return TORCH_PICKLE  # a pickle: PyTorch's format before 1.6
    if len(head) >= 9 and head[8:9] == b"{":
        (length,) = struct.unpack("<Q", head[:8])
        if 2 <= length <= path.stat().st_size - 8:
            return SAFETENSORS
    return None


def read_torch_file(path: Path, kind: str) -> dict[str, np.ndarray]:
    """The file's tensors by key, as float32 numpy arrays (integer buffers kept as they are).

    Raises:
        WeightsError: the reader is not installed, or the file is truncated,
            damaged, or holds no state dict.
    """
    tensors = _read_safetensors(path) if kind == SAFETENSORS else _read_pth(path)
    if not tensors:
        raise WeightsError(f"Cannot load {path}: the file holds no tensors.")
    return {
        key: value.astype("float32") if np.issubdtype(value.dtype, np.floating) else value
        for key, value in tensors.items()
    }


def _read_safetensors(path: Path) -> dict[str, np.ndarray]:
    try:
        from safetensors.numpy import load_file
    except ImportError:
        raise WeightsError(
            f"Cannot load {path}: reading .safetensors files needs the `safetensors` package. "
            "Install it: pip install safetensors"
        ) from None
    try:
        return dict(load_file(str(path)))
    except Exception as error:  # noqa: BLE001 - SafetensorError, OSError, a bad header, ...
        raise WeightsError(
            f"Cannot load {path}: the .safetensors file is truncated or damaged ({error}; "
            f"{path.stat().st_size:,} bytes on disk, header {_header_summary(path)}). Download "
            "or copy it again."
        ) from None


def _read_pth(path: Path) -> dict[str, np.ndarray]:
    try:
        import torch
    except ImportError:
        raise WeightsError(
            f"Cannot load {path}: a PyTorch .pth file, which only PyTorch can read. Install it "
            "(pip install torch), or convert the file once where PyTorch is installed: "
            "safetensors.torch.save_file(torch.load(path, weights_only=True), 'model.safetensors')"
            ", then load the .safetensors file."
        ) from None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - RuntimeError, UnpicklingError, EOFError, ...
        raise WeightsError(
            f"Cannot load {path}: PyTorch cannot read it ({type(error).__name__}: "
            f"{str(error).splitlines()[0][:200]}). The file is truncated, damaged, or holds "
            "objects other than tensors; download or copy it again."
        ) from None
    for wrapper in WRAPPERS:
        if isinstance(state, dict) and isinstance(state.get(wrapper), dict):
            state = state[wrapper]
            break
    if not isinstance(state, dict):
        raise WeightsError(
            f"Cannot load {path}: it holds a {type(state).__name__}, not a state dict (a mapping "
            "of names to tensors). Save `model.state_dict()`, not the model."
        )
    arrays = {}
    for key, value in state.items():
        if not isinstance(value, torch.Tensor):
            continue
        if value.is_floating_point():
            value = value.float()
        arrays[key.removeprefix("module.")] = value.numpy()
    return arrays


def _header_summary(path: Path) -> str:
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        try:
            header = json.loads(f.read(length))
        except ValueError:
            return f"of {length:,} bytes, unreadable"
    return f"naming {len(header)} tensors"
