"""Paired (input, target) images for restoration and translation: made by a degradation, read from two
folders, or drawn from scikit-image's bundled sample images; plus aligned random crops of such pairs.

Images follow gankit's convention: float32 (N, C, H, W) in [-1, 1] with C = 1 or 3.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from gankit.data.degradations import Degradation
from gankit.data.images import _MODES, IMAGE_EXTENSIONS, _check_image_size, _to_unit_range, read_image
from gankit.errors import DataError

__all__ = ["SKIMAGE_SPLIT", "load_paired_folders", "paired_from", "random_crops", "skimage_images"]

SKIMAGE_SPLIT = {
    "train": ("rocket", "immunohistochemistry", "hubble_deep_field", "retina", "camera", "brick", "grass",
              "gravel", "moon"),
    "test": ("astronaut", "coffee", "chelsea"),
}
"""A fixed split of the scikit-image sample images by name; every one ships inside the scikit-image wheel."""

_SHOWN = 5  # unmatched names listed per side in an error


def paired_from(images: Tensor, degradation: Degradation, seed: int) -> tuple[Tensor, Tensor]:
    """(inputs, targets) = (degradation(images, seed), images)."""
    return degradation(images, seed), images


def load_paired_folders(
    inputs_dir: str | Path, targets_dir: str | Path, image_size: int | None, channels: int
) -> tuple[Tensor, Tensor]:
    """Images of two folders paired by file name, sorted by name, as (inputs, targets) in [-1, 1].

    Names pair without their extension (`0001.jpg` with `0001.png`). With `image_size`, every image is
    resized (Pillow bicubic) to image_size x image_size, as `load_image_folder` does; with None, sizes are
    kept and must agree within each folder (super-resolution pairs: inputs smaller than targets).
    """
    if image_size is not None:
        _check_image_size(image_size)
    if channels not in _MODES:
        raise DataError(f"channels must be 1 (grayscale) or 3 (RGB), got {channels!r}")
    inputs, targets = _image_files(Path(inputs_dir)), _image_files(Path(targets_dir))
    missing_inputs = sorted(set(targets) - set(inputs))
    missing_targets = sorted(set(inputs) - set(targets))
    if missing_inputs or missing_targets:
        raise DataError(
            f"the folders do not pair up: no input for {_names(missing_inputs)} and no target for "
            f"{_names(missing_targets)}; give every image in {inputs_dir} a same-named image in {targets_dir}"
        )
    names = sorted(inputs)
    return (_read_all([inputs[n] for n in names], image_size, channels),
            _read_all([targets[n] for n in names], image_size, channels))


def _image_files(folder: Path) -> dict[str, Path]:
    """The PNG/JPEG files directly in `folder` by name without extension."""
    if not folder.is_dir():
        what = "is a file, not a folder" if folder.exists() else "does not exist"
        raise DataError(f"{folder} {what}; pass an existing folder of PNG/JPEG images")
    files: dict[str, Path] = {}
    for file in sorted(folder.iterdir()):
        if file.is_file() and file.suffix.lower() in IMAGE_EXTENSIONS:
            if file.stem in files:
                raise DataError(f"{files[file.stem].name} and {file.name} in {folder} share a name; "
                                "keep one image per name")
            files[file.stem] = file
    if not files:
        raise DataError(f"no image files in {folder} (looked for {', '.join(IMAGE_EXTENSIONS)}, any case); "
                        "put the images directly in that folder")
    return files


def _names(names: list[str]) -> str:
    if not names:
        return "none"
    more = f" and {len(names) - _SHOWN} more" if len(names) > _SHOWN else ""
    return ", ".join(repr(n) for n in names[:_SHOWN]) + more


def _read_all(files: list[Path], image_size: int | None, channels: int) -> Tensor:
    """Read `files` in order as (N, channels, H, W) in [-1, 1]; without image_size all must share one size."""
    arrays = []
    for file in files:
        array = read_image(file, channels, image_size)
        if arrays and array.shape != arrays[0].shape:
            raise DataError(
                f"{file} is {array.shape[1]}x{array.shape[0]} but {files[0]} is {arrays[0].shape[1]}x"
                f"{arrays[0].shape[0]}; resize the folder's images to one size or pass image_size"
            )
        arrays.append(array)
    return _to_unit_range(np.stack(arrays).transpose(0, 3, 1, 2), 255.0)


def skimage_images(names: Sequence[str], channels: int, size: int) -> Tensor:
    """scikit-image sample images (bundled in its wheel, never downloaded) as (len(names), channels, size, size).

    Color images become gray by Pillow's ITU-R 601-2 luma (as `load_image_folder` does), gray ones are
    replicated for RGB; each is center-cropped to a square and resized by Pillow's bicubic filter
    (antialiased when shrinking), then mapped to [-1, 1].
    """
    known = SKIMAGE_SPLIT["train"] + SKIMAGE_SPLIT["test"]
    _check_image_size(size)
    if channels not in _MODES:
        raise DataError(f"channels must be 1 (grayscale) or 3 (RGB), got {channels!r}")
    if isinstance(names, str) or not names:
        raise DataError(f"pass a non-empty list of scikit-image sample names, got {names!r}")
    unknown = [name for name in names if name not in known]
    if unknown:
        raise DataError(f"unknown scikit-image sample {unknown[0]!r}; use some of {', '.join(known)}")
    try:
        from skimage import data
    except ImportError:
        raise DataError(
            "the sample images ship with scikit-image, which is not installed; "
            "run `pip install 'gankit[image]'` (or `pip install scikit-image`)"
        ) from None
    arrays = []
    for name in names:
        image = Image.fromarray(getattr(data, name)()).convert(_MODES[channels])
        side = min(image.size)
        left, top = (image.width - side) // 2, (image.height - side) // 2
        square = image.crop((left, top, left + side, top + side))
        resized = square.resize((size, size), Image.Resampling.BICUBIC)
        arrays.append(np.asarray(resized, dtype=np.uint8).reshape(size, size, channels))
    return _to_unit_range(np.stack(arrays).transpose(0, 3, 1, 2), 255.0)


def random_crops(
    inputs: Tensor, targets: Tensor, crop: int, scale: int, generator: torch.Generator, n: int
) -> tuple[Tensor, Tensor]:
    """`n` aligned crops: (n, C, crop, crop) of inputs and (n, C, crop*scale, crop*scale) of targets.

    Each crop picks an image uniformly (with replacement) and an input position (top, left) uniformly;
    the target crop starts at (top*scale, left*scale), so it covers the same region. `targets` must be
    `scale` times the inputs' size per side. The draws come from `generator` (a CPU generator).
    """
    for label, value in (("crop", crop), ("scale", scale), ("n", n)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise DataError(f"{label} must be a positive integer, got {value!r}")
    if inputs.ndim != 4 or targets.ndim != 4 or len(inputs) != len(targets) or len(inputs) == 0:
        raise DataError(f"pass as many (N, C, H, W) inputs as targets, got shapes {tuple(inputs.shape)} "
                        f"and {tuple(targets.shape)}")
    count, _, height, width = inputs.shape
    if tuple(targets.shape[-2:]) != (height * scale, width * scale):
        raise DataError(
            f"targets are {targets.shape[-2]}x{targets.shape[-1]} but inputs are {height}x{width} at scale "
            f"{scale}, which needs {height * scale}x{width * scale} targets; pass the pairs' true scale"
        )
    if crop > min(height, width):
        raise DataError(f"crop {crop} is larger than the {height}x{width} inputs; "
                        f"lower crop to at most {min(height, width)} or use larger images")
    index = torch.randint(count, (n,), generator=generator)
    top = torch.randint(height - crop + 1, (n,), generator=generator)
    left = torch.randint(width - crop + 1, (n,), generator=generator)
    return _crops(inputs, index, top, left, crop), _crops(targets, index, top * scale, left * scale, crop * scale)


def _crops(images: Tensor, index: Tensor, top: Tensor, left: Tensor, size: int) -> Tensor:
    """images[index[k], :, top[k]:top[k]+size, left[k]:left[k]+size] for every k, stacked."""
    offsets = torch.arange(size)
    rows = (top[:, None] + offsets).to(images.device)
    cols = (left[:, None] + offsets).to(images.device)
    picked = images[index.to(images.device)[:, None, None], :, rows[:, :, None], cols[:, None, :]]
    return picked.permute(0, 3, 1, 2)
