"""Two imaging modalities of the same anatomy: phantoms' tissue maps rendered with a CT-like and an MR-like
contrast table, and the threshold segmentation that reads tissues back from either.

`ct`: bone bright, fat dark (air < fat < soft tissue < organ < lesion < bone), as a soft-tissue window of
CT shows them. `mr`: a T1-like ordering (air < bone < lesion < soft tissue < organ < fat) with a smooth
multiplicative bias field and Rician noise (the magnitude of a complex signal with Gaussian noise in each
part), the two artifacts that make MR intensities unreliable. Both renderings of phantom i share its
soft-tissue texture, so the pair is the same anatomy; the bias field and the noise are MR's own. A
rendering is an image in [-1, 1] (intensity v in [0, 1] → 2v − 1). This is a phantom model of the
contrast problem, not a physical MR simulation.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy import ndimage
from torch import Tensor

from gankit.data.phantoms import TISSUES
from gankit.errors import ConfigError

__all__ = ["BIAS_STRENGTH", "CONTRASTS", "RICIAN_SIGMA", "TEXTURE_STD", "render", "segment"]

CONTRASTS = {  # intensity in [0, 1] of each tissue of gankit.data.phantoms.TISSUES
    "ct": {"air": 0.0, "fat": 0.30, "soft_tissue": 0.50, "organ": 0.60, "bone": 1.0, "lesion": 0.70},
    "mr": {"air": 0.0, "fat": 0.90, "soft_tissue": 0.40, "organ": 0.60, "bone": 0.15, "lesion": 0.27},
}
TEXTURE_STD = 0.02  # soft tissue and organs: smooth texture shared by both modalities
BIAS_STRENGTH = 0.15  # MR: the bias field is exp of a random quadratic whose coefficients are within ±this
RICIAN_SIGMA = 0.03  # MR: the noise's standard deviation in each of the real and imaginary parts


def _levels(modality: str) -> np.ndarray:
    if modality not in CONTRASTS:
        raise ConfigError(f"unknown modality {modality!r}; use one of {', '.join(CONTRASTS)}")
    return np.array([CONTRASTS[modality][name] for name in TISSUES])


def render(tissues: Tensor, modality: str, *, seed: int = 0) -> Tensor:
    """(N, 1, S, S) images in [-1, 1] of (N, S, S) tissue maps in `modality`'s contrast; image i depends only on
    (seed, i) and its map, and both modalities give image i the same texture."""
    levels = _levels(modality)
    maps = tissues.cpu().numpy()
    size = maps.shape[-1]
    out = np.empty((len(maps), 1, size, size), np.float32)
    soft = [TISSUES.index("soft_tissue"), TISSUES.index("organ")]
    y, x = np.meshgrid(np.linspace(-1, 1, size), np.linspace(-1, 1, size), indexing="ij")
    for i, tissue_map in enumerate(maps):
        texture_rng = np.random.default_rng(np.random.SeedSequence([seed, i, 0]))
        texture = ndimage.gaussian_filter(texture_rng.normal(0, 1, (size, size)), sigma=size / 32)
        image = levels[tissue_map] + np.isin(tissue_map, soft) * TEXTURE_STD * texture / (texture.std() + 1e-8)
        if modality == "mr":
            rng = np.random.default_rng(np.random.SeedSequence([seed, i, 1]))
            a = rng.uniform(-BIAS_STRENGTH, BIAS_STRENGTH, 5)
            image = image * np.exp(a[0] * x + a[1] * y + a[2] * x * y + a[3] * x**2 + a[4] * y**2)
            real, imaginary = image + rng.normal(0, RICIAN_SIGMA, image.shape), rng.normal(0, RICIAN_SIGMA, image.shape)
            image = np.hypot(real, imaginary)
        out[i, 0] = np.clip(image, 0, 1) * 2 - 1
    return torch.from_numpy(out)


def segment(images: Tensor, modality: str) -> Tensor:
    """Tissue maps (N, S, S) read from (N, 1, S, S) images in [-1, 1]: each pixel is the tissue whose level in
    `modality`'s table is nearest (thresholds halfway between neighbouring levels)."""
    levels = torch.from_numpy(_levels(modality)).to(images.dtype)
    intensity = (images[:, 0].detach().cpu() + 1) / 2
    return (intensity[..., None] - levels).abs().argmin(-1)
