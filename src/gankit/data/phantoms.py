"""Random CT phantoms: 2D body slices with known anatomy, deterministic by seed, each with its tissue map.

Each phantom is a body ellipse with a fat layer under the skin, soft tissue with a smooth texture, a
bone ring broken into rib-like segments, two or three organs, and optionally one small lesion inside
an organ (a little darker or brighter than it). Values are Hounsfield-like units (air -1000, water 0);
`Phantoms.images()` maps them to [-1, 1] as HU / 1000, the convention of the CT degradations
(gankit.data.ct). Random ellipse phantoms are the usual training set of learned CT post-processing
(e.g. FBPConvNet, Jin et al. 2017); the body stays inside the inscribed circle, where a parallel-beam
scan sees every pixel from every angle.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy import ndimage
from torch import Tensor

from gankit.errors import DataError

__all__ = ["HIGH_CONTRAST", "HU", "LESION_CLASSES", "LOW_CONTRAST", "MIN_PHANTOM_SIZE", "TISSUES", "Phantoms",
           "lesion_phantoms", "make_phantoms", "shepp_logan"]

TISSUES = ("air", "fat", "soft_tissue", "organ", "bone", "lesion")
# Hounsfield-like units of each tissue (organs and lesions vary around these per phantom).
HU = {"air": -1000.0, "fat": -100.0, "soft_tissue": 40.0, "organ": 60.0, "bone": 700.0}
LOW_CONTRAST = (20.0, 40.0)  # HU between a lesion and its organ: subtle
HIGH_CONTRAST = (150.0, 300.0)  # conspicuous
MIN_PHANTOM_SIZE = 32  # below this the thinnest structures (the bone ring, lesions) are under a pixel


@dataclass
class Phantoms:
    """N phantoms: `hu` (N, 1, S, S) float32, `tissues` (N, S, S) int64 indices into TISSUES, and
    `lesion` (N,) bool: whether the phantom has a lesion (its label for a detector)."""

    hu: Tensor
    tissues: Tensor
    lesion: Tensor

    def images(self) -> Tensor:
        """The phantoms as images in [-1, 1]: HU / 1000, clipped (air -1, water 0, bone 0.7)."""
        return (self.hu / 1000.0).clamp(-1, 1)

    def __len__(self) -> int:
        return len(self.hu)


def make_phantoms(n: int, size: int = 64, *, seed: int = 0, lesion_rate: float = 0.0,
                  lesion_contrast: tuple[float, float] = LOW_CONTRAST) -> Phantoms:
    """`n` random phantoms of `size` pixels; phantom i depends only on (seed, i), so a larger `n` extends a
    smaller one. Each has a lesion with probability `lesion_rate`, darker or brighter than its organ by a
    uniform draw from `lesion_contrast` HU (LOW_CONTRAST: subtle, as most lesions in unenhanced CT;
    HIGH_CONTRAST: conspicuous, as calcified or contrast-enhanced ones)."""
    if isinstance(size, bool) or not isinstance(size, int) or size < MIN_PHANTOM_SIZE:
        raise DataError(f"phantom size {size!r} is below {MIN_PHANTOM_SIZE} pixels, where the bone ring and lesions "
                        f"are thinner than a pixel; use {MIN_PHANTOM_SIZE} or more (64 and 128 are the presets')")
    low, high = lesion_contrast
    if not 0 < low <= high:
        raise DataError(f"lesion_contrast must be (low, high) HU with 0 < low <= high, got {lesion_contrast}")
    if not 0 <= lesion_rate <= 1:
        raise DataError(f"lesion_rate must be a probability in [0, 1], got {lesion_rate}")
    hu = np.empty((n, 1, size, size), np.float32)
    tissues = np.empty((n, size, size), np.int64)
    lesion = np.zeros(n, bool)
    for i in range(n):
        rng = np.random.default_rng(np.random.SeedSequence([seed, i]))
        hu[i, 0], tissues[i], lesion[i] = _phantom(rng, size, lesion_rate, lesion_contrast)
    return Phantoms(torch.from_numpy(hu), torch.from_numpy(tissues), torch.from_numpy(lesion))


LESION_CLASSES = ("no_lesion", "lesion")


def lesion_phantoms(n: int = 2000, size: int = 64) -> tuple[Tensor, Tensor]:
    """The labelled set of lesion detection: images of `n` phantoms (seed 0), half of them (at random) with a
    conspicuous lesion (HIGH_CONTRAST), and their labels (0 no lesion, 1 lesion; LESION_CLASSES)."""
    phantoms = make_phantoms(n, size, seed=0, lesion_rate=0.5, lesion_contrast=HIGH_CONTRAST)
    return phantoms.images(), phantoms.lesion.long()


def shepp_logan(size: int) -> Tensor:
    """scikit-image's (modified) Shepp–Logan head phantom as one (1, 1, size, size) image in [-1, 1], in the
    phantoms' HU / 1000 convention: inside the head, intensity v becomes v − 0.2, so the brain (0.2) is water (0 HU),
    the skull (1.0) bone (800 HU), the ventricles (0) −200 HU and the small features ±100 HU; outside it, air (−1).
    Resized with anti-aliasing. The field's fixed test image; a head, so outside the body phantoms' distribution.
    Needs scikit-image."""
    try:
        from skimage.data import shepp_logan_phantom
        from skimage.transform import resize
    except ImportError:
        raise DataError("the Shepp–Logan phantom comes from scikit-image, which is not installed; run "
                        "`pip install 'gankit[image]'` (or `pip install scikit-image`)") from None
    phantom = shepp_logan_phantom()
    head = ndimage.binary_fill_holes(phantom > 0)  # the skull and all it encloses
    image = resize(np.where(head, phantom - 0.2, -1.0), (size, size), anti_aliasing=True)
    rows, cols = np.ogrid[:size, :size]
    image[(rows - size // 2) ** 2 + (cols - size // 2) ** 2 > (size // 2) ** 2] = -1.0  # air outside the scanned circle
    return torch.from_numpy(image).float().clamp(-1, 1)[None, None]


def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel centres in [-1, 1]² (y down, x right)."""
    coords = (np.arange(size) + 0.5) / size * 2 - 1
    return np.meshgrid(coords, coords, indexing="ij")


