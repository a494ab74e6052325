"""Loading weights into a built model, and whole `.keras` models, with errors that say what differs.

Keras' own `load_weights` assigns layer by layer: a file of another
architecture can fail half-way and leave a half-loaded model, and a file
with more layers than the model loads "successfully" into whatever fits.
Here the file's layout is compared with the model's first, every array is
read and checked (shape, finite values) before the first is assigned, and
any failure leaves the model as it was.

Entry points: `load_weights(model, path)` and `load_model(path)`. Files
are told apart by content, not by name: a `.keras` archive (zip), a Keras 3
weights file (HDF5 with `layers/.../vars`), or a Keras 2 HDF5 file (with
`layer_names`, as keras.applications ships), which `_load_legacy_h5`
handles, or a PyTorch checkpoint (a torchvision `.pth` state dict or a
timm `.safetensors` file), which `torch_weights` handles.
"""

import contextlib
import json
import re
import tempfile
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import h5py
import keras
import numpy as np

from registry.errors import WeightsError
from registry.keras_compat import weights_layout
from registry.pretrained.torch_files import SAFETENSORS, TORCH_PICKLE, torch_file_kind
from registry.pretrained.torch_weights import load_torch_weights

KERAS_ZIP = "keras"  # a .keras archive: config.json + model.weights.h5
WEIGHTS_H5 = "weights_h5"  # Keras 3 `save_weights`: layers/<layer>/.../vars/<i>
LEGACY_H5 = "legacy_h5"  # Keras 2 / keras.applications: layer_names, weight_names

_ARCHIVE_WEIGHTS = "model.weights.h5"
_UNCHANGED = "The model was left unchanged."


def load_weights(model: keras.Model, path: "str | Path", *, allow_new_head: bool = False) -> None:
    """Loads a weights file into a built model, all or nothing.

    Args:
        model: a built keras.Model (what `build()` returns).
        path: a `.weights.h5` file (`model.save_weights`), a `.keras` model
            saved from the same architecture, a keras.applications
            (Keras 2 HDF5) ImageNet file for resnet50/101/152, their V2 and
            inception_resnet_v2 (see `registry.pretrained.keras_applications`), or a
            torchvision `.pth` / timm `.safetensors` checkpoint for resnet18,
            resnet34, the `_tv` ResNets, ResNeXts, Wide ResNets, resnet50d
            and seresnet50 (see `registry.pretrained.torch_weights`), or a
            facenet-pytorch `.pt` file for facenet_inception_resnet_v1
            (`registry.pretrained.facenet_layout`).
        allow_new_head: bool. If only the head differs (the file was saved
            with another number of classes), load the rest and leave the
            head at its initialization, with a warning.

    A compiled model whose file also holds optimizer state gets that state
    too, by Keras' loader, once the layers' layout has been checked.

    Raises:
        WeightsError: the file is missing, not a weights file, truncated or
            corrupt, or saved from another architecture; the message names
            the first variable that differs and the counts. The model is
            then left unchanged.
    """
    path = Path(path)
    kind = file_kind(path)
    if kind == LEGACY_H5:
        _load_legacy_h5(model, path, allow_new_head=allow_new_head)
        return
    if kind in (TORCH_PICKLE, SAFETENSORS):
        load_torch_weights(model, path, kind, allow_new_head=allow_new_head)
        return
    layout = weights_layout(model)
    layers = {group: v for group, v in (layout or {}).items() if _is_layer_group(group)}
    if layout is None or not all(
        isinstance(x, keras.Variable) for v in layers.values() for x in v.values()
    ):
        # A layer saves more than its variables: only Keras knows how.
        _keras_load_weights(model, path, kind)
        return
    with _open_weights(path, kind) as store:
        found = _file_layout(store)
        skip = _compare(model, path, layers, found, store, allow_new_head)
        arrays = _read_arrays(path, store, layers, skip)
        # Optimizer state (a compiled, trained model) that the file also holds.
        state = [group for group in layout if not _is_layer_group(group) and group in found]
    if state and not skip:
        # The layout is checked; Keras also restores the optimizer.
        _keras_load_weights(model, path, kind)
        return
    for variable, array in arrays:
        variable.assign(array)


