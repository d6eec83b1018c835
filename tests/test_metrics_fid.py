"""FID core against SciPy, closed forms and sampling; stats form and helpers."""

import numpy as np
import pytest
import scipy.linalg
import torch

from gankit.metrics import fid, fid_from_features, gaussian_stats


def scipy_fid(a: np.ndarray, b: np.ndarray) -> float:
    """The pytorch-fid recipe: np.cov and scipy.linalg.sqrtm of the product."""
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean))


def test_gaussian_stats_match_numpy():
    x = np.random.default_rng(0).normal(size=(300, 6)).astype(np.float32)
    mu, sigma = gaussian_stats(torch.from_numpy(x))  # float32 in, float64 arithmetic
    assert mu.dtype == sigma.dtype == np.float64
    np.testing.assert_allclose(mu, x.astype(np.float64).mean(0), rtol=1e-12)
    np.testing.assert_allclose(sigma, np.cov(x.astype(np.float64), rowvar=False), rtol=1e-12)


def test_set_with_itself_is_zero():
    x = np.random.default_rng(1).normal(size=(500, 32)) * 3 + 1
    mu, sigma = gaussian_stats(x)
    assert 0.0 <= fid_from_features(mu, sigma, mu, sigma) < 1e-6
    assert fid(x, x) < 1e-6


def test_mean_shift_with_identity_covariance_gives_squared_norm():
    rng = np.random.default_rng(2)
    shift = np.array([1.0, -0.5, 0.5, 1.0, 0.0, 0.5, -1.0, 0.5])  # ‖μ‖² = 4
    a = rng.normal(size=(20_000, 8))
    b = rng.normal(size=(20_000, 8)) + shift
    assert fid(a, b) == pytest.approx(4.0, rel=0.03)


def test_matches_scipy_sqrtm_on_random_features():
    rng = np.random.default_rng(3)
    a = rng.normal(size=(400, 20)) @ rng.normal(size=(20, 20))
    b = rng.normal(size=(300, 20)) @ rng.normal(size=(20, 20)) + 0.3
    assert fid(torch.from_numpy(a), b) == pytest.approx(scipy_fid(a, b), rel=1e-6)


def test_diagonal_covariances_closed_form():
    a, b = np.array([1.0, 4.0, 9.0, 0.25]), np.array([4.0, 1.0, 9.0, 2.0])
    mu1, mu2 = np.zeros(4), np.array([1.0, 0.0, 2.0, 0.0])
    expected = 5.0 + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert fid_from_features(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected, rel=1e-12)


def test_symmetric_in_its_arguments():
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(200, 10)), rng.gamma(2.0, size=(250, 10))
    assert fid(a, b) == pytest.approx(fid(b, a), rel=1e-9)


def test_singular_covariance_is_finite_and_non_negative():
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=(10, 64)), rng.normal(size=(12, 64)) + 0.1
    # Independent route: the eigenvalues of Σ1 Σ2 are real and >= 0 up to rounding; sum their square roots.
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    eigenvalues = np.linalg.eigvals(s1 @ s2).real.clip(0.0, None)
    expected = ((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.sqrt(eigenvalues).sum()
    assert fid(a, b) == pytest.approx(expected, rel=1e-6)
    assert 0.0 <= fid(a, a) < 1e-6


def test_rejects_bad_input():
    with pytest.raises(ValueError, match="2D"):
        fid(np.zeros(5), np.zeros((5, 1)))
    with pytest.raises(ValueError, match="NaN"):
        fid(np.full((4, 2), np.nan), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="covariances"):
        fid_from_features(np.zeros(3), np.eye(3), np.zeros(2), np.eye(2))
