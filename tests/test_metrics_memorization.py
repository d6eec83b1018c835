"""Memorization check: copies are caught, fresh samples look like the training reference."""

import numpy as np
import pytest
import torch

from gankit.metrics import memorization_summary, nearest_neighbour_distances, self_nearest_neighbour_distances


def test_distances_match_brute_force():
    rng = np.random.default_rng(0)
    gen, train = rng.normal(size=(30, 3)), rng.normal(size=(45, 3))
    expected = np.sqrt(((gen[:, None] - train[None]) ** 2).sum(-1)).min(1)
    np.testing.assert_allclose(nearest_neighbour_distances(gen, train, chunk=7).numpy(), expected, rtol=1e-12)
    d = np.sqrt(((train[:, None] - train[None]) ** 2).sum(-1)) + np.diag(np.full(45, np.inf))
    np.testing.assert_allclose(self_nearest_neighbour_distances(train, chunk=8).numpy(), d.min(1), rtol=1e-12)


def test_copies_of_training_samples_are_flagged():
    train = torch.randn(500, 8, generator=torch.Generator().manual_seed(1))
    copies = train[torch.randperm(500, generator=torch.Generator().manual_seed(2))[:200]]
    distances = nearest_neighbour_distances(copies, train)
    assert torch.all(distances <= 1e-6)
    summary = memorization_summary(distances, self_nearest_neighbour_distances(train))
    assert summary["min"] == pytest.approx(0.0, abs=1e-6) and summary["median"] < 1e-6
    assert summary["copy_fraction"] == 1.0


def test_fresh_samples_look_like_the_training_reference():
    rng = np.random.default_rng(3)
    train, fresh = rng.normal(size=(2000, 6)), rng.normal(size=(2000, 6))
    reference = self_nearest_neighbour_distances(train)
    summary = memorization_summary(nearest_neighbour_distances(fresh, train), reference)
    assert summary["median"] == pytest.approx(summary["reference_median"], rel=0.1)
    assert 0.4 < summary["copy_fraction"] < 0.6
    assert summary["min"] <= summary["q01"] <= summary["q05"] <= summary["median"]
    assert summary["min"] > 0.0


def test_summary_without_reference_has_quantiles_only():
    summary = memorization_summary(np.array([3.0, 1.0, 2.0]))
    assert summary == {"min": 1.0, "q01": pytest.approx(1.02), "q05": pytest.approx(1.1), "median": 2.0}
