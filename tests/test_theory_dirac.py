"""The Dirac-GAN as a GANGame: gradient field and Jacobian eigenvalues against hand-derived closed forms."""

import math

import numpy as np
import pytest
import torch

from gankit.errors import ConfigError
from gankit.theory.dirac import (
    closed_form_eigenvalues,
    coupling,
    dirac_game,
    eigenvalue_error,
    field_on_grid,
    jacobian,
    vector_field,
)
from gankit.theory.dirac_report import REGULARIZERS, jacobian_table, trajectory

LOSSES = ["minimax", "nonsaturating", "wasserstein", "hinge", "least_squares"]
# Slopes at logit 0 of the generator loss g and of the discriminator's fake term h, by hand.
SLOPES = {"minimax": (-0.5, 0.5), "nonsaturating": (-0.5, 0.5), "wasserstein": (-1, 1), "hinge": (-1, 1),
          "least_squares": (-1, 0)}


def field(game, theta, psi):
    point = torch.tensor([[theta, psi]], dtype=torch.float64, requires_grad=True)
    return vector_field(game, point).detach().numpy()[0]


def sigmoid(t):
    return 1 / (1 + math.exp(-t))


@pytest.mark.parametrize("gamma", [0.0, 0.3, 0.7, 1.5, 3.0])
@pytest.mark.parametrize("loss", LOSSES)
def test_jacobian_at_equilibrium_is_the_hand_derived_matrix(loss, gamma):
    g, h = SLOPES[loss]
    np.testing.assert_allclose(jacobian(dirac_game(loss, r1_gamma=gamma)), [[0, -g], [-h, -gamma]], atol=1e-12)


@pytest.mark.parametrize("gamma", [0.0, 0.3, 0.7, 1.5, 3.0])
@pytest.mark.parametrize("loss", LOSSES)
def test_jacobian_eigenvalues_match_the_closed_form(loss, gamma):
    measured = np.linalg.eigvals(jacobian(dirac_game(loss, r1_gamma=gamma)))
    assert eigenvalue_error(measured, closed_form_eigenvalues(loss, gamma)) < 1e-10


def test_standard_gan_eigenvalues_by_regime():
    f1 = 0.5  # f′(0) for f(t) = −log(1 + e^{−t})
    for loss in ("minimax", "nonsaturating"):
        assert coupling(loss) == f1**2
        # no R1: ±i·f′(0), purely imaginary — cycles
        lam = np.linalg.eigvals(jacobian(dirac_game(loss)))
        np.testing.assert_allclose(sorted(lam.imag), [-f1, f1], atol=1e-12)
        np.testing.assert_allclose(lam.real, 0, atol=1e-12)
        # 0 < γ < 2f′(0): complex pair with real part −γ/2
        lam = np.linalg.eigvals(jacobian(dirac_game(loss, r1_gamma=0.6)))
        np.testing.assert_allclose(lam.real, -0.3, atol=1e-12)
        np.testing.assert_allclose(sorted(lam.imag), [-math.sqrt(f1**2 - 0.09), math.sqrt(f1**2 - 0.09)], atol=1e-12)
        # γ > 2f′(0): two negative real eigenvalues −γ/2 ± √(γ²/4 − f′(0)²)
        lam = np.sort(np.linalg.eigvals(jacobian(dirac_game(loss, r1_gamma=2.0))).real)
        np.testing.assert_allclose(lam, [-1 - math.sqrt(1 - f1**2), -1 + math.sqrt(1 - f1**2)], atol=1e-12)


def test_nonsaturating_and_minimax_share_the_jacobian_but_not_the_field():
    for gamma in (0.0, 1.0):
        np.testing.assert_array_equal(jacobian(dirac_game("minimax", r1_gamma=gamma)),
                                      jacobian(dirac_game("nonsaturating", r1_gamma=gamma)))
    theta, psi = 1.2, 0.8
    t = psi * theta
    # minimax: −∂(−softplus(ψθ))/∂θ = ψσ(ψθ); non-saturating: −∂softplus(−ψθ)/∂θ = ψσ(−ψθ)
    assert field(dirac_game("minimax"), theta, psi)[0] == pytest.approx(psi * sigmoid(t), rel=1e-12)
    assert field(dirac_game("nonsaturating"), theta, psi)[0] == pytest.approx(psi * sigmoid(-t), rel=1e-12)


@pytest.mark.parametrize("theta, psi", [(0.7, -1.3), (-1.5, 0.4)])
def test_field_away_from_equilibrium_with_r1_and_gp(theta, psi):
    gamma, lam, t = 0.8, 2.0, psi * theta
    v = field(dirac_game("minimax", r1_gamma=gamma), theta, psi)
    np.testing.assert_allclose(v, [psi * sigmoid(t), -theta * sigmoid(t) - gamma * psi], rtol=1e-12)
    # WGAN-GP: the critic's input gradient is ψ everywhere, penalty λ(|ψ| − 1)²
    v = field(dirac_game("wasserstein", gp_weight=lam), theta, psi)
    np.testing.assert_allclose(v, [psi, -theta - 2 * lam * (abs(psi) - 1) * math.copysign(1, psi)], rtol=1e-12)


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("regularizer", REGULARIZERS, ids=lambda r: r.label)
def test_grid_of_games_in_one_batch_equals_one_game_at_a_time(loss, regularizer):
    game = dirac_game(loss, r1_gamma=regularizer.r1_gamma, gp_weight=regularizer.gp_weight)
    thetas, psis = np.array([-1.5, -0.2, 0.3, 1.1]), np.array([-0.7, 0.4, 1.6])
    u, v = field_on_grid(game, thetas, psis)
    for i, psi in enumerate(psis):
        for j, theta in enumerate(thetas):
            np.testing.assert_allclose([u[i, j], v[i, j]], field(game, theta, psi), rtol=1e-12, atol=1e-15)


def test_field_leaves_the_game_parameters_alone():
    game = dirac_game("hinge", 0.25, -0.5, r1_gamma=1.0)
    field(game, 1.0, 1.0)
    jacobian(game)
    assert (game.generator.theta.item(), game.discriminator.psi.item()) == (0.25, -0.5)


def test_unregularized_wgan_is_the_bilinear_game():
    # L_G = −ψθ, L_D = ψθ: simultaneous SGD grows ‖(θ, ψ)‖ by exactly √(1+η²) per step.
    lr, steps = 0.1, 50
    path = trajectory("wasserstein", REGULARIZERS[0], "simultaneous", lr, steps)
    assert path.distances[-1] / path.distances[0] == pytest.approx((1 + lr**2) ** (steps / 2), rel=1e-10)


def test_r1_converges_and_unregularized_training_does_not():
    for loss in ("minimax", "nonsaturating", "wasserstein"):
        for dynamics in ("simultaneous", "alternating"):
            assert trajectory(loss, REGULARIZERS[1], dynamics, 0.1, 300).distances[-1] < 1e-3
    assert trajectory("minimax", REGULARIZERS[0], "alternating", 0.1, 200).distances.min() > 1.0


def test_jacobian_table_rows_and_errors():
    table = jacobian_table((0.0, 3.0))
    assert len(table.rows) == 2 * len(LOSSES)
    assert max(table.column("max abs error")) < 1e-10
    assert table.column("locally convergent") == ["no", "yes"] * 4 + ["no", "no"]


def test_unknown_loss_is_a_config_error():
    with pytest.raises(ConfigError, match="valid losses"):
        closed_form_eigenvalues("vanilla", 1.0)
