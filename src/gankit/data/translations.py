"""Known translations between two image domains, for unpaired translation with a ground truth.

`invert` maps x to -x (intensity inversion in [-1, 1]); `dilate:R` is grey-scale morphological dilation
with a (2R+1)x(2R+1) square (strokes thickened by R pixels). Domain B of an unpaired task is the
translation of images A never sees, so the true translation of every held-out image is known.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from gankit.errors import ConfigError

__all__ = ["Translation", "match_histograms", "parse_translation"]

_FORMS = "write invert or dilate:R (R an integer >= 1)"


@dataclass(frozen=True)
class Translation:
    """A named map from domain A to domain B; :func:`parse_translation` builds one."""

    name: str
    radius: int = 0

    @property
    def spec(self) -> str:
        return self.name if self.name == "invert" else f"{self.name}:{self.radius}"

    @property
    def invertible(self) -> bool:
        """Whether the map has an exact inverse (then B images are classified by their inverse)."""
        return self.name == "invert"

    def __call__(self, images: Tensor) -> Tensor:
        """Translate float (N, C, H, W) images in [-1, 1] from domain A to domain B."""
        if self.name == "invert":
            return -images
        size = 2 * self.radius + 1
        return F.max_pool2d(images, size, stride=1, padding=self.radius)

    def as_domain_a(self, images: Tensor) -> Tensor:
        """B images seen as A images by a classifier trained on A: the exact inverse where there is one, else as is."""
        return -images if self.name == "invert" else images


def parse_translation(text: str) -> Translation:
    """Read `invert` or `dilate:R`."""
    name, _, value = str(text).strip().partition(":")
    if name == "invert" and not value:
        return Translation("invert")
    if name == "dilate":
        try:
            radius = int(value)
        except ValueError:
            radius = 0
        if radius >= 1:
            return Translation("dilate", radius)
        raise ConfigError(f"cannot read translation {text!r}: R must be an integer >= 1; {_FORMS}")
    raise ConfigError(f"unknown translation {text!r}; {_FORMS}")


def match_histograms(images: Tensor, reference: Tensor) -> Tensor:
    """Each image's intensities mapped, per channel, onto the pooled intensity distribution of `reference`
    images (quantile matching, as skimage.exposure.match_histograms against one reference): the classic
    translation that needs no pairs and learns nothing, the baseline of unpaired translation tables."""
    out = np.empty(images.shape, dtype=np.float32)
    source, pooled = images.detach().cpu().numpy(), reference.detach().cpu().numpy()
    for channel in range(images.shape[1]):
        ref_values, ref_counts = np.unique(pooled[:, channel], return_counts=True)
        ref_quantiles = np.cumsum(ref_counts) / ref_counts.sum()
        for index in range(len(source)):
            _, inverse, counts = np.unique(source[index, channel], return_inverse=True, return_counts=True)
            mapped = np.interp(np.cumsum(counts) / counts.sum(), ref_quantiles, ref_values)
            out[index, channel] = mapped[inverse].reshape(source.shape[2:])
    return torch.from_numpy(out)
