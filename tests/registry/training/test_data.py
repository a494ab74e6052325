"""Tests of the image-folder pipeline: scanning and its errors, decoding, batching, splitting."""

from __future__ import annotations

import collections
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st
from image_files import BLUE, COLOUR_CASES, GREEN, RED, write_image
from PIL import Image

from registry.training import decode
from registry.training.data import (
    DataError,
    ImageFolder,
    image_dataset,
    scan_image_folder,
    split_folder,
)
from registry.training.split import stratified_split


def _batches(dataset):
    images, labels = zip(*[(x.numpy(), y.numpy()) for x, y in dataset])
    return np.concatenate(images), np.concatenate(labels)


def _two_classes(root: Path, n: int = 3, ext: str = "png") -> Path:
    for name, rgb in (("a", RED), ("b", GREEN)):
        for i in range(n):
            write_image(root / name / f"{i}.{ext}", "RGB", rgb=rgb)
    return root


# --- scanning --------------------------------------------------------------


def test_scan_finds_classes_images_and_leaves_out_the_rest(three_class_folder):
    folder = scan_image_folder(three_class_folder)
    assert folder.class_names == ("blue", "green", "red")  # sorted, hidden folder left out
    assert len(folder) == 6 + 6 + 7  # red/nested/deep.png counts
    assert collections.Counter(folder.labels) == {0: 6, 1: 6, 2: 7}
    for path, label in zip(folder.paths, folder.labels):
        assert Path(path).relative_to(three_class_folder).parts[0] == folder.class_names[label]
    assert [Path(p).name for p in folder.ignored] == ["notes.txt"]
    assert not any("/." in p for p in folder.paths)
    assert folder.skipped == ()
    assert set(folder.formats) == {"PNG", "JPEG", "BMP", "GIF"}
    assert (60, 45) in folder.sizes
    assert "Found 19 images in 3 classes" in folder.summary()
    assert "ignored 1 non-image files (.txt x1)" in folder.summary()


def test_extensions_are_case_insensitive_and_content_decides_format(tmp_path):
    root = _two_classes(tmp_path / "d")
    write_image(root / "a" / "SHOUT.JPG", "RGB")
    Image.new("RGB", (8, 8), RED).save(root / "a" / "really_png.jpg", "PNG")
    folder = scan_image_folder(root)
    names = {Path(p).name: f for p, f in zip(folder.paths, folder.formats)}
    assert names["SHOUT.JPG"] == "JPEG"
    assert names["really_png.jpg"] == "PNG"


def test_missing_folder(tmp_path):
    with pytest.raises(DataError, match="does not exist") as info:
        scan_image_folder(tmp_path / "nope")
    assert str(tmp_path / "nope") in str(info.value)
    assert "one subfolder per class" in str(info.value)


def test_root_is_a_file(tmp_path):
    path = write_image(tmp_path / "one.png", "RGB")
    with pytest.raises(DataError, match="must be a directory") as info:
        scan_image_folder(path)
    assert str(path) in str(info.value)
    assert "not a single image" in str(info.value)


def test_no_class_subfolders_says_how_many_loose_images(tmp_path):
    for i in range(3):
        write_image(tmp_path / "flat" / f"{i}.png", "RGB")
    with pytest.raises(DataError, match="no class subfolders") as info:
        scan_image_folder(tmp_path / "flat")
    message = str(info.value)
    assert "It holds 3 images directly" in message
    assert str(tmp_path / "flat" / "cats") in message  # the fix, spelled out


def test_empty_class_folder_is_named(tmp_path):
    root = _two_classes(tmp_path / "d")
    (root / "empty_one").mkdir()
    (root / "webp_only").mkdir()
    (root / "webp_only" / "x.webp").write_bytes(b"RIFF")
    with pytest.raises(DataError, match="hold no images") as info:
        scan_image_folder(root)
    message = str(info.value)
    assert f"'{root / 'empty_one'}' is empty" in message
    assert f"'{root / 'webp_only'}' holds only 1 other file(s) (.webp x1)" in message
    assert "Accepted extensions: .jpg .jpeg .png .bmp .gif" in message
    assert "remove the folder" in message


def test_single_class_needs_two(tmp_path):
    write_image(tmp_path / "d" / "only" / "0.png", "RGB")
    with pytest.raises(DataError, match="only one class subfolder \\('only'\\)") as info:
        scan_image_folder(tmp_path / "d")
    assert "at least 2 classes" in str(info.value)


