"""Kernel Inception Distance on precomputed features (Bińkowski et al. 2018, arXiv:1801.01401).

KID is the unbiased estimate of the squared MMD under the cubic polynomial kernel
k(x, y) = (xᵀy / d + 1)³, averaged over random subsets of equal size (as in the
paper's code and StyleGAN2-ADA's `kid50k`). Unlike FID its estimator is unbiased:
two samples of one distribution score 0 on average, whatever the sample size.
"""

from __future__ import annotations

import numpy as np
import torch

from gankit.metrics.fid import ArrayLike, as_features

__all__ = ["kid", "mmd2_unbiased", "polynomial_kernel"]


def polynomial_kernel(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Gram matrix k(x_i, y_j) = (x_iᵀ y_j / d + 1)³ for (N, d) and (M, d) inputs."""
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def _mmd2(x: torch.Tensor, y: torch.Tensor) -> float:
    """Unbiased MMD² of float64 tensors (the U-statistic: diagonals of k(x,x) and k(y,y) left out)."""
    m, n = x.shape[0], y.shape[0]
    k_xx, k_yy = polynomial_kernel(x, x), polynomial_kernel(y, y)
    xx = (k_xx.sum() - k_xx.diagonal().sum()) / (m * (m - 1))
    yy = (k_yy.sum() - k_yy.diagonal().sum()) / (n * (n - 1))
    return float(xx + yy - 2.0 * polynomial_kernel(x, y).mean())


def mmd2_unbiased(x: ArrayLike, y: ArrayLike) -> float:
    """Unbiased MMD² between (M, D) and (N, D) feature sets (M, N >= 2) with the KID kernel.

    Bińkowski et al. 2018, eq. 2 (after Gretton et al. 2012, lemma 6). Can be slightly
    negative when the two distributions are equal.
    """
    x_, y_ = as_features(x, "x", min_rows=2), as_features(y, "y", min_rows=2)
    if x_.shape[1] != y_.shape[1]:
        raise ValueError(f"x and y must have the same feature dimension, got {x_.shape[1]} and {y_.shape[1]}")
    return _mmd2(x_, y_.to(x_.device))


def kid(
    features_a: ArrayLike, features_b: ArrayLike, n_subsets: int = 100, subset_size: int = 1000, seed: int = 0
) -> tuple[float, float]:
    """Mean and standard deviation of the unbiased MMD² over `n_subsets` random subsets.

    Each subset draws min(subset_size, N_a, N_b) rows without replacement from each side
    (StyleGAN2-ADA's rule), from a NumPy generator seeded with `seed`, so equal inputs and
    seed give equal numbers. The std is over subsets (ddof=0), as in torch-fidelity.
    """
    a = as_features(features_a, "features_a", min_rows=2)
    b = as_features(features_b, "features_b", min_rows=2).to(a.device)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"feature dimensions differ: {a.shape[1]} and {b.shape[1]}")
    if n_subsets < 1 or subset_size < 2:
        raise ValueError(f"need n_subsets >= 1 and subset_size >= 2, got {n_subsets} and {subset_size}")
    size = min(subset_size, a.shape[0], b.shape[0])
    rng = np.random.default_rng(seed)
    values = [
        _mmd2(a[torch.from_numpy(rng.choice(a.shape[0], size, replace=False)).to(a.device)],
              b[torch.from_numpy(rng.choice(b.shape[0], size, replace=False)).to(a.device)])
        for _ in range(n_subsets)
    ]
    return float(np.mean(values)), float(np.std(values))
