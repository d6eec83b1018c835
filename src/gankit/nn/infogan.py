"""InfoGAN players (Chen et al. 2016): latent codes c beside the noise z, and a Q head on D's body.

The generator draws G(z, c); Q(c | x) shares the discriminator's features and predicts
the codes back: logits over the categories of the categorical code and the means of the
continuous codes (a unit-variance Gaussian, the usual fixed-σ choice).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["InfoCodes", "InfoGANDiscriminator", "InfoGANGenerator"]


@dataclass(frozen=True)
class InfoCodes:
    """One categorical code with `categorical` categories (0: none) and `continuous` codes ~ U(-1, 1)."""

    categorical: int = 0
    continuous: int = 0

    def __post_init__(self) -> None:
        if self.categorical == 1 or self.categorical < 0 or self.continuous < 0:
            raise ValueError(f"need categorical 0 or >= 2 and continuous >= 0, got {self}")
        if self.dim == 0:
            raise ValueError("InfoGAN needs at least one code (categorical >= 2 or continuous >= 1)")

    @property
    def dim(self) -> int:
        """Width of the encoded codes: a one-hot of the category, then the continuous values."""
        return self.categorical + self.continuous

    def encode(self, categories: Tensor | None, continuous: Tensor | None) -> Tensor:
        """(N,) category indices and (N, continuous) values -> codes (N, dim)."""
        parts = []
        if self.categorical:
            parts.append(F.one_hot(categories, self.categorical).float())
        if self.continuous:
            parts.append(continuous.float())
        return torch.cat(parts, dim=1)

    def split(self, codes: Tensor) -> tuple[Tensor | None, Tensor | None]:
        """Codes (N, dim) -> (category indices (N,) or None, continuous values (N, continuous) or None)."""
        categories = codes[:, : self.categorical].argmax(dim=1) if self.categorical else None
        continuous = codes[:, self.categorical :] if self.continuous else None
        return categories, continuous

    def sample(self, n: int, *, device: torch.device | str = "cpu", generator: torch.Generator | None = None) -> Tensor:
        """Codes for `n` samples: uniform categories, continuous values uniform in [-1, 1]."""
        categories = torch.randint(self.categorical, (n,), generator=generator) if self.categorical else None
        continuous = torch.rand(n, self.continuous, generator=generator) * 2 - 1 if self.continuous else None
        return self.encode(categories, continuous).to(device)


class InfoGANGenerator(nn.Module):
    """G(z, codes) = base([z, codes]); `base` must take latents of `latent_dim + codes.dim` numbers."""

    def __init__(self, base: nn.Module, codes: InfoCodes, latent_dim: int) -> None:
        super().__init__()
        self.base = base
        self.codes = codes
        self.latent_dim = latent_dim

    def forward(self, z: Tensor, codes: Tensor) -> Tensor:
        return self.base(torch.cat([z, codes], dim=1))


class InfoGANDiscriminator(nn.Module):
    """D(x) -> logits (N,); `scores(x)` also gives Q's output (N, codes.dim) from the same features.

    Q's output holds the category logits first, then the continuous codes' predicted means.
    """

    def __init__(self, base: nn.Module, codes: InfoCodes, hidden: int = 128) -> None:
        super().__init__()
        self.base = base
        self.codes = codes
        self.q_head = nn.Sequential(nn.Linear(base.feature_dim, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, codes.dim))

    def scores(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """(logits (N,), Q's output (N, codes.dim)) from one pass of the body."""
        features = self.base.features(x)
        return self.base.logit_from_features(features), self.q_head(features)

    def forward(self, x: Tensor) -> Tensor:
        return self.scores(x)[0]