@pytest.mark.parametrize(
    "name, kind, damage, reason",
    [
        ("cut.jpg", "RGB", "truncate", "truncated"),
        ("cut.png", "RGB", "truncate", "truncated"),
        ("cut.gif", "P", "truncate", "truncated"),
        ("cut.bmp", "RGB", "truncate", "truncated"),
        ("cmyk_cut.jpg", "CMYK", "truncate", "truncated"),
        ("noise.jpg", "RGB", "noise", "not an image PIL recognises"),
        ("empty.png", "RGB", "empty", "not an image PIL recognises"),
        ("flipped.png", "RGB", "flip", "unreadable"),
    ],
)
def test_bad_image_is_named_with_its_reason_and_the_fix(
    tmp_path, truncate, name, kind, damage, reason
):
    root = _two_classes(tmp_path / "d")
    # Large enough that a cut lands inside the pixel data, not the header.
    path = write_image(root / "a" / name, kind, size=(64, 64))
    if damage == "truncate":
        if path.suffix == ".jpg":
            # Noise does not compress: the cut falls well inside the scan data.
            noise = np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8)
            Image.fromarray(noise).convert("CMYK" if kind == "CMYK" else "RGB").save(path)
        truncate(path)
    elif damage == "noise":
        path.write_bytes(np.random.default_rng(0).bytes(500))
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "flip":
        data = bytearray(path.read_bytes())
        data[60:70] = bytes(b ^ 0xFF for b in data[60:70])
        path.write_bytes(bytes(data))
    with pytest.raises(DataError) as info:
        scan_image_folder(root)
    message = str(info.value)
    assert f"{path}: {reason}" in message
    assert "skip_bad_images=True" in message and "--skip-bad-images" in message
    assert "Remove or re-save" in message
    assert "Traceback" not in message


def test_skip_bad_images_records_them(tmp_path, truncate):
    root = _two_classes(tmp_path / "d")
    bad = truncate(write_image(root / "b" / "bad.png", "RGB", size=(64, 64)))
    folder = scan_image_folder(root, skip_bad_images=True)
    assert str(bad) not in folder.paths
    assert len(folder) == 6
    ((path, reason),) = folder.skipped
    assert path == str(bad) and "truncated" in reason
    assert "skipped 1 unreadable images" in folder.summary()


