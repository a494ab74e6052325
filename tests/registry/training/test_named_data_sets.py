"""Named data sets (fashion_mnist, mnist, cifar10, cifar100): finding their files, using them.

The search is tested on tiny files in each layout (keras' cache, Debian's,
torchvision's, a folder given as --data); where Debian's dataset-fashion-mnist
is installed, the real files are counted and trained on briefly.
"""

from __future__ import annotations

import collections
import contextlib
import io
import json
import shutil
import time
from pathlib import Path

import keras
import numpy as np
import pytest
from set_files import (
    write_cifar10,
    write_cifar100,
    write_idx_set,
    write_mnist_npz,
    write_recipe,
)

from registry.cli import main
from registry.cli.options import DATA_SETS
from registry.training import named_sets
from registry.training.data import DataError
from registry.training.evaluate import evaluate
from registry.training.run import train

DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")


def run_cli(*argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def search_under(root: Path, patch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Empty keras cache, Debian and torchvision roots under `root`, searched instead."""
    roots = {
        "keras": root / "keras" / "datasets",
        "debian": root / "debian",
        "torch": root / "torch",
    }
    patch.setenv("KERAS_HOME", str(root / "keras"))
    patch.setattr(named_sets, "DEBIAN_ROOT", roots["debian"])
    patch.setattr(named_sets, "TORCHVISION_ROOT", roots["torch"])
    return roots


@pytest.fixture
def places(tmp_path, monkeypatch):
    return search_under(tmp_path, monkeypatch)


def test_the_command_line_offers_exactly_the_known_sets():
    assert DATA_SETS == named_sets.NAMES


def test_fashion_mnist_from_keras_cache_with_its_class_names(places):
    write_idx_set(places["keras"] / "fashion-mnist", train=3, test=1)
    found = named_sets.find("fashion_mnist")
    train_split, test_split = found.load("train"), found.load("test")
    assert (len(train_split), len(test_split)) == (30, 10)
    assert (
        train_split.class_names[0] == "T-shirt/top" and train_split.class_names[-1] == "Ankle boot"
    )
    assert test_split.summary() == "10 test images of fashion_mnist"


def test_keras_cache_comes_before_debian(places):
    write_idx_set(places["debian"] / "fashion-mnist", train=2, test=1)
    assert named_sets.find("fashion_mnist").folder == places["debian"] / "fashion-mnist"
    write_idx_set(places["keras"] / "fashion-mnist", train=3, test=1)
    assert named_sets.find("fashion_mnist").folder == places["keras"] / "fashion-mnist"


@pytest.mark.parametrize(
    "name, layout, write, count",
    [
        ("mnist", "keras/mnist.npz", write_mnist_npz, 30),
        ("mnist", "torch/MNIST/raw", lambda p: write_idx_set(p, gz=False), 30),
        ("fashion_mnist", "torch/FashionMNIST/raw", write_idx_set, 30),
        ("cifar10", "keras/cifar-10-batches-py-target/cifar-10-batches-py", write_cifar10, 50),
        ("cifar10", "torch/cifar-10-batches-py", write_cifar10, 50),
        ("cifar100", "keras/cifar-100-python", write_cifar100, 100),
    ],
)
def test_each_set_is_found_in_each_layout(places, name, layout, write, count):
    root, _, below = layout.partition("/")
    write(places[root] / below)
    split = named_sets.find(name).load("train")
    assert len(split) == count and split.name == name
    if name == "cifar10":
        assert split.class_names[:2] == ("airplane", "automobile")
        assert split.images.shape[1:] == (32, 32, 3)


def test_a_folder_given_as_data_is_recognised_by_its_files(tmp_path):
    fashion = write_idx_set(tmp_path / "fashion-mnist")
    assert named_sets.recognise(fashion).name == "fashion_mnist"
    write_cifar100(tmp_path / "downloads" / "cifar-100-python")
    assert named_sets.recognise(tmp_path / "downloads").name == "cifar100"
    assert named_sets.recognise(tmp_path / "nothing here") is None


def test_a_bare_folder_of_idx_files_must_say_which_set(tmp_path):
    write_idx_set(tmp_path / "downloads")
    with pytest.raises(DataError, match="does not say whether they are MNIST or Fashion-MNIST"):
        named_sets.recognise(tmp_path / "downloads")


def test_not_found_lists_every_place_and_every_way(places, tmp_path):
    code, out, err = run_cli(
        "train", "resnet20_cifar", "--data", "fashion_mnist", "--out", tmp_path / "run"
    )
    assert code == 2 and "Traceback" not in err
    assert "error: The files of Fashion-MNIST (fashion_mnist) were not found. Looked in:" in err
    for place in (
        places["keras"] / "fashion-mnist",
        places["debian"] / "fashion-mnist",
        places["torch"] / "FashionMNIST/raw",
    ):
        assert str(place) in err
    assert "sudo apt install dataset-fashion-mnist" in err
    assert "keras.datasets.fashion_mnist.load_data()" in err
    assert not (tmp_path / "run").exists()


def test_cifar10_not_found_names_no_apt_package(places):
    with pytest.raises(DataError) as error:
        named_sets.find("cifar10")
    assert "apt" not in str(error.value) and "cifar-10-batches-py" in str(error.value)


def test_an_unknown_name_is_no_data_set_but_a_folder(places, tmp_path):
    with pytest.raises(DataError, match="unknown data set 'fashion'. Did you mean 'fashion_mnist'"):
        named_sets.find("fashion")


def fake_download(places, calls):
    def load_data():
        calls.append("fashion_mnist")
        write_idx_set(places["keras"] / "fashion-mnist", train=3, test=1)

    return load_data


def test_download_only_when_asked(places, monkeypatch):
    calls = []
    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", fake_download(places, calls))
    with pytest.raises(DataError, match="were not found"):
        named_sets.find("fashion_mnist")
    assert calls == []
    assert named_sets.find("fashion_mnist", download=True).name == "fashion_mnist"
    assert calls == ["fashion_mnist"]


def test_a_failed_download_is_one_data_error(places, monkeypatch):
    def offline():
        raise OSError("Name or service not known")

    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", offline)
    with pytest.raises(DataError, match="Downloading fashion_mnist .* failed .*not known"):
        named_sets.find("fashion_mnist", download=True)


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    """`train --data fashion_mnist --val test --download` on tiny files keras 'downloads'."""
    root = tmp_path_factory.mktemp("named")
    with pytest.MonkeyPatch.context() as patch:
        places = search_under(root, patch)
        calls = []
        patch.setattr(keras.datasets.fashion_mnist, "load_data", fake_download(places, calls))
        recipe = write_recipe(root / "tiny28.yaml")
        run = root / "run"
        argv = ["train", recipe, "--data", "fashion_mnist", "--out", run, "--verbose", "2"]
        code, out, err = run_cli(*argv, "--val", "test", "--download")
        assert code == 0, err
        yield {"run": run, "stdout": out, "argv": argv, "places": places, "calls": calls}


def test_train_on_a_named_set_validates_on_its_test_split_and_says_so(cli_run):
    assert cli_run["calls"] == ["fashion_mnist"]
    assert (
        "30 training and 10 validation images (from the test split of fashion_mnist: validating "
        "on the test split, as published tables do" in cli_run["stdout"]
    )
    run = cli_run["run"]
    names = json.loads((run / "class_names.json").read_text())
    assert names[0] == "T-shirt/top" and len(names) == 10
    record = json.loads((run / "data.json").read_text())
    assert record["data"] == "fashion_mnist" and record["val"] == "test"
    assert record["validation"]["source"] == "the test split of fashion_mnist"
    assert record["validation"]["images"] == 10 and len(record["train"]["fingerprint"]) == 64


def test_evaluate_a_named_set_uses_its_test_split_and_says_so(cli_run):
    code, out, err = run_cli("evaluate", cli_run["run"], "--data", "fashion_mnist")
    assert code == 0, err
    assert "on 10 test images of fashion_mnist" in out
    assert "T-shirt/top" in out and "Ankle boot" in out
    assert (cli_run["run"] / "confusion_fashion_mnist.png").is_file()


def test_a_corrupt_file_stops_with_its_name_and_leaves_the_run_folder_alone(cli_run, tmp_path):
    # A copy of the cache with one file cut short, so the module's run keeps its good files.
    cache = tmp_path / "keras" / "datasets" / "fashion-mnist"
    shutil.copytree(cli_run["places"]["keras"] / "fashion-mnist", cache)
    images = cache / "train-images-idx3-ubyte.gz"
    images.write_bytes(images.read_bytes()[:-30])
    before = {p.name: p.read_bytes() for p in cli_run["run"].iterdir() if p.is_file()}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KERAS_HOME", str(tmp_path / "keras"))
        code, out, err = run_cli(*cli_run["argv"], "--val", "test")
    assert code == 2 and "Traceback" not in err
    assert f"error: The data file '{images}' cannot be used: a damaged or truncated gzip" in err
    after = {p.name: p.read_bytes() for p in cli_run["run"].iterdir() if p.is_file()}
    assert after == before


@pytest.mark.skipif(not DEBIAN_FASHION.is_dir(), reason=f"{DEBIAN_FASHION} is not installed")
def test_debian_fashion_mnist_counts(places, monkeypatch):
    monkeypatch.setattr(named_sets, "DEBIAN_ROOT", DEBIAN_FASHION.parent)
    start = time.perf_counter()
    found = named_sets.find("fashion_mnist")
    train_split, test_split = found.load("train"), found.load("test")
    seconds = time.perf_counter() - start
    assert found.folder == DEBIAN_FASHION
    assert (len(train_split), len(test_split)) == (60_000, 10_000)
    assert collections.Counter(train_split.labels) == {k: 6000 for k in range(10)}
    assert collections.Counter(test_split.labels) == {k: 1000 for k in range(10)}
    assert train_split.class_names == named_sets.FASHION_MNIST_CLASSES
    assert train_split.images.shape[1:] == (28, 28, 1)
    assert seconds < 10, f"reading Fashion-MNIST took {seconds:.1f} s"


@pytest.mark.skipif(not DEBIAN_FASHION.is_dir(), reason=f"{DEBIAN_FASHION} is not installed")
def test_debian_fashion_mnist_trains_on_a_slice(places, monkeypatch, tmp_path):
    monkeypatch.setattr(named_sets, "DEBIAN_ROOT", DEBIAN_FASHION.parent)
    # The first 400 training images as keras.datasets gives them: (n, 28, 28) uint8, (n,) uint8.
    train_split = named_sets.find("fashion_mnist").load("train")
    x = train_split.images[:400, ..., 0]
    y = np.asarray(train_split.labels[:400], np.uint8)
    history = train(
        write_recipe(tmp_path / "tiny28.yaml"),
        data=(x[:300], y[:300]),
        val=(x[300:], y[300:]),
        class_names=train_split.class_names,
        out=tmp_path / "run",
        epochs=2,
        verbose=0,
    )
    losses = history.history["loss"]
    assert len(losses) == 2 and losses[1] < losses[0], losses
    evaluation = evaluate(tmp_path / "run", (x[300:], y[300:]))
    assert evaluation.class_names == list(named_sets.FASHION_MNIST_CLASSES)
    assert sum(evaluation.counts.values()) == 100


def test_export_checks_on_the_runs_validation_images_of_a_named_set(cli_run):
    from registry.deploy.images import run_validation_images

    batch = run_validation_images(cli_run["run"] / "model.keras", (28, 28), limit=4)
    assert batch.source == "validation images of the run (the test split of fashion_mnist)"
    assert batch.images.shape == (4, 28, 28, 3)
    assert batch.paths[0] == "fashion_mnist:test[0]"