def _is_layer_group(group: str) -> bool:
    return group == "" or group.startswith("layers/")


def load_model(
    path: "str | Path",
    *,
    safe_mode: bool = True,
    custom_objects: dict | None = None,
    compile: bool = True,
) -> keras.Model:
    """Loads a whole model saved with `model.save("name.keras")`.

    Args:
        path: the `.keras` file.
        safe_mode: bool. True (the default) refuses files that would run
            code when loaded (a Lambda layer's bytecode). Set False only
            for files you trust.
        custom_objects: dict or None. Classes not registered with Keras.
        compile: bool. Restore the optimizer and loss as saved.

    The model is rebuilt under the dtype policy it was built under (the one
    its layers share, `mixed_bfloat16` for a run with `mixed_precision:`),
    not this process's: a block that makes inner layers without passing its
    policy on gets them back in the dtype they were trained in.

    Raises:
        WeightsError: the file is missing, not a `.keras` archive,
            truncated or damaged, holds code that safe mode refuses, or
            uses a class that is not registered.
    """
    path = Path(path)
    kind = file_kind(path)
    if kind != KERAS_ZIP:
        raise WeightsError(
            f"Cannot load {path} as a model: it is a weights file ({_describe(kind)}), which holds "
            "no architecture. Build the model from its recipe and load the weights into it: "
            "build(recipe, weights=path) or load_weights(model, path)."
        )
    try:
        with _named(path, ".keras") as keras_path, _global_policy(_built_under(path)):
            return keras.saving.load_model(
                keras_path, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode
            )
    except Exception as error:  # Keras raises many kinds; all mean "cannot load"
        raise WeightsError(
            f"Cannot load {path} as a model: {_load_model_problem(error, path)}"
        ) from error


def file_kind(path: Path) -> str:
    """KERAS_ZIP, WEIGHTS_H5 or LEGACY_H5, or a WeightsError saying what the file is instead."""
    if not path.exists():
        raise WeightsError(
            f"Cannot load {path}: no such file. Give the path of a .weights.h5 or .keras file."
        )
    if path.is_dir():
        raise WeightsError(
            f"Cannot load {path}: this is a directory. Give the path of a .weights.h5 or .keras "
            "file."
        )
    size = path.stat().st_size
    if size == 0:
        raise WeightsError(
            f"Cannot load {path}: the file is empty (0 bytes); it was not written completely. Save "
            "it again."
        )
    with open(path, "rb") as f:
        head = f.read(16)
    torch_kind = torch_file_kind(path, head)
    if torch_kind is not None:
        return torch_kind
    head = head[:8]
    if head.startswith(b"PK"):
        return _check_archive(path, size)
    if h5py.is_hdf5(path):
        return _check_h5(path, size)
    raise WeightsError(
        f"Cannot load {path}: not a weights file. It is neither HDF5 (.weights.h5) nor a .keras "
        "archive: "
        f"it starts with the bytes {head!r}. Give the file written by model.save_weights() or "
        "model.save()."
    )


@dataclass(frozen=True)
class _Entry:
    """What the file holds for one group: its arrays' shapes and a readable name."""

    shapes: dict[str, tuple]
    name: str
    bfloat16: bool


def _file_layout(store: h5py.File) -> dict[str, _Entry]:
    """{group path: _Entry} for every group of the file with weight arrays."""
    layout: dict[str, _Entry] = {}

    def visit(name, obj):
        if isinstance(obj, h5py.Group) and (name == "vars" or name.endswith("/vars")) and len(obj):
            path = name[: -len("vars")].rstrip("/")
            shapes, bf16 = {}, False
            for key, dataset in obj.items():
                if isinstance(dataset, h5py.Dataset):
                    shapes[key] = tuple(dataset.shape)
                    bf16 = bf16 or dataset.attrs.get("dtype") == "bfloat16"
            layout[path] = _Entry(shapes, _readable(store, path), bf16)

    store.visititems(visit)
    return layout