def test_skipping_every_image_of_a_class_is_an_error(tmp_path):
    root = _two_classes(tmp_path / "d")
    (root / "broken").mkdir()
    (root / "broken" / "x.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(DataError, match="Every image of class folder\\(s\\) 'broken'") as info:
        scan_image_folder(root, skip_bad_images=True)
    assert "remove the folder" in str(info.value)


def test_long_lists_of_bad_images_are_cut(tmp_path):
    root = _two_classes(tmp_path / "d")
    for i in range(13):
        (root / "a" / f"bad{i:02d}.png").write_bytes(b"x")
    with pytest.raises(DataError, match="13 image\\(s\\)") as info:
        scan_image_folder(root)
    assert "... and 3 more" in str(info.value)


def test_many_images_are_checked_in_parallel_in_order(tmp_path, truncate):
    # Above the threshold where scanning uses a thread pool.
    root = _two_classes(tmp_path / "d", n=40)
    bad = truncate(write_image(root / "b" / "zz.png", "RGB", size=(64, 64)))
    folder = scan_image_folder(root, skip_bad_images=True)
    assert folder.paths == tuple(sorted(folder.paths))
    assert folder.skipped[0][0] == str(bad)


def test_image_folder_rejects_mismatched_fields():
    with pytest.raises(ValueError, match="same length"):
        ImageFolder("r", ("a", "b"), ("x.png",), (0, 1))
    with pytest.raises(ValueError, match="`formats` must be empty"):
        ImageFolder("r", ("a", "b"), ("x.png",), (0,), formats=("PNG", "PNG"))
    with pytest.raises(ValueError, match="Every label must index `class_names`"):
        ImageFolder("r", ("a", "b"), ("x.png",), (2,))


# --- decoding --------------------------------------------------------------


def test_every_colour_mode_decodes_to_rgb(colour_folder):
    folder = scan_image_folder(colour_folder)
    dataset = image_dataset(folder, image_size=(16, 16), batch_size=8, shuffle=False)
    images, labels = _batches(dataset)
    assert images.shape == (len(folder), 16, 16, 3)
    expected = {name: rgb for name, _, rgb in COLOUR_CASES}
    expected["green.png"] = GREEN
    for path, image in zip(folder.paths, images):
        name = Path(path).name
        tolerance = 3 if name.endswith((".jpg", ".jpeg")) else 0
        np.testing.assert_allclose(image[8, 8], expected[name], atol=tolerance, err_msg=name)
        # Solid images stay solid: no resize or decode artefacts at the edges.
        np.testing.assert_allclose(
            image.min((0, 1)), image.max((0, 1)), atol=tolerance, err_msg=name
        )


def test_same_size_png_is_decoded_exactly(tmp_path):
    root = tmp_path / "d"
    pixels = np.random.default_rng(0).integers(0, 256, (32, 32, 3), np.uint8)
    for name in ("a", "b"):
        (root / name).mkdir(parents=True)
        Image.fromarray(pixels).save(root / name / "x.png")
    folder = scan_image_folder(root)
    images, _ = _batches(image_dataset(folder, image_size=(32, 32), batch_size=2, shuffle=False))
    np.testing.assert_array_equal(images[0], pixels)


def test_resize_is_to_exactly_the_size_without_crop(tmp_path):
    # Left half red, right half blue, 80x40: squashing keeps both halves.
    root = tmp_path / "d"
    pixels = np.zeros((40, 80, 3), np.uint8)
    pixels[:, :40] = RED
    pixels[:, 40:] = BLUE
    for name in ("a", "b"):
        (root / name).mkdir(parents=True)
        Image.fromarray(pixels).save(root / name / "x.png")
    folder = scan_image_folder(root)
    images, _ = _batches(image_dataset(folder, image_size=(20, 30), batch_size=2, shuffle=False))
    assert images.shape[1:] == (20, 30, 3)
    np.testing.assert_array_equal(images[0, :, 0], np.tile(RED, (20, 1)))
    np.testing.assert_array_equal(images[0, :, -1], np.tile(BLUE, (20, 1)))


def test_large_jpeg_is_decoded_at_reduced_scale(tmp_path):
    path = write_image(tmp_path / "d" / "a" / "big.jpg", "RGB", size=(1000, 700))
    write_image(tmp_path / "d" / "b" / "small.png", "RGB", rgb=GREEN)
    folder = scan_image_folder(tmp_path / "d")
    assert decode.choose_route("JPEG", 1000, 700, (32, 32)) == decode.ROUTE_JPEG[8]
    assert decode.choose_route("JPEG", 1000, 700, (224, 224)) == decode.ROUTE_JPEG[2]
    assert decode.choose_route("JPEG", 200, 200, (224, 224)) == decode.ROUTE_JPEG[1]
    images, _ = _batches(image_dataset(folder, image_size=(32, 32), batch_size=2, shuffle=False))
    assert folder.paths[0] == str(path)
    np.testing.assert_allclose(images[0], np.broadcast_to(RED, (32, 32, 3)), atol=3)


def test_large_bmp_is_box_reduced_by_pil_before_resizing(tmp_path):
    root = tmp_path / "d"
    pixels = np.zeros((300, 400, 3), np.uint8)
    pixels[:, :200] = RED
    pixels[:, 200:] = BLUE
    (root / "a").mkdir(parents=True)
    Image.fromarray(pixels).save(root / "a" / "big.bmp")
    write_image(root / "b" / "small.png", "RGB", rgb=GREEN)
    folder = scan_image_folder(root)
    assert decode.choose_route("BMP", 400, 300, (16, 16)) == decode.ROUTE_PIL
    assert decode.choose_route("PNG", 40000, 30000, (16, 16)) == decode.ROUTE_PNG
    # Reduced by 9 = min(300 // 32, 400 // 32), a partial last block counting.
    assert decode.pil_decode(folder.paths[0], 16, 16).shape == (34, 45, 3)
    images, _ = _batches(image_dataset(folder, image_size=(16, 16), batch_size=2, shuffle=False))
    np.testing.assert_array_equal(images[0, :, 0], np.tile(RED, (16, 1)))
    np.testing.assert_array_equal(images[0, :, -1], np.tile(BLUE, (16, 1)))
    # Eagerly too (numpy_function then hands over an array, not bytes).
    path, route = tf.constant(folder.paths[0]), tf.constant(decode.ROUTE_PIL)
    eager = decode.load_resized(path, route, (16, 16))
    np.testing.assert_array_equal(eager.numpy(), images[0].astype(np.uint8))


@pytest.mark.parametrize("source", [(8, 8), (20, 30), (32, 32), (64, 48), (31, 100)])
def test_resize_matches_antialiased_bilinear_in_every_regime(source):
    # Same size passes through, growing skips antialiasing, shrinking uses it:
    # all three must agree with one antialiased bilinear resize.
    pixels = np.random.default_rng(0).integers(0, 256, (*source, 3), np.uint8)
    reference = tf.image.resize(pixels, (32, 32), method="bilinear", antialias=True).numpy()
    got = decode.resize_uint8(tf.constant(pixels), (32, 32)).numpy()
    assert got.dtype == np.uint8 and got.shape == (32, 32, 3)
    assert np.abs(got.astype(np.float64) - reference).max() <= 0.5 + 1e-3


def test_pil_path_scales_16_bit_like_tf(tmp_path):
    path = write_image(tmp_path / "g.png", "I;16")
    np.testing.assert_array_equal(decode.pil_decode(str(path), 32, 32)[0, 0], (156, 156, 156))


def test_folder_built_by_hand_reads_headers_itself(tmp_path):
    a = write_image(tmp_path / "a.jpg", "RGB", size=(64, 64))
    b = write_image(tmp_path / "b.bmp", "P")
    folder = ImageFolder(str(tmp_path), ("x", "y"), (str(a), str(b)), (0, 1))
    images, labels = _batches(image_dataset(folder, image_size=(8, 8), batch_size=4, shuffle=False))
    np.testing.assert_allclose(images[:, 4, 4], [RED, RED], atol=3)
    np.testing.assert_array_equal(labels, [0, 1])
    missing = ImageFolder(str(tmp_path), ("x", "y"), (str(tmp_path / "gone.png"),), (0,))
    with pytest.raises(DataError, match="gone.png"):
        image_dataset(missing, image_size=(8, 8), batch_size=4, shuffle=False)


# --- batching --------------------------------------------------------------


def test_dataset_yields_float_images_and_int_labels_that_match(three_class_folder):
    folder = scan_image_folder(three_class_folder)
    dataset = image_dataset(folder, image_size=(24, 20), batch_size=5, shuffle=True, seed=1)
    assert dataset.element_spec[0].shape.as_list() == [None, 24, 20, 3]
    assert dataset.element_spec[0].dtype.name == "float32"
    assert dataset.element_spec[1].dtype.name == "int32"
    assert dataset.class_names == ["blue", "green", "red"]
    sizes = [len(y) for _, y in dataset]
    assert sizes == [5, 5, 5, 4]
    images, labels = _batches(dataset)
    assert images.min() >= 0 and images.max() <= 255
    colours = np.array([BLUE, GREEN, RED])
    # Each class is a solid colour, so the image tells its label even after shuffling.
    np.testing.assert_allclose(images[:, 10, 10], colours[labels], atol=3)
    assert sorted(labels.tolist()) == sorted(folder.labels)


def test_unshuffled_order_is_folder_order(three_class_folder):
    folder = scan_image_folder(three_class_folder)
    _, labels = _batches(image_dataset(folder, image_size=(8, 8), batch_size=4, shuffle=False))
    assert labels.tolist() == list(folder.labels)


@pytest.mark.parametrize("cache", [True, False])
def test_seeded_shuffle_repeats_and_reshuffles_each_epoch(three_class_folder, cache):
    folder = scan_image_folder(three_class_folder)

    def epochs(seed):
        dataset = image_dataset(
            folder, image_size=(8, 8), batch_size=32, shuffle=True, seed=seed, cache=cache
        )
        return [_batches(dataset)[1].tolist() for _ in range(2)]

    first, again = epochs(3), epochs(3)
    assert first == again
    assert first[0] != first[1]  # a new order every epoch
    assert first[0] != list(folder.labels)


def test_cache_modes_give_the_same_images(three_class_folder, tmp_path):
    folder = scan_image_folder(three_class_folder)
    results = []
    for cache in ("auto", True, False, str(tmp_path / "cache" / "train")):
        dataset = image_dataset(
            folder, image_size=(12, 12), batch_size=8, shuffle=False, cache=cache
        )
        for _ in range(2):  # the second pass reads the cache back
            results.append(_batches(dataset)[0])
    for images in results[1:]:
        np.testing.assert_array_equal(images, results[0])
    cache_files = list((tmp_path / "cache").iterdir())
    assert cache_files and all(p.name.startswith("train-12x12-") for p in cache_files)


def test_auto_cache_skips_the_cache_over_the_limit(three_class_folder, monkeypatch):
    from registry.training import data

    assert 0 < data._cache_limit() <= data.CACHE_LIMIT_BYTES
    folder = scan_image_folder(three_class_folder)
    cached = _batches(image_dataset(folder, image_size=(8, 8), batch_size=8, shuffle=False))
    monkeypatch.setattr(data, "CACHE_LIMIT_BYTES", 0)
    assert data._cache_limit() == 0
    dataset = image_dataset(folder, image_size=(8, 8), batch_size=8, shuffle=True, seed=0)
    first, second = _batches(dataset), _batches(dataset)
    assert first[1].tolist() != second[1].tolist()  # reshuffled from the file list
    np.testing.assert_array_equal(np.sort(first[1]), cached[1])


def test_file_cache_with_shuffle(three_class_folder, tmp_path):
    folder = scan_image_folder(three_class_folder)
    dataset = image_dataset(
        folder, image_size=(8, 8), batch_size=32, shuffle=True, seed=0, cache=str(tmp_path / "c")
    )
    first, second = (_batches(dataset)[1].tolist() for _ in range(2))
    assert sorted(first) == sorted(second) == sorted(folder.labels)
    assert first != second


def test_subset_indices(three_class_folder):
    folder = scan_image_folder(three_class_folder)
    dataset = image_dataset(
        folder, image_size=(8, 8), batch_size=8, shuffle=False, subset_indices=[18, 0, 7]
    )
    assert _batches(dataset)[1].tolist() == [2, 0, 1]
    assert dataset.file_paths == [folder.paths[18], folder.paths[0], folder.paths[7]]
    with pytest.raises(ValueError, match="Indices must lie in \\[0, 19\\)"):
        image_dataset(folder, image_size=(8, 8), batch_size=8, shuffle=False, subset_indices=[19])
    with pytest.raises(DataError, match="after selecting `subset_indices`"):
        image_dataset(folder, image_size=(8, 8), batch_size=8, shuffle=False, subset_indices=[])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (
            {"image_size": 32},
            "`image_size` must be a tuple of 2 positive ints .* Received: image_size=32",
        ),
        ({"image_size": (32, 0)}, "Received: image_size=\\(32, 0\\)"),
        ({"image_size": (32.0, 32)}, "Received: image_size=\\(32.0, 32\\)"),
        ({"batch_size": 0}, "`batch_size` must be a positive int. Received: batch_size=0"),
        (
            {"cache": 2},
            "`cache` must be 'auto', True, False or a file path prefix. Received: cache=2",
        ),
    ],
)
def test_bad_arguments(three_class_folder, kwargs, match):
    folder = scan_image_folder(three_class_folder)
    arguments = {"image_size": (8, 8), "batch_size": 4, "shuffle": False, **kwargs}
    with pytest.raises(ValueError, match=match):
        image_dataset(folder, **arguments)


