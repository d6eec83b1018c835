"""Optimistic dynamics (OGDA) on the bilinear game against hand-derived recursions, and on a small GAN."""

import io
import math

import numpy as np
import pytest
import torch

from gankit import losses
from gankit.dynamics import BilinearGame, Optimistic, bilinear_spectral_radius, bilinear_step_matrix
from gankit.game import GANGame
from gankit.nn import MLPDiscriminator, MLPGenerator
from bilinear_helpers import sgd


def _hand_matrix(lr):
    """(x_t, y_t, x_{t−1}, y_{t−1}) -> next: x' = x − η(2y − y₋), y' = y + η(2x − x₋)."""
    return np.array([[1, -2 * lr, 0, lr], [2 * lr, 1, -lr, 0], [1, 0, 0, 0], [0, 1, 0, 0]], dtype=float)


def _augmented_step_matrix(lr):
    """Read the map on (x_t, y_t, x_{t−1}, y_{t−1}) off the real class, the past set through load_state_dict.

    For the bilinear game g^x_{t−1} = y_{t−1} and g^y_{t−1} = −x_{t−1}; after the step the stored
    gradients are g^x_t = y_t and g^y_t = −x_t.
    """
    columns = []
    for x, y, x_prev, y_prev in np.eye(4):
        game = BilinearGame(torch.tensor([x]), torch.tensor([y]))
        dynamics = Optimistic()
        past = {"x": [torch.tensor([y_prev], dtype=torch.float64)], "y": [torch.tensor([-x_prev], dtype=torch.float64)]}
        dynamics.load_state_dict({"previous_gradients": past})
        dynamics.step(game, sgd(game, lr), lambda: None, step=1)
        stored = dynamics.state_dict()["previous_gradients"]
        columns.append([game.x.value.item(), game.y.value.item(), -stored["y"][0].item(), stored["x"][0].item()])
    return np.array(columns).T


