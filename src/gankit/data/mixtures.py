"""2D Gaussian mixtures used as the standard mode-collapse protocols (8-ring, 25-grid)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True, eq=False)
class Mixture:
    """An equal-weight mixture of isotropic 2D Gaussians sharing one standard deviation.

    `means` is stored as a read-only (K, 2) float64 array.
    """

    means: np.ndarray
    std: float
    name: str

    def __post_init__(self) -> None:
        means = np.array(self.means, dtype=np.float64)
        if means.ndim != 2 or means.shape[1] != 2 or means.shape[0] == 0:
            raise ValueError(f"means must have shape (K, 2) with K >= 1, got {means.shape}")
        if not self.std > 0:
            raise ValueError(f"std must be positive, got {self.std}")
        means.setflags(write=False)
        object.__setattr__(self, "means", means)

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Draw `n` points as a float32 (n, 2) tensor: a uniformly chosen mode plus std * N(0, I)."""
        means = torch.from_numpy(self.means.astype(np.float32))
        modes = torch.randint(len(means), (n,), generator=generator)
        noise = torch.randn(n, 2, generator=generator)
        return means[modes] + self.std * noise


def ring8(radius: float = 2.0, std: float = 0.02) -> Mixture:
    """Eight modes evenly spaced on a circle, at angles 2*pi*k/8 for k = 0..7."""
    angles = 2 * np.pi * np.arange(8) / 8
    means = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return Mixture(means=means, std=std, name="ring8")


def grid25(spacing: float = 2.0, std: float = 0.05) -> Mixture:
    """Twenty-five modes on the grid spacing * {-2, -1, 0, 1, 2}^2."""
    steps = spacing * np.arange(-2, 3, dtype=np.float64)
    means = np.array([(x, y) for x in steps for y in steps])
    return Mixture(means=means, std=std, name="grid25")


MIXTURES = {"ring8": ring8, "grid25": grid25}