# --- splitting -------------------------------------------------------------


def test_split_is_stratified_and_deterministic(tmp_path):
    root = tmp_path / "d"
    counts = {"a": 20, "b": 10, "c": 2, "d": 1}
    for name, n in counts.items():
        for i in range(n):
            write_image(root / name / f"{i}.png", "L", size=(4, 4))
    folder = scan_image_folder(root)
    train, val = split_folder(folder, 0.2, seed=0)
    assert train.class_names == val.class_names == folder.class_names
    assert collections.Counter(val.labels) == {0: 4, 1: 2, 2: 1}  # "d" has one image: train only
    assert collections.Counter(train.labels) == {0: 16, 1: 8, 2: 1, 3: 1}
    assert set(train.paths) | set(val.paths) == set(folder.paths)
    assert not set(train.paths) & set(val.paths)
    assert train.paths == tuple(sorted(train.paths))
    assert split_folder(folder, 0.2, seed=0) == (train, val)
    assert split_folder(folder, 0.2, seed=1)[1].paths != val.paths
    # Formats and sizes follow their paths.
    assert dict(zip(val.paths, val.sizes)) == {p: (4, 4) for p in val.paths}


def test_split_errors(tmp_path):
    root = tmp_path / "d"
    write_image(root / "a" / "0.png", "RGB")
    write_image(root / "b" / "0.png", "RGB")
    folder = scan_image_folder(root)
    with pytest.raises(DataError, match="leaves no validation images"):
        split_folder(folder, 0.2, seed=0)
    for bad in (0.0, 1.0, -0.1, "0.2"):
        with pytest.raises(ValueError, match="`val_fraction` must be .*strictly between 0 and 1"):
            split_folder(folder, bad, seed=0)


