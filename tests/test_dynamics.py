"""The dynamics classes on the bilinear game, against the closed forms."""

import math

import numpy as np
import pytest
import torch

from gankit.dynamics import Alternating, BilinearGame, Simultaneous, bilinear_spectral_radius, bilinear_step_matrix
from bilinear_helpers import one_step_matrix, sgd


@pytest.mark.parametrize("lr", [0.05, 0.3, 1.0])
def test_simultaneous_one_step_map_and_spectral_radius(lr):
    matrix = one_step_matrix(Simultaneous(), lr)
    np.testing.assert_allclose(matrix, [[1, -lr], [lr, 1]], rtol=1e-12)
    np.testing.assert_allclose(bilinear_step_matrix("simultaneous", lr), [[1, -lr], [lr, 1]], rtol=1e-12)
    radius = max(abs(np.linalg.eigvals(matrix)))
    assert radius == pytest.approx(bilinear_spectral_radius("simultaneous", lr), rel=1e-12)


@pytest.mark.parametrize("lr", [0.05, 0.3, 1.5])
def test_alternating_one_step_map_has_unit_eigenvalues(lr):
    matrix = one_step_matrix(Alternating(), lr)
    # x' = x - lr*y, then y' = y + lr*x' (y sees the new x).
    np.testing.assert_allclose(matrix, [[1, -lr], [lr, 1 - lr**2]], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(bilinear_step_matrix("alternating", lr), [[1, -lr], [lr, 1 - lr**2]], rtol=1e-12)
    eigenvalues = np.linalg.eigvals(matrix)
    np.testing.assert_allclose(abs(eigenvalues), bilinear_spectral_radius("alternating", lr), rtol=1e-12)


@pytest.mark.parametrize("lr", [0.1, 0.5])
def test_simultaneous_distance_grows_at_the_closed_form_rate(lr):
    game = BilinearGame(torch.tensor([0.6]), torch.tensor([-0.8]))
    dynamics, optimizers = Simultaneous(), sgd(game, lr)
    steps = 200
    for t in range(steps):
        dynamics.step(game, optimizers, lambda: None, step=t)
    # For the normal matrix [[1,-η],[η,1]] the norm grows by exactly √(1+η²) every step.
    rate = game.distance() ** (1 / steps)
    assert rate == pytest.approx(math.sqrt(1 + lr**2), rel=1e-6)


def test_alternating_cycles_without_growing():
    lr = 0.5
    game = BilinearGame(torch.tensor([1.0]), torch.tensor([0.0]))
    dynamics, optimizers = Alternating(), sgd(game, lr)
    distances = []
    for t in range(2000):
        dynamics.step(game, optimizers, lambda: None, step=t)
        distances.append(game.distance())
    # Bounded away from both 0 and infinity: the orbit is an ellipse around the equilibrium.
    assert 0.5 < min(distances) and max(distances) < 1.5


def test_alternating_gives_each_player_its_number_of_steps_and_a_fresh_batch():
    calls = []

    class Recorder(BilinearGame):
        def losses(self, batch, *, players, step):
            calls.append((tuple(players), batch))
            return super().losses(batch, players=players, step=step)

    game = Recorder(torch.tensor([1.0]), torch.tensor([1.0]))
    counter = iter(range(100))
    Alternating(steps={"x": 3}).step(game, sgd(game, 0.1), lambda: next(counter), step=0)
    assert calls == [(("x",), 0), (("x",), 1), (("x",), 2), (("y",), 3)]


def test_alternating_rejects_zero_steps():
    with pytest.raises(ValueError):
        Alternating(steps={"discriminator": 0})


def test_vector_bilinear_game_uses_the_matrix():
    a = torch.tensor([[2.0, 0.0], [0.0, 3.0]])
    game = BilinearGame(torch.tensor([1.0, 1.0]), torch.tensor([1.0, -1.0]), matrix=a)
    out = game.losses(None, players=["x", "y"], step=0)
    assert out.losses["x"].item() == pytest.approx(2.0 - 3.0)
    assert out.losses["y"].item() == pytest.approx(1.0)


def test_step_result_reports_gradient_norms():
    game = BilinearGame(torch.tensor([3.0]), torch.tensor([4.0]))
    result = Simultaneous().step(game, sgd(game, 0.1), lambda: None, step=0)
    # ∂(xy)/∂x = y = 4 ; ∂(-xy)/∂y = -x = -3
    assert result.stats["grad_norm_x"].item() == pytest.approx(4.0)
    assert result.stats["grad_norm_y"].item() == pytest.approx(3.0)
    assert result.stats["value"].item() == pytest.approx(12.0)


def test_no_closed_form_for_unknown_dynamics():
    with pytest.raises(ValueError, match="no closed form for 'lookahead'"):
        bilinear_spectral_radius("lookahead", 0.1)
    with pytest.raises(ValueError, match="no closed form for 'lookahead'"):
        bilinear_step_matrix("lookahead", 0.1)


@pytest.mark.parametrize("dynamics", ["simultaneous", "alternating", "extragradient", "optimistic", "unrolled"])
@pytest.mark.parametrize("lr", [0.0, -0.1])
def test_closed_forms_refuse_non_positive_step_sizes(dynamics, lr):
    with pytest.raises(ValueError, match="lr must be > 0"):
        bilinear_spectral_radius(dynamics, lr)
    with pytest.raises(ValueError, match="lr must be > 0"):
        bilinear_step_matrix(dynamics, lr)


def test_unrolled_closed_forms_refuse_zero_unroll_steps():
    with pytest.raises(ValueError, match="unroll_steps must be >= 1"):
        bilinear_spectral_radius("unrolled", 0.1, unroll_steps=0)


@pytest.mark.parametrize("lr", [0.05, 0.3, 0.7, 1.2])
def test_simultaneous_diverges_and_extragradient_converges_below_one(lr):
    assert bilinear_spectral_radius("simultaneous", lr) > 1
    assert (bilinear_spectral_radius("extragradient", lr) < 1) == (lr < 1)
