"""Readers of the files the classic image data sets ship as, trusting nothing in them.

- IDX (MNIST, Fashion-MNIST; LeCun's format, gzipped or raw): the magic
  number, the number of dimensions and each size are checked against the
  bytes that follow, so a truncated or padded file is refused.
- `mnist.npz` (what `keras.datasets.mnist.load_data()` downloads): read with
  `allow_pickle=False`, the four arrays' keys, shapes and types checked.
- CIFAR-10 and CIFAR-100's python pickles: a pickle can run any code while it
  is read, so they go through `SafeUnpickler`, which admits only what those
  files hold (dicts, lists, bytes, numbers and numpy arrays of numbers) and
  refuses anything else before it runs.

Every refusal is one `DataError` that names the file and what is wrong.
"""

from __future__ import annotations

import codecs
import gzip
import io
import os
import pickle
import zipfile
import zlib

import numpy as np

from registry.training.data import DataError

IDX_UBYTE = 0x08  # the type byte of unsigned bytes, the only type the image sets use
_GZIP_MAGIC = b"\x1f\x8b"


def _numpy_reconstruct():
    """numpy's array-unpickling function, under its numpy 2 name or its numpy 1 one."""
    try:
        from numpy._core.multiarray import _reconstruct
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import _reconstruct
    return _reconstruct


def _numpy_frombuffer():
    try:
        from numpy._core.numeric import _frombuffer
    except ImportError:  # numpy < 2
        from numpy.core.numeric import _frombuffer
    return _frombuffer


# Everything a CIFAR pickle may name: numpy's array and dtype reconstruction,
# under the module names numpy 1 and 2 write, and `_codecs.encode`, which
# protocol 2 uses to write `bytes` from Python 3. Each builds data, never runs
# code of the file's choosing. Containers, strings, bytes and numbers need no
# names at all.
_ALLOWED = {
    ("numpy", "ndarray"): lambda: np.ndarray,
    ("numpy", "dtype"): lambda: np.dtype,
    ("numpy.core.multiarray", "_reconstruct"): _numpy_reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _numpy_reconstruct,
    ("numpy.core.numeric", "_frombuffer"): _numpy_frombuffer,
    ("numpy._core.numeric", "_frombuffer"): _numpy_frombuffer,
    ("_codecs", "encode"): lambda: codecs.encode,
}


class RefusedPickle(pickle.UnpicklingError):
    """A pickle named something a data file has no need for; nothing of it ran."""


class SafeUnpickler(pickle.Unpickler):
    """An unpickler for data files: numpy arrays and builtin containers, nothing else.

    `find_class` is where a pickle gets hold of any callable it later calls
    (`os.system`, `builtins.exec`, a class's `__reduce__`); it is refused
    here, before anything of the file is called.
    """

    def find_class(self, module: str, name: str):
        make = _ALLOWED.get((module, name))
        if make is None:
            raise RefusedPickle(
                f"it asks for `{module}.{name}`, which a data file has no need for (it could "
                "run code), so it was refused without running anything"
            )
        return make()


def read_idx(path: str | os.PathLike, *, ndim: int) -> np.ndarray:
    """The uint8 array of an IDX file (gzipped or raw), its header checked against its bytes.

    Args:
        path: str or path. An `*-idx3-ubyte[.gz]` (images, `ndim=3`) or
            `*-idx1-ubyte[.gz]` (labels, `ndim=1`) file.
        ndim: int. The number of dimensions the file must have.

    Raises:
        DataError: the file is unreadable, not IDX, of another type or
            dimension, or its length differs from what its header says.
    """
    raw = _read_bytes(path)
    if len(raw) < 4 or raw[:2] != b"\x00\x00":
        _refuse(path, f"not an IDX file: it starts with {raw[:4].hex() or 'nothing'}, not 0000")
    kind, dims = raw[2], raw[3]
    if kind != IDX_UBYTE:
        _refuse(path, f"its IDX type byte is 0x{kind:02x}; image sets store unsigned bytes (0x08)")
    if dims != ndim:
        _refuse(path, f"it has {dims} dimensions, where {ndim} were expected")
    header = 4 + 4 * dims
    if len(raw) < header:
        _refuse(path, f"truncated: {len(raw)} bytes, shorter than its own header")
    shape = tuple(int(size) for size in np.frombuffer(raw, ">u4", dims, offset=4))
    expected = header + int(np.prod(shape, dtype=np.int64))
    if len(raw) != expected:
        what = "truncated" if len(raw) < expected else "longer than its header says"
        _refuse(
            path,
            f"{what}: its header says {' x '.join(map(str, shape))} bytes of data "
            f"({expected} bytes in all), but it holds {len(raw)}",
        )
    return np.frombuffer(raw, np.uint8, offset=header).reshape(shape)


def read_idx_pair(
    images_path: str | os.PathLike, labels_path: str | os.PathLike, num_classes: int
) -> tuple[np.ndarray, np.ndarray]:
    """(images (n, h, w) uint8, labels (n,) uint8) of an IDX image file and its label file."""
    images = read_idx(images_path, ndim=3)
    labels = read_idx(labels_path, ndim=1)
    if len(images) != len(labels):
        _refuse(
            labels_path,
            f"it holds {len(labels)} labels, but '{os.fspath(images_path)}' holds "
            f"{len(images)} images",
        )
    check_labels(labels_path, labels, num_classes)
    return images, labels