@settings(max_examples=60, deadline=None)
@given(
    labels=st.lists(st.integers(0, 5), min_size=1, max_size=200),
    val_fraction=st.floats(0.01, 0.99),
    seed=st.integers(0, 2**40),
)
def test_stratified_split_properties(labels, val_fraction, seed):
    train, val = stratified_split(labels, val_fraction, seed)
    assert sorted(train + val) == list(range(len(labels)))
    assert (train, val) == stratified_split(labels, val_fraction, seed)
    counts = collections.Counter(labels)
    val_counts = collections.Counter(labels[i] for i in val)
    for label, n in counts.items():
        k = val_counts[label]
        if n >= 2:
            assert 1 <= k <= n - 1
            assert abs(k - n * val_fraction) <= 0.5 + 1e-9 or k in (1, n - 1)
        else:
            assert k == 0


# --- sharing batches out over processes (multi_host) ------------------------


def _numbered_folder(root: Path, per_class: int = 11) -> ImageFolder:
    """Two classes of flat grey images, image k of the folder at grey level 10 + k."""
    k = 0
    for name in ("a", "b"):
        for i in range(per_class):
            write_image(root / name / f"{i:02d}.png", "RGB", size=(8, 8), rgb=(10 + k,) * 3)
            k += 1
    return scan_image_folder(root)


