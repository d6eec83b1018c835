"""Tests for gankit.data.mixtures: mode placement, Gaussian shape of the noise, uniform modes, seeding."""

import math

import numpy as np
import pytest
import torch

from gankit.data import MIXTURES, Mixture, grid25, ring8


def test_ring8_means_are_eight_distinct_points_on_the_circle():
    mixture = ring8(radius=3.0, std=0.1)
    k = np.arange(8)
    expected = 3.0 * np.stack([np.cos(2 * np.pi * k / 8), np.sin(2 * np.pi * k / 8)], axis=1)
    np.testing.assert_allclose(mixture.means, expected, atol=1e-12)
    assert mixture.means.shape == (8, 2)
    assert mixture.means.dtype == np.float64
    gaps = np.linalg.norm(mixture.means[:, None] - mixture.means[None], axis=-1)[~np.eye(8, dtype=bool)]
    neighbour_gap = 2 * 3.0 * math.sin(math.pi / 8)
    assert gaps.min() == pytest.approx(neighbour_gap)
    assert mixture.std == 0.1 and mixture.name == "ring8"


def test_grid25_means_are_the_product_grid():
    mixture = grid25()
    expected = {(x, y) for x in (-4.0, -2.0, 0.0, 2.0, 4.0) for y in (-4.0, -2.0, 0.0, 2.0, 4.0)}
    assert mixture.means.shape == (25, 2)
    assert {tuple(m) for m in mixture.means.tolist()} == expected
    assert mixture.std == 0.05 and mixture.name == "grid25"
    assert {tuple(m) for m in grid25(spacing=0.5).means.tolist()} == {(x / 4, y / 4) for x, y in expected}


def test_registry_maps_names_to_factories():
    assert set(MIXTURES) == {"ring8", "grid25"}
    assert MIXTURES["ring8"]().name == "ring8"
    assert MIXTURES["grid25"]().name == "grid25"


@pytest.mark.parametrize("factory", [ring8, grid25])
def test_samples_are_gaussian_around_uniformly_chosen_modes(factory):
    mixture = factory()
    n = 100_000
    x = mixture.sample(n, torch.Generator().manual_seed(0))
    assert x.shape == (n, 2) and x.dtype == torch.float32
    distances = np.linalg.norm(x.numpy()[:, None, :] - mixture.means[None], axis=-1)
    nearest = distances.argmin(axis=1)
    r = distances.min(axis=1) / mixture.std
    # For a 2D standard Gaussian, P(|z| < 3) = 1 - exp(-9/2) and E|z|^2 = 2.
    assert np.mean(r < 3) == pytest.approx(1 - math.exp(-4.5), abs=0.002)
    assert np.mean(r < 1) == pytest.approx(1 - math.exp(-0.5), abs=0.006)
    assert np.mean(r**2) == pytest.approx(2.0, abs=0.03)
    k = len(mixture.means)
    counts = np.bincount(nearest, minlength=k)
    sd = math.sqrt(n * (1 / k) * (1 - 1 / k))
    assert np.all(np.abs(counts - n / k) < 5 * sd)


def test_same_seed_same_samples_different_seed_different_samples():
    mixture = ring8()
    a = mixture.sample(500, torch.Generator().manual_seed(7))
    b = mixture.sample(500, torch.Generator().manual_seed(7))
    c = mixture.sample(500, torch.Generator().manual_seed(8))
    assert torch.equal(a, b)
    assert not torch.allclose(a, c)


def test_mixture_validates_and_freezes_its_means():
    mixture = Mixture(means=[[0.0, 1.0]], std=1.0, name="one")
    assert mixture.means.dtype == np.float64
    with pytest.raises(ValueError):
        mixture.means[0, 0] = 5.0
    with pytest.raises(ValueError, match="shape"):
        Mixture(means=np.zeros((3, 3)), std=1.0, name="bad")
    with pytest.raises(ValueError, match="std"):
        Mixture(means=np.zeros((3, 2)), std=0.0, name="bad")
