"""Field statistics against fields with known answers: checkerboards, stripes, Bernoulli fields, ramps, white
noise, hand-made grids for percolation and the lineal path."""

import numpy as np
import pytest

from gankit.fields.statistics import (
    lineal_path, percolating_fraction, porosity, specific_surface, two_point_correlation, variogram,
)

CHECKER = np.indices((8, 8)).sum(0) % 2  # 1 on odd cells


@pytest.mark.parametrize("periodic", [False, True])
def test_s2_of_a_checkerboard_alternates_between_a_half_and_zero(periodic):
    s2 = two_point_correlation(CHECKER, 4, periodic=periodic)
    np.testing.assert_allclose(s2, [0.5, 0, 0.5, 0, 0.5], atol=1e-12)


def test_s2_of_a_bernoulli_field_is_p_then_p_squared_in_2d_and_3d():
    rng = np.random.default_rng(0)
    for shape in ((256, 256), (40, 40, 40)):
        field = (rng.random(shape) < 0.3).astype(np.int8)
        for periodic in (False, True):
            s2 = two_point_correlation(field, 5, periodic=periodic)
            assert s2[0] == pytest.approx(porosity(field))
            # p² ± a few binomial standard deviations of a mean over ~n·axes pairs
            tolerance = 4 * np.sqrt(0.09 * (1 - 0.09) / field.size)
            np.testing.assert_allclose(s2[1:], 0.09, atol=tolerance)


def test_periodic_s2_matches_a_direct_count_with_wraparound():
    rng = np.random.default_rng(1)
    field = (rng.random((12, 9)) < 0.4).astype(np.int8)
    direct = [np.mean([np.mean(field * np.roll(field, -r, axis=a)) for a in (0, 1)]) for r in range(5)]
    np.testing.assert_allclose(two_point_correlation(field, 4, periodic=True), direct, atol=1e-12)


def test_variogram_of_a_ramp_and_of_white_noise():
    ramp = np.tile(np.arange(20.0), (20, 1))  # z = column index: γ along rows r²/2, along columns 0
    np.testing.assert_allclose(variogram(ramp, 5), 0.5 * (np.arange(6.0) ** 2 / 2 + 0))
    noise = 3.0 + np.random.default_rng(2).normal(0, 2.0, (200, 200))  # γ(r > 0) = σ² = 4
    gamma = variogram(noise, 4)
    assert gamma[0] == 0
    np.testing.assert_allclose(gamma[1:], 4.0, rtol=0.03)


def test_percolation_on_hand_made_grids():
    grid = np.zeros((6, 6), dtype=int)
    grid[:, 1] = 1  # a column spanning top to bottom: 6 cells
    grid[2:4, 4] = 1  # an island: 2 cells
    assert percolating_fraction(grid, axis=0) == pytest.approx(6 / 8)
    assert percolating_fraction(grid, axis=1) == 0.0  # nothing spans left to right
    grid[2, 1:5] = 1  # a bridge joins the island to the column, still short of both side faces
    assert percolating_fraction(grid, axis=1) == 0.0 and percolating_fraction(grid, axis=0) == 1.0
    grid[2, 0] = grid[2, 5] = 1
    assert percolating_fraction(grid, axis=1) == 1.0 and percolating_fraction(grid, axis=0) == 1.0
    diagonal = np.eye(5, dtype=int)  # corners do not connect faces
    assert percolating_fraction(diagonal) == 0.0 and percolating_fraction(np.zeros((4, 4))) == 0.0


def test_specific_surface_and_porosity_by_hand():
    assert specific_surface(CHECKER) == pytest.approx(2 * 8 * 7 / 64)  # every inner face joins unlike cells
    square = np.zeros((6, 6), dtype=int)
    square[2:4, 2:4] = 1
    assert specific_surface(square) == pytest.approx(8 / 36) and porosity(square) == pytest.approx(4 / 36)


def test_bad_fields_and_lags_are_refused():
    with pytest.raises(ValueError, match="2-D or 3-D"):
        porosity(np.zeros(10))
    with pytest.raises(ValueError, match="NaN"):
        variogram(np.full((4, 4), np.nan), 1)
    with pytest.raises(ValueError, match="max_lag 5"):
        two_point_correlation(CHECKER, 5, periodic=True)


def test_lineal_path_on_hand_made_grids():
    grid = np.array([[1, 1, 1, 0],
                     [0, 1, 1, 1],
                     [1, 0, 0, 1]])
    # r = 1: along rows 4 of 9 pairs are 1-1, along columns 3 of 8; r = 2: rows 2 of 6 triples, columns 0 of 4
    np.testing.assert_allclose(lineal_path(grid, 2), [8 / 12, (4 / 9 + 3 / 8) / 2, (2 / 6 + 0 / 4) / 2])
    stripes = np.zeros((6, 6), dtype=int)
    stripes[:, :2] = 1  # two full columns: every vertical segment in them counts; rows read 110000
    np.testing.assert_allclose(lineal_path(stripes, 3), [2 / 6, (2 / 6 + 1 / 5) / 2, 2 / 6 / 2, 2 / 6 / 2])
    np.testing.assert_allclose(lineal_path(grid, 2, phase=0), lineal_path(1 - grid, 2))
    np.testing.assert_array_equal(lineal_path(np.ones((5, 7, 6)), 4), 1.0)
    np.testing.assert_array_equal(lineal_path(np.zeros((5, 7)), 4), 0.0)


def test_lineal_path_equals_a_direct_count_of_segments():
    field = (np.random.default_rng(3).random((9, 11, 13)) < 0.7).astype(np.int8)
    direct = [np.mean([np.lib.stride_tricks.sliding_window_view(field, r + 1, axis=a).all(-1).mean()
                       for a in range(3)]) for r in range(9)]
    got = lineal_path(field, 8)
    np.testing.assert_allclose(got, direct, atol=1e-12)
    assert got[0] == pytest.approx(porosity(field)) and np.all(np.diff(got) <= 0)


def test_lineal_path_of_a_bernoulli_field_is_p_to_the_r_plus_1():
    p = 0.6
    rng = np.random.default_rng(4)
    for shape in ((300, 300), (48, 48, 48)):
        field = (rng.random(shape) < p).astype(np.int8)
        got = lineal_path(field, 6)
        lags = np.arange(7)
        expected = p ** (lags + 1)
        # per axis a mean of M = (n − r) · cells/n segment indicators, each correlated only with the 2r + 1
        # overlapping ones on its line: variance ≤ L(1 − L)(2r + 1)/M; the mean over axes has at most the
        # largest axis's standard deviation. 4 of those.
        segments = (shape[0] - lags) * (field.size // shape[0])
        tolerance = 4 * np.sqrt(expected * (1 - expected) * (2 * lags + 1) / segments)
        assert np.all(np.abs(got - expected) <= tolerance)
        assert got[0] == pytest.approx(porosity(field))


@pytest.mark.parametrize("max_length", [-1, 8, 2.5, True])
def test_lineal_path_refuses_a_bad_max_length(max_length):
    with pytest.raises(ValueError, match="max_length .* is outside 0…7"):
        lineal_path(CHECKER, max_length)