def _ids(dataset) -> list[list[int]]:
    """Each batch's images, as the grey levels that name them."""
    return [[int(image[0, 0, 0]) for image in images.numpy()] for images, _ in dataset]


@pytest.mark.parametrize("cache", [True, False, "file"])
def test_shards_of_a_batch_are_disjoint_and_make_the_whole_batch(tmp_path, cache):
    folder = _numbered_folder(tmp_path / "numbered")
    cache = str(tmp_path / "cache") if cache == "file" else cache
    common = dict(image_size=(8, 8), batch_size=8, shuffle=True, seed=4, cache=cache)
    whole = _ids(image_dataset(folder, multiple=2, **common))
    parts = [_ids(image_dataset(folder, multiple=2, shard=(i, 2), **common)) for i in (0, 1)]
    # 22 images in batches of 8: 8, 8, then 6 (a multiple of 2, so none left out).
    assert [len(batch) for batch in whole] == [8, 8, 6]
    assert [len(batch) for batch in parts[0]] == [4, 4, 3]
    for batch, first, second in zip(whole, *parts):
        assert first + second == batch
    assert sorted(sum(whole, [])) == list(range(10, 32))  # each image once per epoch


def test_a_batch_is_cut_to_a_multiple_and_the_batches_are_counted(tmp_path):
    folder = _numbered_folder(tmp_path / "numbered", per_class=5)  # 10 images
    dataset = image_dataset(folder, image_size=(8, 8), batch_size=4, shuffle=False, multiple=4)
    assert [len(batch) for batch in _ids(dataset)] == [4, 4]  # the last 2 left out
    assert int(dataset.cardinality()) == 2  # so Keras knows an epoch's steps
    shard = image_dataset(
        folder, image_size=(8, 8), batch_size=4, shuffle=False, multiple=4, shard=(1, 2)
    )
    assert _ids(shard) == [[12, 13], [16, 17]]


def test_a_shard_that_cannot_split_the_batch_is_refused(tmp_path):
    folder = _numbered_folder(tmp_path / "numbered", per_class=2)
    with pytest.raises(ValueError, match=r"Argument `shard` must be \(index, count\)"):
        image_dataset(folder, image_size=(8, 8), batch_size=5, shuffle=False, shard=(0, 2))
