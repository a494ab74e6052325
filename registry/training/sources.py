"""The one way in for data: what `train` and `evaluate` are given, turned into data sources.

`data` may be an image folder (one subfolder per class), the name of a
classic data set ("fashion_mnist", "mnist", "cifar10", "cifar100"), a folder
holding such a set's files, or `(images, labels)` numpy arrays. Each becomes
an `ImageSource` (`data.ImageFolder` or `arrays.ImageArrays`): labels, class
names, a fingerprint, `subset` to split and `elements` to stream, so
everything after this module (splitting, the resume check, multi-host's
check, the tf.data pipeline) treats every kind the same.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Sequence
from typing import Any

from registry.training import named_sets, rundir
from registry.training.arrays import ImageArrays
from registry.training.data import DataError, ImageSource, scan_image_folder, split_folder
from registry.training.rundir import RunDir, RunDirError

_WORDS = {"train": "training", "validation": "validation"}
# `val=TEST` validates on a named set's test split, as published tables do.
TEST = "test"


def open_source(
    data,
    split: str,
    *,
    skip_bad_images: bool = False,
    class_names: Sequence[str] | None = None,
    download: bool = False,
    role: str = "data",
) -> ImageSource:
    """One source from what a user gave.

    Args:
        data: a data set's name, a folder (of class subfolders, or of a data
            set's files), or `(images, labels)` arrays.
        split: str. The split of a named data set: "train" or "test".
        skip_bad_images: bool. For image folders: leave unreadable images out.
        class_names: sequence of str or None. The classes of arrays' labels.
        download: bool. Let keras download a named set that is not found.
        role: str. "data" or "val", to name arrays in messages.

    Raises:
        DataError: the data cannot be found or used.
    """
    if isinstance(data, (tuple, list)):
        if len(data) != 2:
            raise DataError(
                f"Arrays must be given as a pair (images, labels), as keras.datasets gives them. "
                f"Received: a {type(data).__name__} of {len(data)} items as {role}"
            )
        return ImageArrays.from_arrays(
            data[0], data[1], class_names=class_names, name=f"the arrays given as {role}"
        )
    if not isinstance(data, (str, os.PathLike)):
        raise DataError(
            f"`{role}` must be a folder, a data set's name ({', '.join(named_sets.NAMES)}) or "
            f"(images, labels) arrays. Received: {type(data).__name__}"
        )
    if isinstance(data, str) and data in named_sets.NAMES:
        return named_sets.find(data, download=download).load(split)
    found = named_sets.recognise(data)
    if found is not None:
        return found.load(split)
    return scan_image_folder(data, skip_bad_images=skip_bad_images)


def training_sources(
    data,
    val,
    *,
    val_split: float,
    seed: int,
    skip_bad_images: bool = False,
    class_names: Sequence[str] | None = None,
    download: bool = False,
) -> tuple[ImageSource, ImageSource]:
    """(training, validation) sources of a run.

    `val` None holds out `val_split` of each class of the training data
    (of a named set, its training split: the test split stays unseen);
    "test" is a named set's test split; otherwise `val` is opened like
    `data` and its labels matched to the training classes.

    Raises:
        DataError: the data cannot be found or used, or `class_names` is
            given for data other than arrays.
    """
    if class_names is not None and not isinstance(data, (tuple, list)):
        raise DataError(
            "`class_names` names the classes of arrays' labels; a folder or a named data set "
            f"brings its own. Received: class_names with data={data!r}"
        )
    train = open_source(
        data,
        "train",
        skip_bad_images=skip_bad_images,
        class_names=class_names,
        download=download,
    )
    if val is None:
        return split_folder(train, val_split, seed)
    if isinstance(val, str) and val == TEST and _is_named_split(train):
        return train, open_source(data, TEST, download=download)
    if isinstance(val, (tuple, list)):
        return train, open_source(val, TEST, class_names=train.class_names, role="val")
    held = open_source(val, TEST, skip_bad_images=skip_bad_images, download=download, role="val")
    return train, relabel(held, train.class_names)


def evaluation_source(
    data,
    class_names: Sequence[str],
    *,
    skip_bad_images: bool = False,
    download: bool = False,
) -> ImageSource:
    """What `evaluate` measures on: a named set's test split, a folder, or arrays.

    Labels are matched to the model's `class_names` (a folder's by name).
    """
    source = open_source(
        data, TEST, skip_bad_images=skip_bad_images, class_names=class_names, download=download
    )
    return relabel(source, class_names)


def relabel(source: ImageSource, class_names: Sequence[str]) -> ImageSource:
    """`source` with its labels indexing `class_names` (the model's classes) instead of its own.

    Raises:
        DataError: the source has a class the training data has not.
    """
    if tuple(source.class_names) == tuple(class_names):
        return source
    index = {name: i for i, name in enumerate(class_names)}
    unknown = [name for name in source.class_names if name not in index]
    if unknown:
        raise DataError(
            f"{_capital(source.where)} has class(es) that the training data has not: "
            f"{', '.join(unknown)}. The model knows: {', '.join(class_names)}. Rename or "
            "remove those classes, or train with them."
        )
    labels = tuple(index[source.class_names[label]] for label in source.labels)
    return dataclasses.replace(source, class_names=tuple(class_names), labels=labels)


def describe(train: ImageSource, val: ImageSource, val_given) -> str:
    """The log line that says what trains and what validates."""
    how = f"from {val.where}" if val_given is not None else f"held out of {train.where}"
    if _is_named_split(val) and val.split == TEST:
        how += (
            ": validating on the test split, as published tables do, so it is no longer unseen data"
        )
    skipped = len(set(train.skipped) | set(val.skipped))
    names = train.class_names
    line = (
        f"{len(train)} training and {len(val)} validation images ({how}), "
        f"{len(names)} classes: {', '.join(names[:10])}{', ...' if len(names) > 10 else ''}."
    )
    return line + (f" Skipped {skipped} unreadable images." if skipped else "")


def data_record(data, val, train: ImageSource, validation: ImageSource, spec) -> dict[str, Any]:
    """What `data.json` keeps: where the images came from and a fingerprint of each part.

    `resblocks export` finds a folder run's validation images by `data`,
    `val`, `val_split` and `seed`; a resumed run compares the fingerprints.
    """
    return {
        "data": _where(data),
        "val": _where(val) if val is not None else None,
        "val_split": spec.val_split if val is None else None,
        "seed": spec.seed,
        "train": _part(train),
        "validation": _part(validation),
    }


def check_same_data(run: RunDir, record: dict[str, Any]) -> None:
    """Refuses to resume a run on other images than it was trained on.

    Runs whose `data.json` predates fingerprints are not checked.
    """
    path = run / rundir.DATA
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    for part in ("train", "validation"):
        before = (saved.get(part) or {}) if isinstance(saved, dict) else {}
        now = record[part]
        if before.get("fingerprint") and before["fingerprint"] != now["fingerprint"]:
            raise RunDirError(
                f"'{run.path}' was trained on other {_WORDS[part]} images "
                f"({before.get('images')} from "
                f"{before.get('source')}; now {now['images']} from {now['source']}, with other "
                "contents). Resume it with the same data, or pass a new --out."
            )


def _is_named_split(source: ImageSource) -> bool:
    return getattr(source, "split", None) is not None


def _where(data) -> str:
    if isinstance(data, (tuple, list)):
        return "arrays"
    if isinstance(data, str) and (data in named_sets.NAMES or data == TEST):
        return data
    return os.path.abspath(data)


def _part(source: ImageSource) -> dict[str, Any]:
    return {"source": source.where, "images": len(source), "fingerprint": source.fingerprint()}


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
