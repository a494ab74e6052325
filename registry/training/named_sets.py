"""The classic image data sets by name, read from the files users have.

fashion_mnist, mnist, cifar10 and cifar100, as `keras.datasets` names them.

Nothing is downloaded unless asked (`download=True`). The files are looked
for, in this order:

1. a folder given as the data (`--data PATH`): the set's own folder
   (`fashion-mnist/`, `cifar-10-batches-py/`, torchvision's
   `FashionMNIST/raw/`, ...), or a folder holding one of those;
2. keras' cache, where `keras.datasets.X.load_data()` leaves them
   (`$KERAS_HOME/datasets/`, by default `~/.keras/datasets/`);
3. Debian's packages (`/usr/share/datasets/<name>/`: `dataset-fashion-mnist`);
4. `./data`, the root torchvision's tutorials download to
   (`FashionMNIST/raw/`, `MNIST/raw/`, `cifar-10-batches-py/`, ...).

The files are read by `readers`, which check everything in them.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np

from registry.names import unknown_name_message
from registry.training import readers
from registry.training.arrays import ImageArrays
from registry.training.data import DataError

SPLITS = ("train", "test")
DEBIAN_ROOT = Path("/usr/share/datasets")
# torchvision tutorials' `root="data"`, relative to the working folder.
TORCHVISION_ROOT = Path("data")

FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
DIGITS = tuple(str(i) for i in range(10))

_IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


@dataclasses.dataclass(frozen=True)
class NamedSet:
    """One data set: where its files lie in each layout, and how to read them.

    Args:
        name: str. The name users give (`--data fashion_mnist`).
        title: str. Its usual spelling, for messages.
        kind: str. Its file format: "idx", "npz", "cifar10" or "cifar100".
        folders: tuple of str. Where the files lie below a root, one entry
            per layout (keras cache, Debian, torchvision), "" for the root
            itself; for "npz" the file's path.
        class_names: tuple of str, or None to read them from the files (CIFAR).
        apt: str or None. Debian's package of the files.
    """

    name: str
    title: str
    kind: str
    folders: tuple[str, ...]
    class_names: tuple[str, ...] | None
    apt: str | None = None

    def files(self, folder: Path) -> list[Path] | None:
        """The set's files in `folder` (one of its layouts), or None unless all are there."""
        if self.kind == "idx":
            found = []
            for names in _IDX_FILES.values():
                for name in names:
                    path = next(
                        (folder / f for f in (name + ".gz", name) if (folder / f).is_file()), None
                    )
                    if path is None:
                        return None
                    found.append(path)
            return found
        names = {
            "npz": [""],
            "cifar10": [*(f"data_batch_{i}" for i in range(1, 6)), "test_batch", "batches.meta"],
            "cifar100": ["train", "test", "meta"],
        }[self.kind]
        paths = [folder / name if name else folder for name in names]
        return paths if all(path.is_file() for path in paths) else None

    def read(self, files: list[Path], split: str) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
        """(images, labels, class names) of one split from the files `files` found."""
        if self.kind == "idx":
            images, labels = files[:2] if split == "train" else files[2:]
            x, y = readers.read_idx_pair(images, labels, 10)
            return x, y, self.class_names
        if self.kind == "npz":
            arrays = readers.read_mnist_npz(files[0])
            return arrays[f"x_{split}"], arrays[f"y_{split}"], self.class_names
        if self.kind == "cifar10":
            names = readers.read_cifar_names(files[-1], "label_names", 10)
            batches = files[:5] if split == "train" else [files[5]]
            parts = [readers.read_cifar_batch(path, "labels", 10) for path in batches]
            return (
                np.concatenate([x for x, _ in parts]),
                np.concatenate([y for _, y in parts]),
                names,
            )
        names = readers.read_cifar_names(files[2], "fine_label_names", 100)
        x, y = readers.read_cifar_batch(files[0 if split == "train" else 1], "fine_labels", 100)
        return x, y, names


SETS = {
    s.name: s
    for s in (
        NamedSet(
            "fashion_mnist",
            "Fashion-MNIST",
            "idx",
            ("fashion-mnist", "FashionMNIST/raw"),
            FASHION_MNIST_CLASSES,
            apt="dataset-fashion-mnist",
        ),
        NamedSet("mnist", "MNIST", "npz", ("mnist.npz",), DIGITS),
        NamedSet("mnist_idx", "MNIST", "idx", ("mnist", "MNIST/raw"), DIGITS),
        NamedSet(
            "cifar10",
            "CIFAR-10",
            "cifar10",
            ("cifar-10-batches-py", "cifar-10-batches-py-target/cifar-10-batches-py"),
            None,
        ),
        NamedSet(
            "cifar100",
            "CIFAR-100",
            "cifar100",
            ("cifar-100-python", "cifar-100-python-target/cifar-100-python"),
            None,
        ),
    )
}
# What users name; MNIST's IDX files (torchvision's layout) are read as `mnist` too.
NAMES = ("fashion_mnist", "mnist", "cifar10", "cifar100")
_VARIANTS = {"fashion_mnist": ("fashion_mnist",), "mnist": ("mnist", "mnist_idx")}


