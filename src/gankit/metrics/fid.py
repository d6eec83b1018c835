"""Fréchet Inception Distance on precomputed features (Heusel et al. 2017, arXiv:1706.08500).

FID(N(μ1, Σ1), N(μ2, Σ2)) = ‖μ1 − μ2‖² + Tr(Σ1 + Σ2 − 2 (Σ1 Σ2)^{1/2}).

Only the trace of the matrix square root is needed. The references (pytorch-fid,
TF-GAN) take `scipy.linalg.sqrtm(Σ1 Σ2)`, a Schur method on a non-symmetric
product: it goes complex or fails when the product is singular (fewer samples
than dimensions) and then needs an εI hack. Here Σ1 Σ2 is similar to the
symmetric PSD matrix M = Σ1^{1/2} Σ2 Σ1^{1/2}, so Tr (Σ1 Σ2)^{1/2} = Σ √λ_i(M):
two `eigh` calls, real by construction, exact on singular covariances (rounding
negatives are clipped to 0), no ε to choose and no SciPy at run time.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["as_features", "fid", "fid_from_features", "gaussian_stats"]

ArrayLike = torch.Tensor | np.ndarray


def as_features(features: ArrayLike, name: str = "features", *, min_rows: int = 1) -> torch.Tensor:
    """Return `features` as a detached float64 (N, D) tensor on its device; reject bad shapes and NaN/inf."""
    tensor = features.detach() if isinstance(features, torch.Tensor) else torch.as_tensor(np.asarray(features))
    if tensor.ndim != 2 or tensor.shape[0] < min_rows or tensor.shape[1] == 0:
        raise ValueError(f"{name} must be a 2D (N, D) array with N >= {min_rows} and D >= 1, got shape {tuple(tensor.shape)}")
    tensor = tensor.to(torch.float64)
    if not torch.isfinite(tensor).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return tensor


def gaussian_stats(features: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Mean (D,) and unbiased covariance (D, D) of (N, D) features, N >= 2, in float64 (as `np.cov`)."""
    x = as_features(features, min_rows=2)
    mu = x.mean(dim=0)
    centred = x - mu
    sigma = centred.T @ centred / (x.shape[0] - 1)
    return mu.cpu().numpy(), sigma.cpu().numpy()


def _numpy64(array: ArrayLike) -> np.ndarray:
    """A float64 NumPy copy of a tensor (any device) or array."""
    if isinstance(array, torch.Tensor):
        array = array.detach().cpu().numpy()
    return np.asarray(array, dtype=np.float64)


def _psd_sqrt(matrix: np.ndarray) -> np.ndarray:
    """Symmetric square root of a symmetric PSD matrix; eigenvalues below 0 (rounding) count as 0."""
    eigenvalues, vectors = np.linalg.eigh(matrix)
    return (vectors * np.sqrt(np.clip(eigenvalues, 0.0, None))) @ vectors.T


def fid_from_features(mu1: ArrayLike, sigma1: ArrayLike, mu2: ArrayLike, sigma2: ArrayLike) -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2) (Heusel et al. 2017, eq. 6).

    Uses Tr (Σ1 Σ2)^{1/2} = Σ √λ(Σ1^{1/2} Σ2 Σ1^{1/2}) (see the module docstring). The result is
    clipped at 0, since rounding can leave a tiny negative number for identical statistics.
    """
    m1, m2, s1, s2 = (_numpy64(array) for array in (mu1, mu2, sigma1, sigma2))
    d = m1.shape[0]
    if m1.shape != (d,) or m2.shape != (d,) or s1.shape != (d, d) or s2.shape != (d, d):
        raise ValueError(f"need means (D,) and covariances (D, D) of one D, got {m1.shape}, {s1.shape}, {m2.shape}, {s2.shape}")
    s1, s2 = (s1 + s1.T) / 2, (s2 + s2.T) / 2
    root1 = _psd_sqrt(s1)
    product = root1 @ s2 @ root1
    trace_covmean = np.sqrt(np.clip(np.linalg.eigvalsh((product + product.T) / 2), 0.0, None)).sum()
    diff = m1 - m2
    value = diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * trace_covmean
    return max(float(value), 0.0)


def fid(features_a: ArrayLike, features_b: ArrayLike) -> float:
    """FID between two (N, D) feature sets (e.g. Inception pool3 features of real and generated images)."""
    return fid_from_features(*gaussian_stats(features_a), *gaussian_stats(features_b))
