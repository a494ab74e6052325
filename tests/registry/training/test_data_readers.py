"""The readers of IDX, mnist.npz and CIFAR pickles: the exact formats read, every refusal tested."""

from __future__ import annotations

import gzip
import os
import pickle

import numpy as np
import pytest
from set_files import (
    CIFAR10_NAMES,
    cifar_batch,
    class_images,
    idx_bytes,
    write_cifar10,
    write_cifar100,
    write_idx,
    write_mnist_npz,
    write_pickle,
)

from registry.training import readers
from registry.training.data import DataError


@pytest.mark.parametrize("gz", [True, False], ids=["gz", "raw"])
def test_idx_images_and_labels_read_back_exactly(tmp_path, gz):
    x, y = class_images(2, 28)
    images = write_idx(tmp_path / "train-images-idx3-ubyte", x, gz=gz)
    labels = write_idx(tmp_path / "train-labels-idx1-ubyte", y, gz=gz)
    got_x, got_y = readers.read_idx_pair(images, labels, 10)
    assert got_x.dtype == np.uint8 and got_x.shape == (20, 28, 28)
    np.testing.assert_array_equal(got_x, x)
    np.testing.assert_array_equal(got_y, y)


def test_a_truncated_idx_file_is_refused_by_name(tmp_path):
    x, _ = class_images(2, 28)
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(idx_bytes(x)[:-100])
    with pytest.raises(DataError, match="truncated: its header says 20 x 28 x 28") as error:
        readers.read_idx(path, ndim=3)
    assert str(path) in str(error.value)


def test_a_truncated_gzip_file_is_refused_by_name(tmp_path):
    x, _ = class_images(2, 28)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(x))[:-40])
    with pytest.raises(DataError, match="damaged or truncated gzip") as error:
        readers.read_idx(path, ndim=3)
    assert str(path) in str(error.value)


def test_an_idx_file_with_trailing_bytes_is_refused(tmp_path):
    path = tmp_path / "labels"
    path.write_bytes(idx_bytes(np.arange(5, dtype=np.uint8)) + b"\x00")
    with pytest.raises(DataError, match="longer than its header says"):
        readers.read_idx(path, ndim=1)