@dataclasses.dataclass(frozen=True)
class Found:
    """A data set's files, found."""

    name: str
    files: list[Path]
    folder: Path

    def load(self, split: str) -> ImageArrays:
        """One split as `ImageArrays`, its class names from the set (or its files)."""
        if split not in SPLITS:
            raise ValueError(f"Argument `split` must be one of {SPLITS}. Received: split={split!r}")
        dataset = SETS[self.name]
        x, y, names = dataset.read(self.files, split)
        user_name = "mnist" if self.name == "mnist_idx" else self.name
        return ImageArrays.from_arrays(x, y, class_names=names, name=user_name, split=split)


def keras_cache() -> Path:
    """keras' download folder: `$KERAS_HOME/datasets`, by default `~/.keras/datasets`."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "datasets"


def search_roots() -> list[tuple[Path, str]]:
    """(folder, what it is) searched for a set given by name, in order."""
    return [
        (keras_cache(), "keras' cache"),
        (DEBIAN_ROOT, "Debian's datasets"),
        (TORCHVISION_ROOT.resolve(), "torchvision's usual root"),
    ]


def recognise(path: str | os.PathLike) -> Found | None:
    """The set whose files `path` holds, itself or in one of the layouts below it; None if none.

    Raises:
        DataError: the folder holds MNIST-format files, but its name does not
            say which of MNIST and Fashion-MNIST they are.
    """
    path = Path(path)
    if not path.exists():
        return None
    for dataset in SETS.values():
        for folder in dataset.folders:
            # The set's own folder (its name says which set), or a root holding it.
            parts = Path(folder).parts
            if path.parts[-len(parts) :] == parts:
                files = dataset.files(path)
                if files:
                    return Found(dataset.name, files, path)
            if path.is_dir():
                files = dataset.files(path / folder)
                if files:
                    return Found(dataset.name, files, path / folder)
    if path.is_dir() and SETS["fashion_mnist"].files(path):
        raise DataError(
            f"'{path}' holds MNIST-format (IDX) files, but its name does not say whether they are "
            "MNIST or Fashion-MNIST, whose classes differ. Put them in a folder named "
            "fashion-mnist or mnist (as keras and Debian do) and pass that folder."
        )
    return None


def find(name: str, *, download: bool = False) -> Found:
    """The files of the set `name`, from the first place that holds them all.

    Args:
        name: str. One of `NAMES`.
        download: bool. If nothing is found, let `keras.datasets` download the
            set into keras' cache (needs internet), then look again.

    Raises:
        DataError: not found anywhere; the message lists every place looked
            and the ways to get the files.
    """
    if name not in NAMES:
        raise DataError(unknown_name_message("data set", name, NAMES))
    looked = []
    for root, what in search_roots():
        for variant in _VARIANTS.get(name, (name,)):
            for folder in SETS[variant].folders:
                files = SETS[variant].files(root / folder)
                if files:
                    return Found(variant, files, root / folder)
                looked.append(f"  {root / folder} ({what})")
    if download:
        _download(name)
        return find(name, download=False)
    dataset = SETS[name]
    ways = [
        f'  on a machine with internet: python -c "import keras; keras.datasets.{name}.'
        "load_data()\" (it fills keras' cache), then copy ~/.keras/datasets here",
        "  or pass --download (download=True) to let keras fetch it now",
        "  or pass --data PATH, the folder that holds the files",
    ]
    if dataset.apt:
        ways.insert(0, f"  on Debian or Ubuntu: sudo apt install {dataset.apt}")
    return _not_found(name, dataset.title, looked, ways)


def _not_found(name, title, looked, ways):
    raise DataError(
        f"The files of {title} ({name}) were not found. Looked in:\n"
        + "\n".join(dict.fromkeys(looked))
        + "\nTo get them:\n"
        + "\n".join(ways)
    )


def _download(name: str) -> None:
    """keras.datasets' own download into its cache (only when asked: `download=True`)."""
    import keras

    try:
        getattr(keras.datasets, name).load_data()
    except Exception as error:  # noqa: BLE001 - no network shows as many kinds of errors
        raise DataError(
            f"Downloading {name} with keras.datasets.{name}.load_data() failed "
            f"({type(error).__name__}: {error}). Download it on a machine with internet and "
            f"copy {keras_cache()} here."
        ) from None
