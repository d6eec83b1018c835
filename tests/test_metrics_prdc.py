"""Precision/recall/density/coverage: identical sets, collapse, spread, and a NumPy computation."""

import numpy as np
import pytest

from gankit.metrics import prdc


def numpy_prdc(real: np.ndarray, fake: np.ndarray, k: int) -> dict[str, float]:
    """Naeem et al.'s reference code, with closed balls (<=) as in Kynkäänniemi et al."""
    dist = lambda a, b: np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))  # noqa: E731
    real_radii = np.sort(dist(real, real), axis=1)[:, k]
    fake_radii = np.sort(dist(fake, fake), axis=1)[:, k]
    d = dist(real, fake)
    inside = d <= real_radii[:, None]
    return {
        "precision": inside.any(axis=0).mean(),
        "recall": (d <= fake_radii[None, :]).any(axis=1).mean(),
        "density": inside.sum(axis=0).mean() / k,
        "coverage": (d.min(axis=1) <= real_radii).mean(),
    }


def clusters(rng: np.random.Generator, n_per: int, centres: np.ndarray, std: float = 0.1) -> np.ndarray:
    return np.concatenate([c + std * rng.normal(size=(n_per, centres.shape[1])) for c in centres])


CENTRES = 4.0 * np.array([[np.cos(t), np.sin(t)] for t in np.linspace(0, 2 * np.pi, 8, endpoint=False)])


def test_identical_sets_score_one():
    x = np.random.default_rng(0).normal(size=(200, 5))
    scores = prdc(x, x, k=5)
    assert (scores["precision"], scores["recall"], scores["coverage"]) == (1.0, 1.0, 1.0)
    # Each real ball holds its centre and its k neighbours: k + 1 fake samples, the k-th
    # exactly on the boundary, where matmul-based cdist rounding may leave it out.
    assert 1.0 < scores["density"] <= 6 / 5


def test_independent_samples_of_one_distribution_have_density_near_one():
    rng = np.random.default_rng(4)
    scores = prdc(rng.normal(size=(2000, 4)), rng.normal(size=(2000, 4)), k=5)
    assert scores["density"] == pytest.approx(1.0, abs=0.1)
    assert min(scores["precision"], scores["recall"], scores["coverage"]) > 0.8


def test_matches_numpy_on_small_case():
    rng = np.random.default_rng(1)
    real, fake = rng.normal(size=(50, 4)), rng.normal(size=(40, 4)) * 1.3 + 0.3
    # 1e-12 is far below 1/40, so the counts behind each number are equal.
    for k in (3, 5):
        expected = numpy_prdc(real, fake, k)
        assert prdc(real, fake, k=k, chunk_size=7) == pytest.approx(expected, abs=1e-12)


def test_collapse_lowers_recall_and_coverage_not_precision():
    rng = np.random.default_rng(2)
    real = clusters(rng, 100, CENTRES)
    fake = clusters(rng, 800, CENTRES[:1])
    scores = prdc(real, fake, k=5)
    assert scores["precision"] > 0.9
    assert scores["recall"] < 0.2 and scores["coverage"] < 0.2


def test_samples_off_the_data_lower_precision_and_density_not_recall():
    rng = np.random.default_rng(3)
    real = clusters(rng, 100, CENTRES)
    fake = rng.normal(size=(800, 2)) * 6.0
    scores = prdc(real, fake, k=5)
    assert scores["precision"] < 0.3 and scores["density"] < 0.3
    assert scores["recall"] > 0.9


def test_rejects_too_few_samples():
    with pytest.raises(ValueError, match="N >= 6"):
        prdc(np.zeros((5, 2)), np.zeros((10, 2)), k=5)
