"""JS vs Wasserstein for a generated mass moving away from the data, against SciPy and closed forms."""

import math

import numpy as np
import pytest
from scipy import integrate, stats

from gankit.theory.divergences import gaussian_log_pdf, gaussian_quantile, js_divergence, wasserstein
from gankit.theory.landscape import half_w2_squared, js, landscape, w1

SIGMA = 0.05


def scipy_js(p, q, lo, hi, breaks):
    def integrand(x):
        px, qx = p.pdf(x), q.pdf(x)
        m = (px + qx) / 2
        return 0.5 * (px * np.log(px / m) if px > 0 else 0.0) + 0.5 * (qx * np.log(qx / m) if qx > 0 else 0.0)

    return integrate.quad(integrand, lo, hi, points=breaks, epsabs=1e-13, epsrel=1e-11, limit=200)[0]


@pytest.mark.parametrize("a", [0.005, 0.03, 0.1, 0.2])
def test_js_matches_scipy_quadrature(a):
    expected = scipy_js(stats.norm(0, SIGMA), stats.norm(a, SIGMA), -1.0, 1.0 + a, [0.0, a])
    assert js(a, SIGMA) == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_js_of_unequal_gaussians_matches_scipy():
    got = js_divergence(gaussian_log_pdf(0, 1), gaussian_log_pdf(1, 1.5), -15, 16)
    assert got == pytest.approx(scipy_js(stats.norm(0, 1), stats.norm(1, 1.5), -15, 16, [0, 1]), rel=1e-9)


@pytest.mark.parametrize("a", [1.0, 2.0, -1.5])
def test_js_saturates_at_ln2_and_its_gradient_vanishes(a):
    curves = landscape(np.array([a]), SIGMA)
    assert curves.values["JS"][0] == pytest.approx(math.log(2), abs=1e-6)
    assert abs(curves.gradients["JS"][0]) < 1e-6


def test_js_gradient_is_large_while_the_supports_overlap():
    offsets = np.array([SIGMA, 2 * SIGMA])
    curves = landscape(offsets, SIGMA)
    assert (curves.gradients["JS"] > 1.0).all()
    # Against the same central difference (step 1e-3·σ) of SciPy's adaptive quadrature.
    h = 1e-3 * SIGMA
    for a, got in zip(offsets, curves.gradients["JS"]):
        ends = [scipy_js(stats.norm(0, SIGMA), stats.norm(b, SIGMA), -1.0, 1.0 + b, [0.0, b]) for b in (a + h, a - h)]
        assert got == pytest.approx((ends[0] - ends[1]) / (2 * h), rel=1e-5)


@pytest.mark.parametrize("a", [0.01, 0.3, 1.0, 2.0])
def test_wasserstein_values_and_gradients_are_the_closed_forms(a):
    curves = landscape(np.array([a, -a]), SIGMA)
    np.testing.assert_allclose(curves.values["W1"], [a, a], rtol=1e-9)
    np.testing.assert_allclose(curves.gradients["W1"], [1.0, -1.0], rtol=1e-6)  # sign(a): constant magnitude
    np.testing.assert_allclose(curves.values["½W2²"], [a * a / 2, a * a / 2], rtol=1e-9)
    np.testing.assert_allclose(curves.gradients["½W2²"], [a, -a], rtol=1e-6)  # a spring: d(½a²)/da = a
    assert w1(a, SIGMA) == pytest.approx(a, rel=1e-9)
    assert half_w2_squared(a, SIGMA) == pytest.approx(a * a / 2, rel=1e-9)


def test_wasserstein_of_unequal_gaussians_matches_scipy_and_the_w2_closed_form():
    p, q = gaussian_quantile(0.0, 1.0), gaussian_quantile(0.7, 2.0)
    # W1 = ∫|F_p − F_q| dx, an independent formula
    expected_w1 = integrate.quad(lambda x: abs(stats.norm(0, 1).cdf(x) - stats.norm(0.7, 2).cdf(x)), -30, 30,
                                 points=[0.0, 0.7], limit=200)[0]
    assert wasserstein(p, q, order=1, points=200_000) == pytest.approx(expected_w1, rel=1e-4)
    # W2² between Gaussians = (Δμ)² + (Δσ)²
    assert wasserstein(p, q, order=2, points=200_000) ** 2 == pytest.approx(0.7**2 + 1.0**2, rel=1e-4)
