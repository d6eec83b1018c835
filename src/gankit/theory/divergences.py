"""Divergences between 1D distributions, computed numerically: JS by quadrature, W_p by quantiles.

Only NumPy and torch (for the normal quantile); SciPy serves as the independent check in the tests.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

__all__ = [
    "central_difference",
    "gaussian_log_pdf",
    "gaussian_quantile",
    "js_divergence",
    "wasserstein",
]

LogDensity = Callable[[np.ndarray], np.ndarray]
Quantile = Callable[[np.ndarray], np.ndarray]


def gaussian_log_pdf(mean: float, std: float) -> LogDensity:
    """log N(x; mean, std²) as a vectorized function of x."""
    log_norm = math.log(std * math.sqrt(2.0 * math.pi))
    return lambda x: -0.5 * ((x - mean) / std) ** 2 - log_norm


def gaussian_quantile(mean: float, std: float) -> Quantile:
    """The quantile function u -> mean + std·Φ⁻¹(u) of N(mean, std²)."""
    return lambda u: mean + std * torch.special.ndtri(torch.as_tensor(u, dtype=torch.float64)).numpy()


def js_divergence(log_p: LogDensity, log_q: LogDensity, lo: float, hi: float, points: int = 40_001) -> float:
    """Jensen-Shannon divergence in nats (between 0 and ln 2) by the trapezoid rule on [lo, hi].

    Works in log space, so tails where a density underflows contribute 0 instead of NaN.
    The interval must hold (almost) all the mass of both densities.
    """
    x = np.linspace(lo, hi, points)
    lp, lq = log_p(x), log_q(x)
    log_m = np.logaddexp(lp, lq) - math.log(2.0)
    integrand = 0.5 * (np.exp(lp) * (lp - log_m) + np.exp(lq) * (lq - log_m))
    return float(np.trapezoid(integrand, x))


def wasserstein(quantile_p: Quantile, quantile_q: Quantile, order: float = 1.0, points: int = 20_000) -> float:
    """W_order between two 1D distributions: (∫₀¹ |F_p⁻¹(u) − F_q⁻¹(u)|^order du)^(1/order), midpoint rule."""
    u = (np.arange(points) + 0.5) / points
    gap = np.abs(quantile_p(u) - quantile_q(u))
    return float(np.mean(gap**order) ** (1.0 / order))


def central_difference(f: Callable[[float], float], a: float, h: float) -> float:
    """(f(a+h) − f(a−h)) / 2h: the derivative with O(h²) error."""
    return (f(a + h) - f(a - h)) / (2.0 * h)