def _readable(store: h5py.File, path: str) -> str:
    """'layers/res_block_7/conv1/conv' -> 'layer4_block1/conv1/conv', from Keras' stored names."""
    parts, names = path.split("/"), []
    for depth in range(2 if parts[0] == "layers" else 1, len(parts) + 1):
        group = store.get("/".join(parts[:depth] + ["vars"]))
        name = group.attrs.get("name") if group is not None else None
        names.append(str(name) if name is not None else parts[depth - 1])
    return "/".join(names)


def _layer_of(variables: dict[str, keras.Variable]) -> str:
    first = next(iter(variables.values()))
    return first.path.split("/")[0]


def _compare(model, path: Path, expected, found, store, allow_new_head: bool) -> set[str]:
    """Raises WeightsError at the first difference; returns the groups to skip (a new head)."""
    differences: list[tuple[str, str, str]] = []  # (group, model layer, text)
    for group, variables in expected.items():
        layer = _layer_of(variables)
        entry = found.get(group)
        if entry is None:
            differences.append(
                (
                    group,
                    layer,
                    f"the file has no weights for layer '{layer}' (it lacks {group}/vars)",
                )
            )
            continue
        if len(entry.shapes) != len(variables):
            differences.append(
                (
                    group,
                    layer,
                    (
                        f"layer '{layer}' ({entry.name} in the file) has {len(variables)} weight "
                        "arrays in the model "
                        f"but {len(entry.shapes)} in the file"
                    ),
                )
            )
            continue
        for key, variable in variables.items():
            shape = entry.shapes.get(key)
            if shape != tuple(variable.shape):
                there = (
                    "" if entry.name.split("/")[0] == layer else f", where it holds {entry.name}"
                )
                differences.append(
                    (
                        group,
                        layer,
                        (
                            f"variable '{variable.path}' has shape {tuple(variable.shape)} in the "
                            f"model but {shape} in the file{there}"
                        ),
                    )
                )
                break
    extra = [group for group in found if group not in expected and group.startswith("layers/")]
    for group in extra:
        differences.append(
            (
                group,
                found[group].name.split("/")[0],
                (f"the file has weights ({found[group].name}) for which the model has no layer"),
            )
        )
    if not differences:
        return set()
    head_only = all(layer == "head" for _, layer, _ in differences)
    if allow_new_head and head_only:
        warnings.warn(
            f"Loaded {path.name} into '{model.name}' except its head, which does not fit the "
            "file's "
            f"(another number of classes?) and keeps its initialization. Train it before use.",
            stacklevel=4,
        )
        return {group for group, _, _ in differences}
    model_arrays = sum(len(v) for v in expected.values())
    file_arrays = sum(len(found[g].shapes) for g in found if g.startswith("layers/") or g == "")
    more = (
        f" ({len(differences) - 1} more difference{'s' if len(differences) > 2 else ''} follow.)"
        if len(differences) > 1
        else ""
    )
    raise WeightsError(
        f"Cannot load {path} into model '{model.name}': the file was saved from another "
        "architecture. "
        f"First difference: {differences[0][2]}.{more} The model has {model_arrays} weight arrays "
        "(in "
        f"{len(expected)} layers and sublayers); the file has {file_arrays} (in {len(found)}). "
        "Build the model from the recipe "
        "(and arguments: num_classes, input channels, overrides) the file was saved with. "
        f"{_UNCHANGED}"
    )


