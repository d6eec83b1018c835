"""Streaming metrics with `reset()`, `update(...)`, `compute()` (the TorchMetrics / Ignite protocol).

Each object takes precomputed features (or class probabilities) batch by batch, so an
evaluation loop can stream over data that does not fit in memory, and gives the same
number as the functional core on the concatenated data, whatever the batch size:
- `FID` keeps, per side, the count, the sum and the sum of outer products in float64
  (O(D²) memory, no features kept);
- `KID` and `PRDC` keep the first `max_samples` feature rows per side (float64, on the
  features' device) and call `kid` / `prdc` on them; later rows are ignored;
- `InceptionScore` keeps all probabilities and calls `inception_score`.
"""

from __future__ import annotations

import torch

from gankit.metrics.fid import ArrayLike, as_features, fid_from_features
from gankit.metrics.inception_score import inception_score
from gankit.metrics.kid import kid
from gankit.metrics.prdc import prdc

__all__ = ["FID", "KID", "PRDC", "InceptionScore"]


def _side(real: bool) -> str:
    return "real" if real else "fake"


class _Buffer:
    """The first `capacity` rows of a stream of (N, D) batches, as float64."""

    def __init__(self, capacity: int | None) -> None:
        self.capacity = capacity
        self.parts: list[torch.Tensor] = []
        self.count = 0

    def add(self, rows: torch.Tensor) -> None:
        if self.parts and rows.shape[1] != self.parts[0].shape[1]:
            raise ValueError(f"feature dimension changed from {self.parts[0].shape[1]} to {rows.shape[1]}")
        room = rows.shape[0] if self.capacity is None else max(self.capacity - self.count, 0)
        if room > 0:
            self.parts.append(rows[:room].clone())  # the caller may reuse its buffer
            self.count += min(room, rows.shape[0])

    def all(self, what: str) -> torch.Tensor:
        if not self.parts:
            raise ValueError(f"no {what} to compute on: call update(...) with some first")
        return torch.cat([part.to(self.parts[0].device) for part in self.parts])


class FID:
    """Streaming FID: `update(features, real=...)` per batch, `compute()` at the end (see `fid`)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget everything seen so far."""
        self._count = {"real": 0, "fake": 0}
        self._sum: dict[str, torch.Tensor] = {}
        self._outer: dict[str, torch.Tensor] = {}

    def update(self, features: ArrayLike, *, real: bool) -> None:
        """Add a (B, D) batch of real (`real=True`) or generated features."""
        x = as_features(features)
        side = _side(real)
        if side in self._sum and self._sum[side].shape[0] != x.shape[1]:
            raise ValueError(f"feature dimension changed from {self._sum[side].shape[0]} to {x.shape[1]}")
        if side not in self._sum:
            self._sum[side] = torch.zeros(x.shape[1], dtype=torch.float64, device=x.device)
            self._outer[side] = torch.zeros(x.shape[1], x.shape[1], dtype=torch.float64, device=x.device)
        x = x.to(self._sum[side].device)
        self._count[side] += x.shape[0]
        self._sum[side] += x.sum(dim=0)
        self._outer[side] += x.T @ x

    def stats(self, *, real: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and unbiased covariance of one side so far (e.g. to cache the real statistics)."""
        side = _side(real)
        n = self._count[side]
        if n < 2:
            raise ValueError(f"FID needs at least 2 {side} samples, got {n}: call update(features, real={real}) first")
        mu = self._sum[side] / n
        return mu, (self._outer[side] - n * torch.outer(mu, mu)) / (n - 1)

    def compute(self) -> float:
        """FID between the real and the generated features seen since the last reset."""
        return fid_from_features(*self.stats(real=True), *self.stats(real=False))


class _BufferedPair:
    """Keeps the first `max_samples` feature rows of each side; subclasses compute on them."""

    def __init__(self, max_samples: int) -> None:
        self.max_samples = max_samples
        self.reset()

    def reset(self) -> None:
        """Forget everything seen so far."""
        self._buffers = {side: _Buffer(self.max_samples) for side in ("real", "fake")}

    def update(self, features: ArrayLike, *, real: bool) -> None:
        """Add a (B, D) batch of real (`real=True`) or generated features."""
        self._buffers[_side(real)].add(as_features(features))

    def _features(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self._buffers["real"].all("real features"), self._buffers["fake"].all("fake features")


class KID(_BufferedPair):
    """Streaming KID on up to `max_samples` rows per side (float64: 16·D bytes per row and side)."""

    def __init__(self, n_subsets: int = 100, subset_size: int = 1000, seed: int = 0, max_samples: int = 50_000) -> None:
        self.n_subsets, self.subset_size, self.seed = n_subsets, subset_size, seed
        super().__init__(max_samples)

    def compute(self) -> tuple[float, float]:
        """Mean and std of KID over subsets, as `kid(real, fake, ...)`."""
        return kid(*self._features(), self.n_subsets, self.subset_size, self.seed)


class PRDC(_BufferedPair):
    """Streaming precision/recall/density/coverage on up to `max_samples` rows per side."""

    def __init__(self, k: int = 5, max_samples: int = 10_000, chunk_size: int = 1024) -> None:
        self.k, self.chunk_size = k, chunk_size
        super().__init__(max_samples)

    def compute(self) -> dict[str, float]:
        """The dict of `prdc(real, fake, k)`."""
        return prdc(*self._features(), self.k, self.chunk_size)


class InceptionScore:
    """Streaming Inception Score: `update(probs)` with (B, C) softmax outputs, then `compute()`."""

    def __init__(self, splits: int = 10) -> None:
        self.splits = splits
        self.reset()

    def reset(self) -> None:
        """Forget everything seen so far."""
        self._buffer = _Buffer(None)

    def update(self, probs: ArrayLike) -> None:
        """Add a (B, C) batch of class probabilities."""
        self._buffer.add(as_features(probs, "probs"))

    def compute(self) -> tuple[float, float]:
        """Mean and std of the IS over splits, as `inception_score(probs, splits)`."""
        return inception_score(self._buffer.all("class probabilities"), self.splits)
