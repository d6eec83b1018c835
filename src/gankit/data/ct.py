"""A parallel-beam CT scanner as a degradation: Radon transform, optional photon noise, filtered back-projection.

Images follow the phantoms' convention (gankit.data.phantoms): pixels in [-1, 1] are HU / 1000, so the
linear attenuation is μ = μ_water (1 + x) with μ_water = 0.02 / mm, over a field of view of
FIELD_OF_VIEW_MM. A scan takes `views` projections evenly over `angle` degrees (scikit-image's
`radon`), draws Poisson counts from `photons` incident photons per detector bin where asked
(transmitted I = I0 exp(−∫μ)), takes −log of the counts, and reconstructs with the ramp filter
(`iradon`). The reconstruction, with its streaks and noise, is the input of a paired run that learns
FBP image → phantom. Needs scikit-image (`pip install -e ".[image]"`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from gankit.errors import ConfigError, DataError

__all__ = ["FIELD_OF_VIEW_MM", "MU_WATER", "Scan", "full_views", "scan_from_steps"]

MU_WATER = 0.02  # linear attenuation of water at CT energies, per mm
FIELD_OF_VIEW_MM = 400.0  # the image's side in mm (a body slice of about 30 cm fits inside)


def full_views(size: int) -> int:
    """The views that sample an image of `size` pixels fully over 180° (π/2 per detector bin), capped at 180."""
    return min(180, math.ceil(math.pi / 2 * size))


@dataclass(frozen=True)
class Scan:
    """One acquisition: `views` projections over `angle` degrees (None: fully sampled, or 1° apart over a limited
    angle), Poisson noise from `photons` incident photons per bin (None: noiseless)."""

    views: int | None = None
    angle: float = 180.0
    photons: float | None = None

    def view_count(self, size: int) -> int:
        if self.views is not None:
            return self.views
        return full_views(size) if self.angle == 180 else max(1, round(self.angle))

    def angles(self, size: int) -> np.ndarray:
        """Projection angles in degrees, evenly over [0, angle)."""
        return np.linspace(0.0, self.angle, self.view_count(size), endpoint=False)

    def check(self, size: int) -> None:
        """Refuse a scan that cannot be taken of `size`-pixel images, in one line."""
        if self.views is not None and self.views > full_views(size):
            raise DataError(f"{self.views} views of {size}-pixel images: a detector of {size} bins is fully sampled by "
                            f"{full_views(size)} views (π/2 per bin, at most 180); use sparse_view:{full_views(size)} "
                            "or fewer, or larger images")

    def sinogram(self, image: np.ndarray) -> np.ndarray:
        """Line integrals ∫μ (dimensionless) of one (S, S) image, one column per view."""
        radon, _ = _skimage_transforms()
        size = image.shape[-1]
        mu_per_pixel = MU_WATER * (1.0 + image) * FIELD_OF_VIEW_MM / size
        return radon(mu_per_pixel, self.angles(size), circle=True)

    def reconstruct(self, sinogram: np.ndarray, size: int) -> np.ndarray:
        """Filtered back-projection (ramp filter) of line integrals, back to HU / 1000."""
        _, iradon = _skimage_transforms()
        mu_per_pixel = iradon(sinogram, self.angles(size), output_size=size, filter_name="ramp", circle=True)
        return mu_per_pixel * size / FIELD_OF_VIEW_MM / MU_WATER - 1.0

    def __call__(self, images: Tensor, generator: torch.Generator) -> Tensor:
        """Scan and reconstruct (N, 1, S, S) images in [-1, 1]; the result is clipped to [-1, 1]."""
        if images.shape[1] != 1:
            raise DataError(f"CT scans take grayscale (N, 1, S, S) images (attenuation maps), got {images.shape[1]} "
                            "channels; set data.channels 1")
        height, width = images.shape[-2:]
        if height != width:
            raise DataError(f"CT scans take square images, got {height}x{width}; crop or resize them to a square")
        self.check(width)
        out = np.empty(images.shape, np.float32)
        for index, image in enumerate(images[:, 0].double().cpu().numpy()):
            sinogram = self.sinogram(image)
            if self.photons is not None:
                sinogram = self._noisy(sinogram, generator)
            out[index, 0] = self.reconstruct(sinogram, width)
        return torch.from_numpy(out).clamp(-1, 1).to(images.device)

    def _noisy(self, sinogram: np.ndarray, generator: torch.Generator) -> np.ndarray:
        """−log of Poisson counts of I0 exp(−∫μ) over I0 (a bin that counts nothing is read as one photon)."""
        rate = torch.from_numpy(self.photons * np.exp(-sinogram))
        counts = torch.poisson(rate, generator=generator).clamp_min(1.0).numpy()
        return -np.log(counts / self.photons)


def _skimage_transforms() -> tuple[Any, Any]:
    """scikit-image's radon and iradon, or one DataError saying how to install them."""
    try:
        from skimage.transform import iradon, radon
    except ImportError:
        raise DataError("CT scans use scikit-image's radon/iradon, which is not installed; run "
                        "`pip install 'gankit[image]'` (or `pip install scikit-image`)") from None
    return radon, iradon


def scan_from_steps(steps: list[tuple[str, float]]) -> Scan:
    """One Scan from consecutive CT steps of a degradation (`sparse_view:N`, `limited_angle:DEG`, `photons:I0`)."""
    settings: dict[str, float] = {}
    for name, value in steps:
        key = {"sparse_view": "views", "limited_angle": "angle", "photons": "photons"}[name]
        if key in settings:
            raise ConfigError(f"{name} appears twice in one scan; give it once")
        settings[key] = value
    return Scan(**settings)