def _read_arrays(
    path: Path, store: h5py.File, expected, skip: set[str]
) -> list[tuple[keras.Variable, np.ndarray]]:
    """Every array the model needs, read and checked before anything is assigned."""
    arrays = []
    for group, variables in expected.items():
        if group in skip:
            continue
        for key, variable in variables.items():
            location = f"{group}/vars/{key}" if group else f"vars/{key}"
            try:
                array = np.asarray(store[location][()])
            except Exception as error:  # noqa: BLE001 - h5py raises OSError, KeyError, RuntimeError
                raise WeightsError(
                    f"Cannot load {path}: the file is corrupt: reading '{variable.path}' "
                    f"({location}) failed: "
                    f"{error}. Save or copy the file again. {_UNCHANGED}"
                ) from None
            if array.dtype.kind == "f" and not np.isfinite(array).all():
                raise WeightsError(
                    f"Cannot load {path}: variable '{variable.path}' holds NaN or infinite values: "
                    "the file "
                    "is corrupt or was saved from a diverged training run. Use an earlier "
                    f"checkpoint. {_UNCHANGED}"
                )
            arrays.append((variable, array))
    return arrays


def _keras_load_weights(model: keras.Model, path: Path, kind: str) -> None:
    """Keras' own loader, for models with custom saving; restores the model if it fails."""
    snapshot = model.get_weights()
    try:
        with _named(path, ".keras" if kind == KERAS_ZIP else ".weights.h5") as keras_path:
            model.load_weights(keras_path)
    except Exception as error:  # whatever failed, the model must not stay half-loaded
        model.set_weights(snapshot)
        raise WeightsError(
            f"Cannot load {path} into model '{model.name}': {error} {_UNCHANGED}"
        ) from error


def _load_legacy_h5(model: keras.Model, path: Path, *, allow_new_head: bool = False) -> None:
    """Keras 2 HDF5 weights (keras.applications' ImageNet files), paired by layer name."""
    from registry.pretrained.keras_applications import load_keras_applications_weights

    load_keras_applications_weights(model, path, allow_new_head=allow_new_head)


def _saved_module(path: Path, class_name: str) -> "str | None":
    """The module a `.keras` file records for a layer class (Keras writes `module:`), or None."""
    stack = [_config(path)]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("class_name") == class_name and isinstance(item.get("module"), str):
                return item["module"]
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


def _config(path: Path) -> "dict | None":
    """The `config.json` of a `.keras` archive, or None where it cannot be read."""
    try:
        with zipfile.ZipFile(path) as archive:
            return json.loads(archive.read("config.json"))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return None  # Keras' own load then says what is wrong


def _built_under(path: Path) -> "str | None":
    """The dtype policy all of a saved model's layers share, or None.

    Keras saves each layer's policy but not the global one it was built
    under; a network that `build()` made under one global policy has it
    on every top-level layer, so their common policy is that one.
    """
    config = _config(path)
    layers = config.get("config", {}).get("layers") if isinstance(config, dict) else None
    if not isinstance(layers, list):
        return None  # a subclassed model: no layer list to read
    names = {
        _policy_name(layer.get("config", {}).get("dtype"))
        for layer in layers
        if isinstance(layer, dict) and layer.get("class_name") != "InputLayer"
    }
    return names.pop() if len(names) == 1 and None not in names else None


def _policy_name(dtype: object) -> "str | None":
    """The name of a serialized dtype policy: a string, or Keras 3's `DTypePolicy` dict."""
    if isinstance(dtype, str):
        return dtype
    if isinstance(dtype, dict) and dtype.get("class_name") == "DTypePolicy":
        name = dtype.get("config", {}).get("name")
        return name if isinstance(name, str) else None
    return None


@contextlib.contextmanager
def _global_policy(name: "str | None") -> Iterator[None]:
    """Keras' global dtype policy set to `name` (None: left as it is), restored after."""
    previous = keras.config.dtype_policy()
    if name is not None:
        keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


@contextlib.contextmanager
def _open_weights(path: Path, kind: str) -> Iterator[h5py.File]:
    """The HDF5 weights of a .weights.h5 file or inside a .keras archive."""
    if kind == KERAS_ZIP:
        with (
            zipfile.ZipFile(path) as archive,
            archive.open(_ARCHIVE_WEIGHTS) as member,
            h5py.File(member, "r") as store,
        ):
            yield store
    else:
        with h5py.File(path, "r") as store:
            yield store


