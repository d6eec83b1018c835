"""Bilinear-game trajectories of the real dynamics classes against the closed-form spectral radii."""

import math

import numpy as np
import pytest

from gankit.theory.bilinear import DYNAMICS, closed_form_rate, measured_rate, rate_table, trajectory
from gankit.theory.trajectory import OVERFLOW


@pytest.mark.parametrize("lr", [0.1, 0.2, 0.5])
@pytest.mark.parametrize("name", ["simultaneous", "extragradient"])
def test_exact_norm_cases_match_the_closed_form_to_1e_6(name, lr):
    # Both one-step maps are scaled rotations: ‖z‖ changes by exactly ρ every step.
    rate = measured_rate(trajectory(name, lr, 100))
    closed = {"simultaneous": math.sqrt(1 + lr**2), "extragradient": math.sqrt(1 - lr**2 + lr**4)}
    expected = closed[name]
    assert rate == pytest.approx(expected, rel=1e-6)
    assert closed_form_rate(name, lr)[0] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    "name, lr, rel", [("optimistic", 0.2, 1e-6), ("optimistic", 0.3, 1e-6), ("unrolled", 0.2, 1e-6), ("unrolled", 0.1, 5e-3)]
)
def test_non_normal_maps_approach_the_spectral_radius(name, lr, rel):
    # Not exact per step: with a complex pair (unrolled at η = 0.1) ‖z_t‖ wobbles around ρ^t, so a
    # 150-step geometric mean is off by O(log(condition number) / 150).
    rate = measured_rate(trajectory(name, lr, 300))
    assert rate == pytest.approx(closed_form_rate(name, lr)[0], rel=rel)


def test_alternating_neither_grows_nor_shrinks():
    path = trajectory("alternating", 0.2, 400)
    assert measured_rate(path) == pytest.approx(1.0, abs=2e-3)
    assert 0.8 < path.distances.min() and path.distances.max() < 1.2


def test_first_steps_follow_the_hand_derived_updates():
    lr = 0.3
    # simultaneous from (1, 0): x' = x − ηy = 1, y' = y + ηx = η
    np.testing.assert_allclose(trajectory("simultaneous", lr, 1).points[1], [1.0, lr], rtol=1e-12)
    # alternating: x' = 1, then y' = y + ηx' = η ; second step x'' = 1 − η², y'' = η + η(1 − η²)
    np.testing.assert_allclose(trajectory("alternating", lr, 2).points[2], [1 - lr**2, lr + lr * (1 - lr**2)],
                               rtol=1e-12)
    # extragradient: look-ahead (1, η); x' = 1 − η·η, y' = 0 + η·1
    np.testing.assert_allclose(trajectory("extragradient", lr, 1).points[1], [1 - lr**2, lr], rtol=1e-12)


def test_a_divergent_step_size_stops_at_overflow_and_says_so():
    paths = {name: trajectory(name, 3.0, 1000) for name in DYNAMICS}
    assert all(p.overflowed and p.steps_done < 1000 for p in paths.values())
    assert all(np.isfinite(p.points).all() and p.distances[-2] <= OVERFLOW for p in paths.values())
    table = rate_table(paths, 3.0)
    assert all(note.startswith("stopped: ‖z‖ > 1e+06 at step") for note in table.column("note"))
    # Even over a few steps the measured growth matches: these maps are (nearly) normal at lr = 3.
    assert max(table.column("relative error")) < 1e-4


def test_alternating_beyond_lr_2_uses_the_step_matrix():
    rho, source = closed_form_rate("alternating", 2.5)
    assert source == "eig(bilinear_step_matrix)"
    # trace 2 − η², det 1: real eigenvalues, the larger |λ| = (|2 − η²| + √((2 − η²)² − 4)) / 2
    t = 2 - 2.5**2
    assert rho == pytest.approx((abs(t) + math.sqrt(t * t - 4)) / 2, rel=1e-12)
    assert measured_rate(trajectory("alternating", 2.5, 50)) == pytest.approx(rho, rel=1e-5)
