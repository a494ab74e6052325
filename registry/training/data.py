"""The input pipeline: scan a class-per-subfolder folder, split it, batch any data source.

`image_dataset` streams any `ImageSource`: an `ImageFolder` from here, or
`arrays.ImageArrays` (numpy arrays, a named data set's split).

Layout expected (as Keras' `image_dataset_from_directory` and
`flow_from_directory`): `root/<class name>/**/<image>`, class names are the
sorted subfolder names. Every image is checked when the folder is scanned, so
a broken file is reported by name before training starts, not as a decoder
traceback in the middle of an epoch.
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import os
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Protocol

import tensorflow as tf
from PIL import Image

from registry.errors import ResblocksError
from registry.training import decode
from registry.training.split import stratified_split

if TYPE_CHECKING:
    from registry.recipe.train_spec import EvalSpec

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif")

# Decoded, resized uint8 images up to this size are cached in memory, and
# at most a quarter of the memory available when the dataset is made: with
# glibc's allocator the process grows to 2-4x the cache while batches are
# cast and prefetched (measured: 229 MiB cache, 0.5-1.3 GiB RSS growth).
CACHE_LIMIT_BYTES = 2 * 1024**3

# Listing more unreadable files than this in one message helps nobody.
_MAX_LISTED = 10


class DataError(ResblocksError):
    """An image folder that cannot be used as it is; the message names the file and the fix."""


class ImageSource(Protocol):
    """What the pipeline needs of a data source: an `ImageFolder`, or `arrays.ImageArrays`.

    `train`, `evaluate`, resuming and multi-host sharding use these and
    nothing else, so they take any source the same way.
    """

    class_names: tuple[str, ...]
    labels: tuple[int, ...]

    def __len__(self) -> int: ...

    @property
    def where(self) -> str:
        """The source in messages: "'path/to/folder'", "the test split of fashion_mnist"."""

    @property
    def paths(self) -> tuple[str, ...]:
        """A name for each image (a file path), in order."""

    @property
    def skipped(self) -> tuple[tuple[str, str], ...]:
        """Unreadable images left out, with their reasons."""

    def subset(self, indices: Sequence[int]) -> ImageSource:
        """The images at `indices`, same classes."""

    def fingerprint(self) -> str:
        """A digest of the images and labels, the same wherever the same data is read."""

    def cache_key(self) -> str:
        """What a file cache of the decoded images is named by."""

    def elements(
        self, image_size: tuple[int, int], fit: EvalSpec | None = None
    ) -> tuple[tf.data.Dataset, Callable]:
        """A dataset of light elements (what shuffling and sharding move) and the function
        that turns one into `(uint8 image (height, width, 1 or 3), label)`, fitted to
        `image_size` by `fit` (`decode.fit_uint8`; None squashes)."""

    def in_memory(
        self, image_size: tuple[int, int], fit: EvalSpec | None = None
    ) -> tuple[tf.data.Dataset, tf.Tensor] | None:
        """(the elements of `elements`, every image as one uint8 tensor `(n, height, width, 1
        or 3)` indexed by an element's first part) when the source holds its images in memory
        already as `load` would give them; None when each has to be loaded (decoded, resized)."""


@dataclasses.dataclass(frozen=True)
class ImageFolder:
    """The images of a class-per-subfolder folder, checked and labelled.

    Args:
        root: str. The folder that was scanned.
        class_names: tuple of str. Sorted class subfolder names; a label is
            an index into it.
        paths: tuple of str. Every usable image, grouped by class, sorted.
        labels: tuple of int. The class index of each path.
        skipped: tuple of `(path, reason)`. Unreadable images left out
            because `skip_bad_images=True`.
        ignored: tuple of str. Files without an image extension, left out.
        formats: tuple of str. PIL's format of each path ("PNG", "JPEG",
            ...), read from the file's content, not its extension. Empty
            when unknown: `image_dataset` then reads each header itself.
        sizes: tuple of `(width, height)`. Stored pixel size of each path;
            empty when unknown, as `formats`.
    """

    root: str
    class_names: tuple[str, ...]
    paths: tuple[str, ...]
    labels: tuple[int, ...]
    skipped: tuple[tuple[str, str], ...] = ()
    ignored: tuple[str, ...] = ()
    formats: tuple[str, ...] = ()
    sizes: tuple[tuple[int, int], ...] = ()

    def __post_init__(self):
        n = len(self.paths)
        if len(self.labels) != n:
            raise ValueError(
                "`paths` and `labels` must have the same length. "
                f"Received: {n} paths and {len(self.labels)} labels"
            )
        for name in ("formats", "sizes"):
            value = getattr(self, name)
            if value and len(value) != n:
                raise ValueError(
                    f"`{name}` must be empty (unknown) or have one entry per path. "
                    f"Received: {len(value)} {name} for {n} paths"
                )
        bad = [label for label in self.labels if not 0 <= label < len(self.class_names)]
        if bad:
            raise ValueError(
                f"Every label must index `class_names` (0 to {len(self.class_names) - 1}). "
                f"Received: labels={sorted(set(bad))[:5]}"
            )

    def __len__(self) -> int:
        return len(self.paths)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def summary(self) -> str:
        """One line for logs: images, classes, and what was left out."""
        line = f"Found {len(self.paths)} images in {self.num_classes} classes in '{self.root}'"
        if self.skipped:
            line += f"; skipped {len(self.skipped)} unreadable images"
        if self.ignored:
            extensions = _count_extensions(self.ignored)
            line += f"; ignored {len(self.ignored)} non-image files ({extensions})"
        return line + "."

    @property
    def where(self) -> str:
        """The source in messages."""
        return f"'{self.root}'"

    def fingerprint(self) -> str:
        """sha256 of the listing (each image's path below the root, and its label).

        The same on every machine that holds a copy of the folder, so
        multi-host processes and a resumed run can check they read the same images.
        """
        listing = hashlib.sha256()
        for path, label in zip(self.paths, self.labels):
            listing.update(f"{os.path.relpath(path, self.root)}\t{label}\n".encode())
        return listing.hexdigest()

    def cache_key(self) -> str:
        """What a file cache is named by: each file's path, label, byte size and modification time.

        One `stat` per file, so replacing an image also starts a new cache.
        """
        stats = [(s.st_size, s.st_mtime_ns) for s in map(os.stat, self.paths)]
        return repr((self.paths, self.labels, stats))

    def elements(self, image_size: tuple[int, int], fit: EvalSpec | None = None):
        """(dataset of (path, route, label), load) for `image_dataset`: load decodes and resizes.

        The decoder route of each file comes from its format and size (see
        `decode`), read at scan time or, for a folder built by hand, now;
        with a crop (`fit`) it covers the size resized to before the crop.
        """
        formats, sizes = self.formats, self.sizes
        if not formats or not sizes:
            formats, sizes = zip(*(_read_header(path) for path in self.paths))
        decoded = fit.resize_size(image_size) if fit is not None else image_size
        routes = [decode.choose_route(f, w, h, decoded) for f, (w, h) in zip(formats, sizes)]
        elements = tf.data.Dataset.from_tensor_slices(
            (list(self.paths), tf.constant(routes, tf.int32), tf.constant(self.labels, tf.int32))
        )

        def load(path, route, label):
            return decode.load_resized(path, route, image_size, fit), label

        return elements, load

    def in_memory(self, image_size: tuple[int, int], fit: EvalSpec | None = None) -> None:
        """None: a folder's images are decoded from their files by the `load` of `elements`."""
        return None

    def subset(self, indices: Sequence[int]) -> ImageFolder:
        """A folder of the images at `indices`, same classes, same root."""
        indices = [int(i) for i in indices]
        out_of_range = [i for i in indices if not 0 <= i < len(self.paths)]
        if out_of_range:
            raise ValueError(
                f"Indices must lie in [0, {len(self.paths)}) for a folder of "
                f"{len(self.paths)} images. Received: {out_of_range[:5]}"
            )

        def pick(values):
            return tuple(values[i] for i in indices) if values else ()

        return dataclasses.replace(
            self,
            paths=pick(self.paths),
            labels=pick(self.labels),
            formats=pick(self.formats),
            sizes=pick(self.sizes),
        )


def scan_image_folder(root: str | os.PathLike, *, skip_bad_images: bool = False) -> ImageFolder:
    """Find, label and check every image under a class-per-subfolder folder.

    Class folders are searched recursively. Accepted extensions are
    `.jpg .jpeg .png .bmp .gif` in any case; other files are left out and
    listed in `ignored`. Hidden entries (a leading dot, and macOS'
    `__MACOSX`) are neither classes nor images: a stray
    `.ipynb_checkpoints` must not become a class.

    Each image is opened with PIL and checked: `verify()` for all (for PNG
    it reads every chunk and its CRC, which catches truncation), plus a
    load for the other formats, whose truncation only shows in the pixel
    data; JPEG is loaded at 1/8 scale, which still reads every byte.

    Args:
        root: str or path. The folder holding one subfolder per class.
        skip_bad_images: bool. If True, unreadable images are left out and
            listed in `skipped` with their reason; if False (default), any
            unreadable image raises `DataError`, which lists them.

    Returns:
        An `ImageFolder`.

    Raises:
        DataError: the folder is missing, has no class subfolders, only one
            class, a class without images, or unreadable images.
    """
    root = os.fspath(root)
    class_names = _class_names(root)
    paths, labels, ignored = _list_images(root, class_names)
    if len(class_names) < 2:
        raise DataError(
            f"The image folder has only one class subfolder ('{class_names[0]}'); "
            f"a classifier needs at least 2 classes. Received: root='{root}'. Add a "
            "subfolder for each other class, with its images."
        )

    checks = _check_images(paths)
    bad = [(path, reason) for path, (_, _, reason) in zip(paths, checks) if reason]
    if bad and not skip_bad_images:
        listed = "\n".join(f"  {path}: {reason}" for path, reason in bad[:_MAX_LISTED])
        more = f"\n  ... and {len(bad) - _MAX_LISTED} more" if len(bad) > _MAX_LISTED else ""
        raise DataError(
            f"{len(bad)} image(s) in '{root}' cannot be read:\n{listed}{more}\n"
            "Remove or re-save these files, or skip them with skip_bad_images=True "
            "(--skip-bad-images on the command line, `skip_bad_images: true` in a recipe's train: "
            "section)."
        )
    keep = [i for i, (_, _, reason) in enumerate(checks) if not reason]
    folder = ImageFolder(
        root=root,
        class_names=tuple(class_names),
        paths=tuple(paths[i] for i in keep),
        labels=tuple(labels[i] for i in keep),
        skipped=tuple(bad),
        ignored=tuple(ignored),
        formats=tuple(checks[i][0] for i in keep),
        sizes=tuple(checks[i][1] for i in keep),
    )
    present = set(folder.labels)
    emptied = [name for label, name in enumerate(class_names) if label not in present]
    if emptied:
        raise DataError(
            f"Every image of class folder(s) {', '.join(repr(n) for n in emptied)} in "
            f"'{root}' is unreadable, so nothing of those classes is left after skipping "
            f"{len(bad)} bad image(s). Replace the images or remove the folder(s)."
        )
    return folder


def split_folder(
    folder: ImageSource, val_fraction: float, seed: int
) -> tuple[ImageSource, ImageSource]:
    """Split a folder (or any source) into (train, validation), stratified and fixed by `seed`.

    Each class keeps its proportion; a class with at least 2 images gives at
    least one to validation. Both halves keep the class names of the whole
    folder, so labels mean the same in both, and both carry the scan's
    `skipped` and `ignored` lists.

    Args:
        folder: ImageSource. What `scan_image_folder` returned, or arrays.
        val_fraction: float. Fraction of each class held out, in (0, 1).
        seed: int. The same seed gives the same split.
    """
    train, val = stratified_split(folder.labels, val_fraction, seed)
    if not val:
        raise DataError(
            f"Splitting {folder.where} with val_fraction={val_fraction} leaves no "
            "validation images: every class holds a single image. Add images, or "
            "pass a separate validation folder."
        )
    return folder.subset(train), folder.subset(val)


def image_dataset(
    source: ImageSource,
    *,
    image_size: tuple[int, int],
    batch_size: int,
    shuffle: bool,
    seed: int | None = None,
    cache: bool | str = "auto",
    subset_indices: Sequence[int] | None = None,
    deterministic: bool | None = None,
    multiple: int = 1,
    shard: tuple[int, int] = (0, 1),
    channels: int = 3,
    fit: EvalSpec | None = None,
    augment: Callable[[tf.data.Dataset], tf.data.Dataset] | None = None,
) -> tf.data.Dataset:
    """Stream a data source (an image folder, arrays) as batches of `(images, labels)`.

    Images are float32 in [0, 255] of shape `(batch, height, width, 3)`,
    resized bilinearly with antialiasing to exactly `image_size` (no crop,
    as `flow_from_directory`), or as `fit` says (a recipe's `train.eval`,
    for evaluation); labels are int32 class indices. Rescaling
    (1/255 or a network's own preprocessing) is left to the model.

    Order of work: decoded and resized images are cached as uint8; when they
    are cached, shuffling comes after the cache with a buffer as large as
    the dataset (a uniform reshuffle every epoch from memory); when they are
    not, the file list is shuffled before decoding (cheap: strings only).
    With a memory cache the first batch waits for the first full pass, since
    the shuffle buffer has to fill. A source that holds its images in memory
    already as they would be loaded (`in_memory`: arrays at `image_size`)
    needs neither loading nor a cache: only indices are shuffled and shared,
    and each batch is gathered with one op, as Keras' `fit` slices arrays;
    the same seed gives the same order as a cache would (the shuffle sees
    only how many elements there are), and no first pass is waited for.

    Args:
        source: ImageSource. An `ImageFolder` (what `scan_image_folder` or
            `split_folder` gave), or `ImageArrays`: anything that gives its
            `elements(image_size)` (light elements and how to load one).
        image_size: tuple of 2 ints. `(height, width)` of every image.
        batch_size: int. Images per batch; the last batch may be smaller.
        shuffle: bool. Reshuffle every epoch (training) or keep folder order
            (evaluation, prediction).
        seed: int or None. Seed of the shuffle; the same seed gives the same
            sequence of epochs.
        cache: bool or str. "auto" (default) caches in memory when the
            resized uint8 images fit in `CACHE_LIMIT_BYTES` (2 GiB) and in a
            quarter of the available memory, else does not cache; True
            always caches in memory; False never caches; any other string
            is a file prefix for an on-disk cache, suffixed with a
            fingerprint of the files and size so a stale cache is never
            read back. Shuffling after a file cache uses a buffer of a
            quarter of that limit, on top of a one-time shuffle of the file
            order before the cache.
        subset_indices: sequence of int or None. Use only these images.
        deterministic: bool or None. Whether parallel decoding keeps order.
            None (default) means keep it when `shuffle` is False (so
            predictions line up with `source.paths`) or a `seed` is given
            (so runs repeat); otherwise allow out-of-order decoding.
        multiple: int. Cut every batch to a multiple of this many images
            (keras.distribution splits a batch evenly over its devices); an
            epoch then leaves out fewer than `multiple` images.
        shard: (index, count). Keep the index-th of `count` equal slices of
            every batch: what process `index` of a `count`-process job feeds
            (the same seed gives every process the same order, so the slices
            of one batch are disjoint and together the whole batch). Before
            decoding when the images are not cached, so each process decodes
            only its own. `batch_size` stays the global batch.
        channels: int. 3 (RGB, default) or 1 (grayscale): what the network
            takes; images of the other kind are converted by
            `decode.to_channels` (grey repeated, or RGB to its luma).
        fit: EvalSpec or None. How each image is fitted to `image_size`
            (`decode.fit_uint8`): None (training) squashes.
        augment: a function of the dataset of single `(image, label)`
            elements (uint8 images after the cache and the shuffle) that
            gives float32 images in [0, 255], applied just before batching;
            `registry.training.augment.augment_images` makes one. None: none.

    Returns:
        A `tf.data.Dataset`, with `class_names` and `file_paths` attributes.
    """
    image_size = _check_image_size(image_size)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(
            f"Argument `batch_size` must be a positive int. Received: batch_size={batch_size!r}"
        )
    if not isinstance(cache, (bool, str)):
        raise ValueError(
            "Argument `cache` must be 'auto', True, False or a file path prefix. "
            f"Received: cache={cache!r}"
        )
    if subset_indices is not None:
        source = source.subset(subset_indices)
    if not len(source):
        raise DataError(
            f"No images to stream from {source.where}"
            + (" after selecting `subset_indices`" if subset_indices is not None else "")
            + ". Pass a folder, or indices, with at least one image."
        )
    if deterministic is None:
        deterministic = (not shuffle) or seed is not None
    index, count = shard
    if not 0 <= index < count or batch_size % count or multiple % count:
        raise ValueError(
            f"Argument `shard` must be (index, count) with 0 <= index < count, and count must "
            f"divide batch_size and multiple. Received: shard={shard!r}, "
            f"batch_size={batch_size}, multiple={multiple}"
        )

    if channels not in (1, 3):
        raise ValueError(f"Argument `channels` must be 1 or 3. Received: channels={channels!r}")

    n = len(source)
    parallel = dict(num_parallel_calls=tf.data.AUTOTUNE, deterministic=deterministic)

    def share(dataset):
        return _share_batches(dataset, batch_size, multiple, shard)

    # Images held in memory already skip loading and the cache (a file cache
    # asked for by name is still written). `per_batch`: the map that gathers
    # a whole batch of them, when no per-image augmentation needs them singly.
    held = source.in_memory(image_size, fit) if cache == "auto" or isinstance(cache, bool) else None
    per_batch = None
    if held is not None:
        dataset, images = held
        if shuffle:
            dataset = dataset.shuffle(n, seed=seed, reshuffle_each_iteration=True)
        dataset = share(dataset)

        def gather(index, *rest):
            return (decode.to_channels(tf.gather(images, index), channels), *rest)

        if augment is None:
            per_batch = gather
        else:
            dataset = dataset.map(gather, **parallel)
    else:
        dataset = _loaded(source, image_size, fit, channels, cache, shuffle, seed, share, parallel)
    if augment is not None:
        dataset = augment(dataset)
    dataset = dataset.batch(batch_size // count)
    if per_batch is not None:
        dataset = dataset.map(per_batch, **parallel)
    # Cast after batching: one op per batch, and the cache stays uint8.
    dataset = dataset.map(lambda images, labels: (tf.cast(images, tf.float32), labels), **parallel)
    if multiple > 1 or count > 1:  # tf.data cannot count the batches after unbatch()
        full, rest = divmod(n, batch_size)
        batches = full + (rest >= multiple)
        dataset = dataset.apply(tf.data.experimental.assert_cardinality(batches))
    dataset = dataset.prefetch(tf.data.AUTOTUNE)
    dataset.class_names = list(source.class_names)
    dataset.file_paths = list(source.paths)
    return dataset


def _loaded(
    source: ImageSource,
    image_size: tuple[int, int],
    fit: EvalSpec | None,
    channels: int,
    cache: bool | str,
    shuffle: bool,
    seed: int | None,
    share: Callable[[tf.data.Dataset], tf.data.Dataset],
    parallel: dict,
) -> tf.data.Dataset:
    """The single `(uint8 image, label)` elements of `source`, loaded, cached and shuffled as
    `image_dataset`'s `cache` says, then shared (`share`)."""
    n = len(source)
    elements, load_native = source.elements(image_size, fit)
    dataset = elements

    def load(*element):
        image, label = load_native(*element)
        return decode.to_channels(image, channels), label

    if cache == "auto":
        cache = n * image_size[0] * image_size[1] * channels <= _cache_limit()

    if cache is False:
        if shuffle:
            dataset = dataset.shuffle(n, seed=seed, reshuffle_each_iteration=True)
        return share(dataset).map(load, **parallel)
    if cache is True:
        dataset = dataset.map(load, **parallel).cache()
        if shuffle:
            dataset = dataset.shuffle(n, seed=seed, reshuffle_each_iteration=True)
        return share(dataset)
    if shuffle:
        # Fixed once, so the file cache does not hold images class by class.
        dataset = dataset.shuffle(n, seed=seed, reshuffle_each_iteration=False)
    # Only a fit that changes the pixels names another cache: a squash keeps the old one.
    changed = (fit.model_dump_json(),) if decode.changes_pixels(fit) else ()
    key = (source.cache_key(), channels, *changed)
    cache_file = _cache_file(cache, repr(key), image_size)
    dataset = dataset.map(load, **parallel).cache(cache_file)
    if shuffle:
        # A full buffer would hold the whole set in memory, which a file
        # cache exists to avoid; the one-time shuffle above makes up for it.
        per_image = image_size[0] * image_size[1] * channels
        buffer = max(1, min(n, _cache_limit() // 4 // per_image))
        dataset = dataset.shuffle(buffer, seed=seed, reshuffle_each_iteration=True)
    return share(dataset)


def _share_batches(
    elements: tf.data.Dataset, batch_size: int, multiple: int, shard: tuple[int, int]
) -> tf.data.Dataset:
    """The elements of this shard's slice of each batch, each batch cut to a multiple first.

    Unbatched again, so that batching by `batch_size // count` gives exactly the slices.
    """
    index, count = shard
    if multiple == 1 and count == 1:
        return elements

    def cut_and_slice(*batch):
        size = tf.shape(batch[0])[0] // multiple * multiple // count
        return tuple(part[index * size : (index + 1) * size] for part in batch)

    return elements.batch(batch_size).map(cut_and_slice).unbatch()


def _cache_limit() -> int:
    """`CACHE_LIMIT_BYTES`, or a quarter of the available memory if that is less."""
    return min(CACHE_LIMIT_BYTES, _available_memory() // 4)


def _available_memory() -> int:
    """Bytes of memory available now: Linux' MemAvailable, else free pages, else unbounded."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # not on every platform
        return 1 << 62


def _class_names(root: str) -> list[str]:
    """Sorted class subfolder names of `root`, or `DataError` saying what is wrong with it."""
    if not os.path.exists(root):
        raise DataError(
            f"The image folder does not exist. Received: root='{root}'. Pass the "
            "path of a folder that holds one subfolder per class, e.g. "
            "root/cats/*.jpg and root/dogs/*.jpg."
        )
    if not os.path.isdir(root):
        raise DataError(
            f"The image folder must be a directory, but it is a file. Received: "
            f"root='{root}'. Pass the folder that holds one subfolder per class, "
            "not a single image."
        )
    names = sorted(
        entry.name for entry in os.scandir(root) if entry.is_dir() and not _is_hidden(entry.name)
    )
    if not names:
        loose = [name for name in os.listdir(root) if name.lower().endswith(IMAGE_EXTENSIONS)]
        found = f" It holds {len(loose)} images directly." if loose else ""
        raise DataError(
            f"The image folder has no class subfolders. Received: root='{root}'.{found} "
            "Put each class's images in a subfolder named for the class, e.g. "
            f"'{os.path.join(root, 'cats')}' and '{os.path.join(root, 'dogs')}'."
        )
    return names


def _list_images(root: str, class_names: list[str]) -> tuple[list[str], list[int], list[str]]:
    """(image paths, labels, other files) of every class folder; `DataError` naming empty ones."""
    paths: list[str] = []
    labels: list[int] = []
    ignored: list[str] = []
    empty: list[str] = []
    for label, name in enumerate(class_names):
        images, others = _list_class_files(os.path.join(root, name))
        ignored.extend(others)
        if not images:
            empty.append(_describe_empty(os.path.join(root, name), others))
        paths.extend(images)
        labels.extend([label] * len(images))
    if empty:
        raise DataError(
            f"{len(empty)} class folder(s) hold no images: " + "; ".join(empty) + ". "
            f"Accepted extensions: {' '.join(IMAGE_EXTENSIONS)} (any case). Add images "
            "to each folder, convert them to an accepted format, or remove the folder."
        )
    return paths, labels, ignored


def _is_hidden(name: str) -> bool:
    return name.startswith(".") or name == "__MACOSX"


def _list_class_files(class_dir: str) -> tuple[list[str], list[str]]:
    """(images, other files) under one class folder, recursively, sorted."""
    images: list[str] = []
    others: list[str] = []
    for dirpath, dirnames, filenames in os.walk(class_dir):
        dirnames[:] = sorted(d for d in dirnames if not _is_hidden(d))
        for name in sorted(filenames):
            if _is_hidden(name):
                continue
            path = os.path.join(dirpath, name)
            (images if name.lower().endswith(IMAGE_EXTENSIONS) else others).append(path)
    return images, others


def _count_extensions(paths: Sequence[str]) -> str:
    counts = collections.Counter(os.path.splitext(p)[1].lower() or "(no extension)" for p in paths)
    return ", ".join(f"{ext} x{count}" for ext, count in sorted(counts.items()))


def _describe_empty(class_dir: str, others: list[str]) -> str:
    if not others:
        return f"'{class_dir}' is empty"
    return f"'{class_dir}' holds only {len(others)} other file(s) ({_count_extensions(others)})"


def _check_image(path: str) -> tuple[str | None, tuple[int, int], str | None]:
    """(format, (width, height), reason or None) of one file, never raising."""
    try:
        with Image.open(path) as image:
            image_format, size = image.format, image.size
            image.verify()
        if image_format != "PNG":
            with Image.open(path) as image:
                if image_format in ("JPEG", "MPO"):
                    image.draft(image.mode, (1, 1))
                image.load()
        return image_format, size, None
    except Image.DecompressionBombError as error:
        return None, (0, 0), f"too large to decode safely ({error}); downscale it"
    except Image.UnidentifiedImageError:
        return None, (0, 0), "not an image PIL recognises (corrupt, or a wrong extension)"
    except OSError as error:
        if "truncated" in str(error).lower():
            return None, (0, 0), "truncated: the file ends before its image data does"
        return None, (0, 0), f"unreadable: {error}"
    except Exception as error:  # noqa: BLE001 - PIL raises SyntaxError, ValueError, ... on broken files
        return None, (0, 0), f"unreadable: {type(error).__name__}: {error}"


def unreadable_images(paths: Sequence[str]) -> dict[str, str]:
    """{path: why it cannot be read} for the files among `paths` that PIL cannot decode."""
    return {path: reason for path, (_, _, reason) in zip(paths, _check_images(paths)) if reason}


def _check_images(paths: Sequence[str]) -> list[tuple[str | None, tuple[int, int], str | None]]:
    """Check many files; threads help because PIL releases the GIL while decoding."""
    with warnings.catch_warnings():
        # Large images are handled (see decode.py); only PIL's hard limit is an error.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        workers = min(8, os.cpu_count() or 1)
        if workers == 1 or len(paths) < 64:
            return [_check_image(path) for path in paths]
        with ThreadPoolExecutor(workers) as pool:
            return list(pool.map(_check_image, paths))


def _read_header(path: str) -> tuple[str | None, tuple[int, int]]:
    """PIL format and size from the header alone, for folders built by hand."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                return image.format, image.size
    except Exception as error:  # noqa: BLE001 - PIL raises many kinds on a broken file
        raise DataError(
            f"Cannot read the image '{path}' ({type(error).__name__}: {error}). Build "
            "the folder with scan_image_folder(), which checks every image, or remove "
            "the file."
        ) from None


def _check_image_size(image_size) -> tuple[int, int]:
    if (
        not isinstance(image_size, (tuple, list))
        or len(image_size) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in image_size)
    ):
        raise ValueError(
            "Argument `image_size` must be a tuple of 2 positive ints (height, width), "
            f"e.g. (224, 224). Received: image_size={image_size!r}"
        )
    return int(image_size[0]), int(image_size[1])


def _cache_file(prefix: str, key: str, image_size: tuple[int, int]) -> str:
    """File-cache path with a fingerprint of the source's `cache_key` and the size.

    So a stale cache is never read back.
    """
    digest = hashlib.sha256(repr((key, image_size)).encode()).hexdigest()
    path = f"{prefix}-{image_size[0]}x{image_size[1]}-{digest[:12]}"
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    return path