def _check_archive(path: Path, size: int) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            broken = archive.testzip()  # checks every member's CRC: catches flipped bytes
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise WeightsError(
            f"Cannot load {path}: the .keras archive is truncated or damaged ({error}; {size:,} "
            "bytes on disk). "
            "It was probably not written completely: save or copy it again."
        ) from None
    if broken is not None:
        raise WeightsError(
            f"Cannot load {path}: the .keras archive is corrupt: its member {broken} fails its "
            "checksum. Save or copy it again."
        )
    missing = [name for name in ("config.json", _ARCHIVE_WEIGHTS) if name not in names]
    if missing:
        raise WeightsError(
            f"Cannot load {path}: a zip archive, but not a Keras model: it lacks "
            f"{', '.join(missing)}. "
            "Give a file written by model.save('name.keras')."
        )
    return KERAS_ZIP


def _check_h5(path: Path, size: int) -> str:
    try:
        with h5py.File(path, "r") as f:
            if "layer_names" in f.attrs or (
                "model_weights" in f and "layer_names" in f["model_weights"].attrs
            ):
                return LEGACY_H5
            if "layers" in f or "vars" in f:
                return WEIGHTS_H5
            top = ", ".join(list(f.keys())[:8]) or "nothing"
    except OSError as error:
        raise WeightsError(
            f"Cannot load {path}: the HDF5 file is truncated or damaged ({error}; {size:,} bytes "
            "on disk). "
            "It was probably not written completely: save or copy it again."
        ) from None
    raise WeightsError(
        f"Cannot load {path}: an HDF5 file, but not Keras weights: its top level holds {top}, not "
        "`layers`. "
        "Give a file written by model.save_weights('name.weights.h5')."
    )


def _describe(kind: str) -> str:
    return {
        WEIGHTS_H5: "Keras 3 .weights.h5",
        LEGACY_H5: "Keras 2 HDF5 weights",
        KERAS_ZIP: ".keras model",
        TORCH_PICKLE: "PyTorch .pth state dict",
        SAFETENSORS: ".safetensors tensors",
    }[kind]


def _load_model_problem(error: Exception, path: "Path | None" = None) -> str:
    text = str(error)
    if "safe_mode" in text or "unsafe" in text.lower():
        return (
            "it holds Python code (a Lambda layer or a function saved as bytecode), which "
            "safe_mode=True "
            "refuses to run. Load it with load_model(path, safe_mode=False) only if you trust "
            "where it came from."
        )
    missing = re.search(r"Could not locate (?:class|function) '([^']+)'", text)
    if missing or "Unknown layer" in text:
        name = missing.group(1) if missing else "?"
        registered = re.search(
            rf"'class_name': '{re.escape(name)}'.*?'registered_name': '([^']+)'", text
        )
        also = f" (saved as '{registered.group(1)}')" if registered else ""
        module = _saved_module(path, name) if path is not None else None
        if module:
            return (
                f"it uses the class '{name}'{also}, which is not registered in this process. Its "
                f"module is '{module}': import it first (`import {module}`), or list it under the "
                "recipe's `plugins:` and pass --allow-plugins (allow_plugins=True in Python)."
            )
        return (
            f"it uses the class '{name}'{also}, which is not registered in this process. Import "
            "the module that defines it first: for a recipe's plugin blocks, load the recipe "
            "with allow_plugins=True, or give `resblocks evaluate`/`predict` --allow-plugins "
            "(it imports the plugins of the run's recipe.yaml)."
        )
    return (
        "the archive is corrupt or was written by an incompatible version: "
        f"{type(error).__name__}: {text.splitlines()[0] if text else ''}"
    )


@contextlib.contextmanager
def _named(path: Path, suffix: str) -> Iterator[Path]:
    """`path`, or a link to it named with `suffix`, since Keras picks its loader by file name."""
    if path.name.endswith(suffix):
        yield path
        return
    with tempfile.TemporaryDirectory() as folder:
        link = Path(folder) / f"file{suffix}"
        try:
            link.symlink_to(path.resolve())
        except OSError:  # no symlinks (Windows without rights): copy
            link.write_bytes(path.read_bytes())
        yield link
