"""Extragradient dynamics on the bilinear game against hand-derived maps, and on a small GAN."""

import math

import numpy as np
import pytest
import torch

from gankit import losses
from gankit.dynamics import BilinearGame, Extragradient, bilinear_spectral_radius, bilinear_step_matrix
from gankit.game import GANGame
from gankit.nn import MLPDiscriminator, MLPGenerator
from gankit.optim import ExtraAdam
from bilinear_helpers import one_step_matrix, sgd


@pytest.mark.parametrize("lr", [0.05, 0.3, 0.9, 1.3])
def test_one_step_map_and_spectral_radius_match_the_hand_derivation(lr):
    # Look-ahead (x − ηy, y + ηx); x' = x − η(y + ηx), y' = y + η(x − ηy).
    hand = np.array([[1 - lr**2, -lr], [lr, 1 - lr**2]])
    measured = one_step_matrix(Extragradient(), lr, extrapolating=True)
    np.testing.assert_allclose(measured, hand, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(bilinear_step_matrix("extragradient", lr), hand, rtol=1e-12, atol=1e-15)
    radius = max(abs(np.linalg.eigvals(measured)))
    assert bilinear_spectral_radius("extragradient", lr) == pytest.approx(radius, rel=1e-12)
    assert radius == pytest.approx(math.sqrt(1 - lr**2 + lr**4), rel=1e-12)


@pytest.mark.parametrize("lr", [0.2, 0.5])
def test_distance_shrinks_at_the_closed_form_rate(lr):
    game = BilinearGame(torch.tensor([0.6]), torch.tensor([-0.8]))
    dynamics, optimizers = Extragradient(), sgd(game, lr, extrapolating=True)
    steps = 200
    for t in range(steps):
        dynamics.step(game, optimizers, lambda: None, step=t)
    # The map is a scaled rotation (normal): every step scales ‖(x, y)‖ by exactly √(1−η²+η⁴).
    rate = game.distance() ** (1 / steps)
    assert rate == pytest.approx(math.sqrt(1 - lr**2 + lr**4), rel=1e-9)
    if lr == 0.5:
        assert game.distance() < 1e-8


def test_plain_optimizers_are_refused_with_a_hint():
    game = BilinearGame(torch.tensor([1.0]), torch.tensor([1.0]))
    optimizers = {p: torch.optim.SGD(game.parameters(p), lr=0.1) for p in game.players}
    with pytest.raises(TypeError, match=r"gankit\.optim\.Extrapolation"):
        Extragradient().step(game, optimizers, lambda: None, step=0)


def test_one_batch_two_gradient_evaluations_and_projection_of_the_look_ahead():
    calls = []

    class Clipped(BilinearGame):
        def losses(self, batch, *, players, step):
            calls.append((tuple(players), batch, self.x.value.item()))
            return super().losses(batch, players=players, step=step)

        def project(self, player):
            if player == "x":
                with torch.no_grad():
                    self.x.value.clamp_(max=0.95)

    game = Clipped(torch.tensor([0.9], dtype=torch.float64), torch.tensor([-1.0]))
    counter = iter(range(100))
    Extragradient().step(game, sgd(game, 0.1, extrapolating=True), lambda: next(counter), step=0)
    # Look-ahead x = 0.9 + 0.1 = 1.0, clipped to 0.95 before the second evaluation.
    assert calls == [(("x", "y"), 0, 0.9), (("x", "y"), 0, 0.95)]


def test_gan_game_steps_are_one_fresh_adam_step_then_finite():
    torch.manual_seed(0)
    game = GANGame(MLPGenerator(4, 2, hidden=16, depth=2), MLPDiscriminator(2, hidden=16, depth=2),
                   losses.nonsaturating, latent_dim=4)
    lr = 1e-3
    optimizers = {p: ExtraAdam(game.parameters(p), lr=lr, betas=(0.5, 0.999)) for p in game.players}
    before = {p: [q.detach().clone() for q in game.parameters(p)] for p in game.players}
    for t in range(3):
        result = Extragradient().step(game, optimizers, lambda: torch.randn(32, 2), step=t)
        assert all(torch.isfinite(v).all() for v in result.stats.values())
        if t == 0:
            # The look-ahead's Adam state is discarded, so the real step is Adam's first from fresh moments:
            # each coordinate moves by lr·|g|/(|g| + eps), i.e. at most lr and almost exactly lr for most.
            for player in game.players:
                moves = torch.cat([(q - b).abs().flatten() for q, b in zip(game.parameters(player), before[player])])
                assert moves.max().item() <= lr * (1 + 1e-3)
                assert moves.median().item() == pytest.approx(lr, rel=1e-3)
                assert all(optimizers[player].state[q]["step"].item() == 1 for q in game.parameters(player))
    assert {"loss_g", "loss_d", "grad_norm_generator", "grad_norm_discriminator"} <= set(result.stats)
