"""KID: unbiasedness, direction, and a direct NumPy computation."""

import numpy as np
import pytest

from gankit.metrics import kid, mmd2_unbiased


def numpy_mmd2(x: np.ndarray, y: np.ndarray, biased: bool = False) -> float:
    d = x.shape[1]
    k = lambda a, b: (a @ b.T / d + 1) ** 3  # noqa: E731
    kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
    if biased:
        return float(kxx.mean() + kyy.mean() - 2 * kxy.mean())
    m, n = len(x), len(y)
    return float((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1)) - 2 * kxy.mean())


def test_matches_numpy_on_small_case():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(7, 3)), rng.normal(size=(9, 3)) + 0.5
    assert mmd2_unbiased(x, y) == pytest.approx(numpy_mmd2(x, y), rel=1e-10, abs=1e-12)


def test_unbiased_on_equal_distributions_while_biased_estimator_is_positive():
    rng = np.random.default_rng(1)
    pairs = [(rng.normal(size=(20, 4)), rng.normal(size=(20, 4))) for _ in range(400)]
    unbiased = np.array([mmd2_unbiased(x, y) for x, y in pairs])
    biased = np.array([numpy_mmd2(x, y, biased=True) for x, y in pairs])
    standard_error = unbiased.std(ddof=1) / np.sqrt(len(unbiased))
    assert abs(unbiased.mean()) < 3 * standard_error
    assert biased.mean() > 10 * standard_error


def test_grows_with_a_shift():
    rng = np.random.default_rng(2)
    real = rng.normal(size=(400, 8))
    values = [kid(real, rng.normal(size=(400, 8)) + s, n_subsets=20, subset_size=200)[0] for s in (0.0, 0.5, 1.0)]
    assert abs(values[0]) < values[1] < values[2]


def test_subsets_are_seeded_and_capped_at_the_sample_size():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(50, 5)), rng.normal(size=(60, 5)) + 0.2
    assert kid(a, b, n_subsets=5, subset_size=30, seed=7) == kid(a, b, n_subsets=5, subset_size=30, seed=7)
    assert kid(a, b, n_subsets=5, subset_size=30, seed=7) != kid(a, b, n_subsets=5, subset_size=30, seed=8)
    # subset_size 1000 is capped at 50: all of `a` and 50 of the 60 rows of `b`, drawn as kid draws them.
    rng = np.random.default_rng(0)
    rows_a, rows_b = rng.choice(50, 50, replace=False), rng.choice(60, 50, replace=False)
    mean, std = kid(a, b, n_subsets=1, subset_size=1000, seed=0)
    assert mean == pytest.approx(mmd2_unbiased(a[rows_a], b[rows_b]), rel=1e-10) and std == 0.0


def test_full_sets_as_one_subset_equal_mmd2():
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(30, 4)), rng.normal(size=(30, 4))
    mean, std = kid(a, b, n_subsets=2, subset_size=30)
    assert mean == pytest.approx(mmd2_unbiased(a, b), rel=1e-10) and std == pytest.approx(0.0, abs=1e-12)


def test_rejects_mismatched_dimensions():
    with pytest.raises(ValueError, match="dimension"):
        kid(np.zeros((5, 2)), np.zeros((5, 3)))
