"""Mode coverage of samples from a known Gaussian mixture (the 2D ring/grid protocol).

A sample is *high quality* (HQ) when it lies within `n_std` standard deviations
of its nearest mixture mean; a mode is *captured* when at least `min_count` HQ
samples fall nearest to it (Srivastava et al. 2017, Lin et al. 2018). The
reverse KL compares the histogram of HQ samples over modes with the uniform one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["ModeStats", "mixture_mode_stats"]


@dataclass(frozen=True)
class ModeStats:
    """Modes captured (of `n_modes`), the share of HQ samples, and KL(mode histogram ‖ uniform)."""

    captured: int
    n_modes: int
    hq_fraction: float
    reverse_kl: float
    counts: tuple[int, ...]


def mixture_mode_stats(
    samples: torch.Tensor | np.ndarray,
    means: np.ndarray,
    std: float,
    *,
    n_std: float = 3.0,
    min_count: int = 1,
    min_share: float = 0.0,
) -> ModeStats:
    """Score samples (N, D) against mixture `means` (K, D) with component std `std`.

    A mode is captured when at least max(`min_count`, ⌈`min_share`·N⌉) HQ samples fall nearest to it.
    """
    points = samples.detach().cpu().numpy() if isinstance(samples, torch.Tensor) else np.asarray(samples)
    points = points.astype(np.float64)
    if points.ndim != 2 or points.shape[1] != means.shape[1] or len(points) == 0:
        raise ValueError(f"samples must be (N, {means.shape[1]}) with N > 0, got {points.shape}")
    distances = np.linalg.norm(points[:, None, :] - means[None, :, :], axis=-1)
    nearest = distances.argmin(axis=1)
    high_quality = distances[np.arange(len(points)), nearest] <= n_std * std
    counts = np.bincount(nearest[high_quality], minlength=len(means))
    total = counts.sum()
    if total == 0:
        reverse_kl = math.inf
    else:
        share = counts[counts > 0] / total
        reverse_kl = float(np.sum(share * np.log(share * len(means))))
    return ModeStats(
        captured=int((counts >= max(min_count, math.ceil(min_share * len(points)))).sum()),
        n_modes=len(means),
        hq_fraction=float(high_quality.mean()),
        reverse_kl=reverse_kl,
        counts=tuple(int(c) for c in counts),
    )