@pytest.mark.parametrize("lr", [0.1, 0.3, 0.7])
def test_augmented_map_and_spectral_radius_match_the_hand_derivation(lr):
    measured = _augmented_step_matrix(lr)
    np.testing.assert_allclose(measured, _hand_matrix(lr), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(bilinear_step_matrix("optimistic", lr), _hand_matrix(lr), rtol=1e-12, atol=1e-15)
    # Independent: the roots of λ² − (1+2iη)λ + iη = 0 (the recursion in w = x + iy).
    roots = np.roots([1, -(1 + 2j * lr), 1j * lr])
    radius = max(abs(np.linalg.eigvals(measured)))
    assert radius == pytest.approx(max(abs(roots)), rel=1e-12)
    assert bilinear_spectral_radius("optimistic", lr) == pytest.approx(radius, rel=1e-12)


def test_first_step_is_a_plain_simultaneous_step():
    lr = 0.2
    game = BilinearGame(torch.tensor([0.6], dtype=torch.float64), torch.tensor([-0.8], dtype=torch.float64))
    Optimistic().step(game, sgd(game, lr), lambda: None, step=0)
    expected = [0.6 + lr * 0.8, -0.8 + lr * 0.6]  # x − ηy, y + ηx
    np.testing.assert_allclose([game.x.value.item(), game.y.value.item()], expected, rtol=1e-12)


def test_vector_game_matches_the_hand_recursion_for_ten_steps():
    lr = 0.15
    a = np.array([[1.0, 2.0, 0.0], [0.5, -1.0, 1.5]])
    x, y = np.array([0.3, -0.2]), np.array([1.0, 0.4, -0.7])
    game = BilinearGame(torch.from_numpy(x), torch.from_numpy(y), matrix=torch.from_numpy(a))
    dynamics, optimizers = Optimistic(), sgd(game, lr)
    x_prev, y_prev = x, y
    for t in range(10):
        dynamics.step(game, optimizers, lambda: None, step=t)
        x, y, x_prev, y_prev = (
            x - lr * (2 * a @ y - a @ y_prev), y + lr * (2 * a.T @ x - a.T @ x_prev), x, y
        )
        np.testing.assert_allclose(game.x.value.detach().numpy(), x, rtol=1e-12)
        np.testing.assert_allclose(game.y.value.detach().numpy(), y, rtol=1e-12)


@pytest.mark.parametrize("lr", [0.3, 0.7])
def test_norm_ratio_tends_to_the_closed_form_radius(lr):
    # w_T = a·λ₊^T + b·λ₋^T; with |λ₋/λ₊| ≤ 0.42 the subdominant root is gone after 60 steps.
    game = BilinearGame(torch.tensor([0.6]), torch.tensor([-0.8]))
    dynamics, optimizers = Optimistic(), sgd(game, lr)
    for t in range(60):
        dynamics.step(game, optimizers, lambda: None, step=t)
    before = game.distance()
    dynamics.step(game, optimizers, lambda: None, step=60)
    assert game.distance() / before == pytest.approx(bilinear_spectral_radius("optimistic", lr), rel=1e-6)


def test_converges_below_and_diverges_above_one_over_root_three():
    assert bilinear_spectral_radius("optimistic", 0.5) == pytest.approx(math.sqrt(0.5), rel=1e-12)
    assert bilinear_spectral_radius("optimistic", 1 / math.sqrt(3)) == pytest.approx(1.0, rel=1e-12)
    distances = {}
    for lr in (0.5, 0.7):
        game = BilinearGame(torch.tensor([0.6]), torch.tensor([-0.8]))
        dynamics, optimizers = Optimistic(), sgd(game, lr)
        for t in range(100):
            dynamics.step(game, optimizers, lambda: None, step=t)
        distances[lr] = game.distance()
    assert distances[0.5] < 1e-9 and distances[0.7] > 1e6


def _run(game, dynamics, optimizers, steps, start):
    for t in range(start, start + steps):
        dynamics.step(game, optimizers, lambda: None, step=t)


def test_state_dict_round_trip_continues_identically():
    lr = 0.2
    x0, y0 = torch.tensor([0.3, -0.2]), torch.tensor([1.0, 0.4])
    game, dynamics = BilinearGame(x0, y0), Optimistic()
    _run(game, dynamics, sgd(game, lr), 4, 0)
    buffer = io.BytesIO()
    torch.save({"x": game.x.state_dict(), "y": game.y.state_dict(), "dynamics": dynamics.state_dict()}, buffer)
    _run(game, dynamics, sgd(game, lr), 6, 4)

    buffer.seek(0)
    saved = torch.load(buffer, weights_only=True)
    resumed, dynamics2 = BilinearGame(torch.zeros(2), torch.zeros(2)), Optimistic()
    resumed.x.load_state_dict(saved["x"])
    resumed.y.load_state_dict(saved["y"])
    dynamics2.load_state_dict(saved["dynamics"])
    _run(resumed, dynamics2, sgd(resumed, lr), 6, 4)
    assert torch.equal(resumed.x.value, game.x.value) and torch.equal(resumed.y.value, game.y.value)


def test_state_from_another_game_is_refused():
    game = BilinearGame(torch.tensor([1.0]), torch.tensor([1.0]))
    dynamics = Optimistic()
    dynamics.load_state_dict({"previous_gradients": {"x": [torch.ones(1), torch.ones(1)]}})
    with pytest.raises(ValueError, match="different game"):
        dynamics.step(game, sgd(game, 0.1), lambda: None, step=0)


def _hand_gradients(game, real, z):
    """g_t of both players at the current point: −log D(G(z)) for G, −log D(x) − log(1 − D(G(z))) for D."""
    generator, discriminator = game.generator, game.discriminator
    fake = generator(z)
    loss_g = torch.nn.functional.softplus(-discriminator(fake)).mean()
    loss_d = (torch.nn.functional.softplus(-discriminator(real)).mean()
              + torch.nn.functional.softplus(discriminator(fake.detach())).mean())
    return {"generator": torch.autograd.grad(loss_g, list(generator.parameters())),
            "discriminator": torch.autograd.grad(loss_d, list(discriminator.parameters()))}


def test_gan_game_steps_by_twice_the_gradient_minus_the_last_one():
    torch.manual_seed(0)
    game = GANGame(MLPGenerator(4, 2, hidden=16, depth=2), MLPDiscriminator(2, hidden=16, depth=2),
                   losses.nonsaturating, latent_dim=4)
    lr = 0.1
    optimizers = {p: torch.optim.SGD(game.parameters(p), lr=lr) for p in game.players}
    dynamics, previous = Optimistic(), None
    for t in range(3):
        real = torch.randn(32, 2, generator=torch.Generator().manual_seed(t))
        before = {p: [x.detach().clone() for x in game.parameters(p)] for p in game.players}
        torch.manual_seed(100 + t)
        current = _hand_gradients(game, real, torch.randn(32, 4))  # the z the game draws next
        torch.manual_seed(100 + t)
        result = dynamics.step(game, optimizers, lambda: real, step=t)
        assert all(torch.isfinite(v).all() for v in result.stats.values())
        previous = previous or current  # no g_{−1}: the first step is a plain simultaneous one
        for player in game.players:
            for after, theta, g, g_prev in zip(game.parameters(player), before[player], current[player],
                                               previous[player], strict=True):
                torch.testing.assert_close(after.detach(), theta - lr * (2 * g - g_prev), rtol=1e-5, atol=1e-7)
        if t > 0:  # g_t ≠ g_{t−1}: a plain simultaneous step θ − lr·g_t would miss by far more than that
            assert max((lr * (g - g_prev)).abs().max() for p in game.players
                       for g, g_prev in zip(current[p], previous[p])) > 1e-3
        previous = current
    assert set(dynamics.state_dict()["previous_gradients"]) == {"generator", "discriminator"}
