"""Precision, recall, density and coverage on precomputed features.

Precision and recall: Kynkäänniemi et al. 2019 (arXiv:1904.06991). Each set's
manifold is the union of balls around its samples, of radius the distance to the
k-th nearest neighbour in the same set. Precision is the share of fake samples
inside the real manifold (fidelity); recall the share of real samples inside the
fake manifold (diversity). The paper uses k=3.

Density and coverage: Naeem et al. 2020 (arXiv:2002.09797), robust to outliers.
Density counts how many real balls hold each fake sample, divided by k (≈ 1 when the
distributions match, can exceed 1); coverage is the share of real samples whose
ball holds at least one fake sample. The paper (and `prdc` there) uses k=5 for all four.

Under mode collapse recall and coverage drop while precision stays high; samples
off the data manifold lower precision and density.

Distances are exact (brute force, no approximate search) Euclidean distances from
`torch.cdist` in float64, `chunk_size` rows at a time, so memory stays O(chunk_size · N)
(10k × 10k: ~80 MB chunks). cdist's fast matmul form rounds a pair's distance slightly
differently from call to call, so a point lying exactly on a ball's boundary (the k-th
neighbour itself when fake samples duplicate real ones) may fall either side; for
continuous features such ties have probability 0.
"""

from __future__ import annotations

import torch

from gankit.metrics.fid import ArrayLike, as_features

__all__ = ["kth_neighbour_radii", "prdc"]


def kth_neighbour_radii(features: torch.Tensor, k: int, chunk_size: int = 1024) -> torch.Tensor:
    """Distance from each row of (N, D) float64 `features` to its k-th nearest other row (N > k)."""
    radii = []
    for rows in torch.split(features, chunk_size):
        distances = torch.cdist(rows, features)
        # The k+1 smallest include the row itself at distance 0 (as in Naeem et al.'s code).
        radii.append(distances.topk(k + 1, dim=1, largest=False).values[:, k])
    return torch.cat(radii)


def prdc(real_features: ArrayLike, fake_features: ArrayLike, k: int = 5, chunk_size: int = 1024) -> dict[str, float]:
    """Precision, recall, density and coverage of `fake_features` (M, D) against `real_features` (N, D).

    Needs N > k and M > k. Returns a dict with keys precision, recall, density, coverage.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    real = as_features(real_features, "real_features", min_rows=k + 1)
    fake = as_features(fake_features, "fake_features", min_rows=k + 1).to(real.device)
    if real.shape[1] != fake.shape[1]:
        raise ValueError(f"feature dimensions differ: real {real.shape[1]}, fake {fake.shape[1]}")
    real_radii = kth_neighbour_radii(real, k, chunk_size)
    fake_radii = kth_neighbour_radii(fake, k, chunk_size)
    # One pass over real rows: d[i, j] = ‖real_i − fake_j‖, columns accumulated across chunks.
    fake_in_real = torch.zeros(fake.shape[0], dtype=torch.int64, device=real.device)
    real_in_fake = covered = 0
    for rows, radii in zip(torch.split(real, chunk_size), torch.split(real_radii, chunk_size)):
        distances = torch.cdist(rows, fake)
        fake_in_real += (distances <= radii[:, None]).sum(dim=0)
        real_in_fake += int((distances <= fake_radii[None, :]).any(dim=1).sum())
        covered += int((distances.min(dim=1).values <= radii).sum())
    m, n = fake.shape[0], real.shape[0]
    return {
        "precision": int((fake_in_real > 0).sum()) / m,
        "recall": real_in_fake / n,
        "density": int(fake_in_real.sum()) / (k * m),
        "coverage": covered / n,
    }
