"""A trained discriminator as a density-ratio estimator, against the true ratio and −log 4 + 2·JS."""

import math

import numpy as np
import pytest
import torch
from scipy import integrate, stats

from gankit.theory.ratio import (
    DATA,
    GENERATED,
    REGION_DENSITY,
    central_region,
    optimal_value,
    ratio_experiment,
    train_discriminator,
    true_log_ratio,
)

P, Q = stats.norm(*DATA), stats.norm(*GENERATED)


def test_true_log_ratio_and_region_against_scipy():
    x = np.linspace(-3, 4, 15)
    np.testing.assert_allclose(true_log_ratio(x), P.logpdf(x) - Q.logpdf(x), rtol=1e-12)
    region = central_region()
    ends = np.minimum(P.pdf(region[[0, -1]]), Q.pdf(region[[0, -1]]))
    np.testing.assert_allclose(ends, REGION_DENSITY, rtol=1e-3)  # both densities >= the threshold inside


def test_optimal_value_matches_scipy_quadrature():
    def integrand(x):
        p, q = P.pdf(x), Q.pdf(x)
        return 0.5 * p * np.log(2 * p / (p + q)) + 0.5 * q * np.log(2 * q / (p + q))

    expected_js = integrate.quad(integrand, -20, 20, epsabs=1e-13, limit=200)[0]
    js, value = optimal_value()
    assert js == pytest.approx(expected_js, rel=1e-9)
    assert value == pytest.approx(-math.log(4) + 2 * expected_js, rel=1e-9)


def test_training_is_seeded_and_leaves_the_global_rng_alone():
    state = torch.get_rng_state()
    a, b = train_discriminator(steps=5, seed=3), train_discriminator(steps=5, seed=3)
    assert torch.equal(torch.get_rng_state(), state)
    x = torch.linspace(-2, 2, 7)[:, None]
    assert torch.equal(a(x), b(x))


def test_short_training_already_estimates_the_ratio():
    result = ratio_experiment(steps=300, lr=1e-2, eval_samples=100_000)
    assert result.log_ratio_mae == pytest.approx(np.abs(result.learned_log_ratio - true_log_ratio(result.x)).mean())
    assert result.log_ratio_mae < 0.06
    assert abs(result.value - result.optimal_value) < 0.01


@pytest.mark.slow
def test_default_training_estimates_the_ratio_precisely():
    result = ratio_experiment()
    assert result.log_ratio_mae < 0.02
    assert abs(result.value - result.optimal_value) < 0.005