def test_a_foreign_file_has_the_wrong_magic(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    with pytest.raises(DataError, match="not an IDX file: it starts with 89504e47"):
        readers.read_idx(path, ndim=3)


def test_labels_for_images_of_the_wrong_rank_are_refused(tmp_path):
    path = write_idx(tmp_path / "labels", np.zeros((2, 3), np.uint8))
    with pytest.raises(DataError, match="it has 2 dimensions, where 1 were expected"):
        readers.read_idx(path, ndim=1)


def test_image_and_label_counts_must_agree(tmp_path):
    x, y = class_images(2, 28)
    images = write_idx(tmp_path / "images", x)
    labels = write_idx(tmp_path / "labels", y[:-1])
    with pytest.raises(DataError, match="it holds 19 labels, but .* holds 20 images"):
        readers.read_idx_pair(images, labels, 10)


def test_labels_out_of_range_are_refused(tmp_path):
    x, y = class_images(1, 28)
    y[3] = 12
    images = write_idx(tmp_path / "images", x)
    labels = write_idx(tmp_path / "labels", y)
    with pytest.raises(DataError, match=r"labels \[12\] outside 0-9"):
        readers.read_idx_pair(images, labels, 10)


def test_mnist_npz_reads_its_four_arrays(tmp_path):
    arrays = readers.read_mnist_npz(write_mnist_npz(tmp_path / "mnist.npz"))
    assert arrays["x_train"].shape == (30, 28, 28) and arrays["y_test"].shape == (10,)


def test_an_npz_without_the_keys_is_refused(tmp_path):
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(DataError, match="it lacks x_test, y_test, y_train"):
        readers.read_mnist_npz(path)


def test_an_npz_of_pickled_objects_is_refused_unread(tmp_path):
    path = tmp_path / "mnist.npz"
    objects = np.array([{"a": 1}] * 2, dtype=object)
    np.savez(path, x_train=objects, y_train=objects, x_test=objects, y_test=objects)
    with pytest.raises(DataError, match="not a readable .npz file"):
        readers.read_mnist_npz(path)


def test_an_npz_with_wrong_shapes_is_refused(tmp_path):
    path = tmp_path / "mnist.npz"
    x = np.zeros((4, 28, 28), np.uint8)
    np.savez(path, x_train=x, y_train=np.zeros(3, np.uint8), x_test=x, y_test=np.zeros(4, np.uint8))
    with pytest.raises(DataError, match=r"y_train is uint8 \(3,\); expected one integer label"):
        readers.read_mnist_npz(path)


@pytest.mark.parametrize("protocol", [2, pickle.HIGHEST_PROTOCOL])
def test_cifar10_batches_read_as_height_width_channels(tmp_path, protocol):
    folder = write_cifar10(tmp_path / "cifar-10-batches-py", protocol=protocol)
    images, labels = readers.read_cifar_batch(folder / "data_batch_1", "labels", 10)
    assert images.shape == (10, 32, 32, 3) and labels.tolist() == list(range(10))
    # The file holds planes R, G, B: pixel (0, 0) of image 0 is data[0, 0], data[0, 1024], ...
    planes = cifar_batch(1, 10, b"labels", 1)[b"data"]
    np.testing.assert_array_equal(images[0, 0, 0], planes[0, [0, 1024, 2048]])
    names = readers.read_cifar_names(folder / "batches.meta", "label_names", 10)
    assert list(names) == CIFAR10_NAMES


def test_cifar100_reads_fine_labels_and_names(tmp_path):
    folder = write_cifar100(tmp_path / "cifar-100-python")
    images, labels = readers.read_cifar_batch(folder / "train", "fine_labels", 100)
    assert images.shape == (100, 32, 32, 3) and sorted(labels.tolist()) == list(range(100))
    names = readers.read_cifar_names(folder / "meta", "fine_label_names", 100)
    assert names[:2] == ("class_00", "class_01")


class WritesAFile:
    """A pickle whose loading would write `path`: what a hostile data file does."""

    def __init__(self, path, how):
        self.path, self.how = str(path), how

    def __reduce__(self):
        if self.how == "exec":
            return (exec, (f"open({self.path!r}, 'w').write('ran')",))
        return (os.system, (f"touch {self.path}",))


@pytest.mark.parametrize("how", ["exec", "system"])
def test_a_pickle_that_runs_code_is_refused_and_its_code_never_runs(tmp_path, how):
    # The same pickle does run under pickle.load: the test would see it.
    witness = tmp_path / "ran-under-plain-pickle"
    pickle.loads(pickle.dumps(WritesAFile(witness, how)))
    assert witness.exists()

    target = tmp_path / "ran"
    batch = cifar_batch(1, 10, b"labels")
    batch[b"data"] = WritesAFile(target, how)
    path = write_pickle(tmp_path / "data_batch_1", batch)
    with pytest.raises(DataError, match="which a data file has no need for") as error:
        readers.read_cifar_batch(path, "labels", 10)
    assert not target.exists()
    assert str(path) in str(error.value)
    assert (".exec`" if how == "exec" else ".system`") in str(error.value)


def test_a_batch_whose_data_is_not_an_array_is_refused(tmp_path):
    batch = cifar_batch(1, 10, b"labels")
    batch[b"data"] = batch[b"data"].tolist()
    path = write_pickle(tmp_path / "data_batch_1", batch)
    with pytest.raises(DataError, match="its `data` is a list; expected a uint8 array"):
        readers.read_cifar_batch(path, "labels", 10)


def test_a_batch_with_a_missing_key_names_what_it_holds(tmp_path):
    batch = cifar_batch(1, 10, b"labels")
    del batch[b"labels"]
    path = write_pickle(tmp_path / "data_batch_1", batch)
    with pytest.raises(DataError, match="no `labels` entry .*batch_label, data, filenames"):
        readers.read_cifar_batch(path, "labels", 10)


def test_a_truncated_pickle_is_refused(tmp_path):
    path = tmp_path / "test_batch"
    path.write_bytes(pickle.dumps(cifar_batch(1, 10, b"labels"), protocol=2)[:5000])
    with pytest.raises(DataError, match="not a readable pickle"):
        readers.read_cifar_batch(path, "labels", 10)