def read_mnist_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """The arrays `x_train`, `y_train`, `x_test`, `y_test` of keras' `mnist.npz`, checked."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            keys = set(npz.files)
            wanted = {"x_train", "y_train", "x_test", "y_test"}
            if not wanted <= keys:
                _refuse(
                    path,
                    f"it lacks {', '.join(sorted(wanted - keys))} (it holds "
                    f"{', '.join(sorted(keys)) or 'nothing'})",
                )
            arrays = {key: npz[key] for key in sorted(wanted)}
    except DataError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as error:
        _refuse(path, f"not a readable .npz file ({type(error).__name__}: {error})")
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.dtype != np.uint8 or x.ndim != 3:
            _refuse(path, f"x_{split} is {x.dtype} {x.shape}; expected uint8 (n, 28, 28)")
        if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer) or len(y) != len(x):
            _refuse(
                path,
                f"y_{split} is {y.dtype} {y.shape}; expected one integer label for each of the "
                f"{len(x)} images of x_{split}",
            )
        check_labels(path, y, 10)
    return arrays


def read_cifar_batch(
    path: str | os.PathLike, label_key: str, num_classes: int
) -> tuple[np.ndarray, np.ndarray]:
    """(images (n, 32, 32, 3) uint8, labels (n,) int64) of one CIFAR python pickle.

    Args:
        path: str or path. `data_batch_1`... or `test_batch` (CIFAR-10),
            `train` or `test` (CIFAR-100).
        label_key: str. "labels" (CIFAR-10) or "fine_labels" (CIFAR-100).
        num_classes: int. Labels must lie in [0, num_classes).
    """
    batch = read_pickle(path)
    data = _entry(path, batch, "data")
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2:
        _refuse(path, f"its `data` is {_describe(data)}; expected a uint8 array (n, 3072)")
    if data.shape[1] != 3 * 32 * 32:
        _refuse(path, f"its `data` rows hold {data.shape[1]} values; CIFAR's hold 3072 (3x32x32)")
    labels = _entry(path, batch, label_key)
    if not isinstance(labels, (list, np.ndarray)) or not all(
        isinstance(label, (int, np.integer)) for label in labels
    ):
        _refuse(path, f"its `{label_key}` is {_describe(labels)}; expected a list of ints")
    labels = np.asarray(labels, dtype=np.int64)
    if len(labels) != len(data):
        _refuse(path, f"it holds {len(data)} images but {len(labels)} `{label_key}`")
    check_labels(path, labels, num_classes)
    # Stored as planes (red, green, blue), each 32 rows of 32.
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels


def read_cifar_names(path: str | os.PathLike, key: str, count: int) -> tuple[str, ...]:
    """The class names in a CIFAR meta pickle (`label_names`, `fine_label_names`)."""
    meta = read_pickle(path)
    names = _entry(path, meta, key)
    if (
        not isinstance(names, list)
        or len(names) != count
        or not all(isinstance(name, (bytes, str)) for name in names)
    ):
        _refuse(path, f"its `{key}` is {_describe(names)}; expected {count} names")
    return tuple(name.decode("utf-8") if isinstance(name, bytes) else name for name in names)


def read_pickle(path: str | os.PathLike) -> dict:
    """A data pickle read with `SafeUnpickler`: a dict, or `DataError`.

    Nothing of a refused file runs.
    """
    raw = _read_bytes(path)
    try:
        # CIFAR's files were written by Python 2: their strings are bytes.
        value = SafeUnpickler(io.BytesIO(raw), encoding="bytes").load()
    except RefusedPickle as error:
        _refuse(path, str(error))
    except Exception as error:  # noqa: BLE001 - a broken pickle raises many kinds
        _refuse(path, f"not a readable pickle ({type(error).__name__}: {error})")
    if not isinstance(value, dict):
        _refuse(path, f"it holds {_describe(value)}, where a dict was expected")
    return value


def check_labels(path: str | os.PathLike, labels: np.ndarray, num_classes: int) -> None:
    """`DataError` unless every label lies in [0, num_classes)."""
    if len(labels) and (labels.min() < 0 or labels.max() >= num_classes):
        bad = sorted({int(v) for v in labels if not 0 <= v < num_classes})
        _refuse(path, f"it holds labels {bad[:5]} outside 0-{num_classes - 1}")


def _entry(path, mapping: dict, key: str):
    for candidate in (key.encode(), key):
        if candidate in mapping:
            return mapping[candidate]
    held = ", ".join(
        sorted(k.decode("utf-8", "replace") if isinstance(k, bytes) else str(k) for k in mapping)
    )
    _refuse(path, f"it has no `{key}` entry (it holds {held or 'nothing'})")


def _read_bytes(path: str | os.PathLike) -> bytes:
    """The file's bytes, gunzipped when it is gzip (by its content, not its name)."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
        if raw[:2] == _GZIP_MAGIC:
            return gzip.decompress(raw)
        return raw
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        _refuse(path, f"a damaged or truncated gzip file ({type(error).__name__}: {error})")
    except OSError as error:
        _refuse(path, f"it cannot be read ({error.strerror or error})")


def _describe(value) -> str:
    if isinstance(value, np.ndarray):
        return f"a {value.dtype} array {value.shape}"
    return f"a {type(value).__name__}"


def _refuse(path, problem: str):
    raise DataError(
        f"The data file '{os.fspath(path)}' cannot be used: {problem}. Replace it with a fresh "
        "copy of the data set."
    ) from None