def _ellipse(y: np.ndarray, x: np.ndarray, centre: tuple[float, float], axes: tuple[float, float],
             angle: float) -> np.ndarray:
    """The (y, x) points' normalized radius in an ellipse: < 1 inside."""
    dy, dx = y - centre[0], x - centre[1]
    cos, sin = np.cos(angle), np.sin(angle)
    u, v = cos * dx + sin * dy, -sin * dx + cos * dy
    return np.sqrt((u / axes[0]) ** 2 + (v / axes[1]) ** 2)


def _phantom(rng: np.random.Generator, size: int, lesion_rate: float,
             lesion_contrast: tuple[float, float]) -> tuple[np.ndarray, np.ndarray, bool]:
    y, x = _grid(size)
    index = {name: k for k, name in enumerate(TISSUES)}
    centre = tuple(rng.normal(0, 0.02, 2))
    axes = (rng.uniform(0.72, 0.88), rng.uniform(0.55, 0.72))
    angle = rng.uniform(-0.2, 0.2)
    body = _ellipse(y, x, centre, axes, angle)
    tissues = np.full((size, size), index["air"])
    tissues[body < 1] = index["fat"]
    inner = rng.uniform(0.86, 0.92)  # the fat layer under the skin
    tissues[body < inner] = index["soft_tissue"]
    ring_at, thickness = inner * rng.uniform(0.78, 0.84), rng.uniform(0.05, 0.08)
    theta = np.arctan2(y - centre[0], x - centre[1])
    ribs = np.cos(rng.integers(7, 12) * theta + rng.uniform(0, 2 * np.pi)) > -0.4  # the gaps between ribs
    tissues[(np.abs(body - ring_at) < thickness / 2) & ribs] = index["bone"]
    hu = np.zeros((size, size), np.float32)
    for name in ("air", "fat", "soft_tissue", "bone"):
        hu[tissues == index[name]] = HU[name]
    organs = []
    for _ in range(rng.integers(2, 4)):
        organ_centre = (centre[0] + rng.uniform(-0.3, 0.3) * axes[1], centre[1] + rng.uniform(-0.4, 0.4) * axes[0])
        organ = _ellipse(y, x, organ_centre, (rng.uniform(0.12, 0.28), rng.uniform(0.1, 0.22)), rng.uniform(0, np.pi))
        inside = (organ < 1) & (body < ring_at - thickness)
        tissues[inside] = index["organ"]
        hu[inside] = HU["organ"] + rng.uniform(-20, 20)
        organs.append(inside)
    soft = (tissues == index["soft_tissue"]) | (tissues == index["organ"])
    texture = ndimage.gaussian_filter(rng.normal(0, 1, (size, size)), sigma=size / 32)
    hu[soft] += (12 * texture / (texture.std() + 1e-8))[soft]
    has_lesion = bool(rng.random() < lesion_rate) and max(ndimage.distance_transform_edt(o).max() for o in organs) > 4
    if has_lesion:
        _add_lesion(rng, y, x, organs, tissues, hu, index["lesion"], size, lesion_contrast)
    return hu, tissues, has_lesion


def _add_lesion(rng: np.random.Generator, y: np.ndarray, x: np.ndarray, organs: list[np.ndarray],
                tissues: np.ndarray, hu: np.ndarray, label: int, size: int, contrast: tuple[float, float]) -> None:
    """A small ellipse, at least 3 pixels across, wholly inside the largest organ: `contrast` HU darker or brighter."""
    organ = max(organs, key=np.count_nonzero)  # organs are drawn last: every pixel of it is still organ
    depth = ndimage.distance_transform_edt(organ)  # pixels to the organ's edge
    radius_px = min(max(1.5, rng.uniform(0.04, 0.07) * size / 2), depth.max() - 1.5)
    rows, cols = np.nonzero(depth > radius_px + 1)
    pick = rng.integers(len(rows))
    centre = (y[rows[pick], cols[pick]], x[rows[pick], cols[pick]])
    radius = radius_px * 2 / size
    inside = (_ellipse(y, x, centre, (radius, radius * rng.uniform(0.7, 1.0)), rng.uniform(0, np.pi)) < 1) & organ
    tissues[inside] = label
    hu[inside] += rng.choice([-1, 1]) * rng.uniform(*contrast)
