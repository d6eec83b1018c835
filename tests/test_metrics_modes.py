"""Mode coverage on hand-built sample sets."""

import math

import numpy as np
import pytest

from gankit.data import grid25, ring8
from gankit.metrics import mixture_mode_stats


def test_perfect_samples_capture_every_mode_with_zero_kl():
    mixture = grid25()
    samples = np.repeat(mixture.means, 4, axis=0)
    stats = mixture_mode_stats(samples, mixture.means, mixture.std)
    assert (stats.captured, stats.n_modes, stats.hq_fraction) == (25, 25, 1.0)
    assert stats.reverse_kl == pytest.approx(0.0, abs=1e-12)
    assert stats.counts == (4,) * 25


def test_collapse_onto_one_mode_gives_log_k_kl():
    mixture = ring8()
    samples = np.tile(mixture.means[3], (100, 1))
    stats = mixture_mode_stats(samples, mixture.means, mixture.std)
    assert stats.captured == 1
    assert stats.reverse_kl == pytest.approx(math.log(8), rel=1e-12)


def test_hq_threshold_is_three_std():
    mixture = ring8()  # std 0.02
    mean = mixture.means[0]
    direction = mean / np.linalg.norm(mean)
    inside = mean + direction * 0.0599
    outside = mean + direction * 0.0601
    stats = mixture_mode_stats(np.stack([inside, outside]), mixture.means, mixture.std)
    assert stats.hq_fraction == 0.5
    assert stats.captured == 1


def test_two_modes_uneven_histogram_kl_by_hand():
    mixture = ring8()
    samples = np.concatenate([np.tile(mixture.means[0], (3, 1)), np.tile(mixture.means[1], (1, 1))])
    stats = mixture_mode_stats(samples, mixture.means, mixture.std)
    expected = 0.75 * math.log(0.75 * 8) + 0.25 * math.log(0.25 * 8)
    assert stats.reverse_kl == pytest.approx(expected, rel=1e-12)
    assert stats.captured == 2


def test_min_count_and_no_hq_samples():
    mixture = ring8()
    samples = np.concatenate([np.tile(mixture.means[0], (5, 1)), np.tile(mixture.means[1], (1, 1))])
    assert mixture_mode_stats(samples, mixture.means, mixture.std, min_count=2).captured == 1
    assert mixture_mode_stats(samples, mixture.means, mixture.std, min_share=0.5).captured == 1  # ≥ 3 of 6
    assert mixture_mode_stats(samples, mixture.means, mixture.std, min_share=0.1).captured == 2  # ≥ 1 of 6
    far = mixture_mode_stats(np.zeros((10, 2)), mixture.means, mixture.std)
    assert far.captured == 0 and far.hq_fraction == 0.0 and far.reverse_kl == math.inf


def test_bad_shapes():
    with pytest.raises(ValueError):
        mixture_mode_stats(np.zeros((4, 3)), ring8().means, 0.02)
