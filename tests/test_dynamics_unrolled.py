"""Unrolled dynamics against hand-derived gradients and maps; swapped_parameters; GAN smoke tests."""

import copy

import numpy as np
import pytest
import torch
from torch import nn

from gankit import losses
from gankit.dynamics import BilinearGame, Unrolled, bilinear_spectral_radius, bilinear_step_matrix, swapped_parameters
from gankit.game import Game, GameOutput, GANGame
from gankit.nn import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator
from bilinear_helpers import one_step_matrix, sgd


def _hand_matrix(k, second_order, lr):
    # y₁ = y + ηx; θ_K = y₁ + Kηx; x descends y₁ + 2Kηx (total) or θ_K (partial); y' = y₁.
    c = 2 * k + 1 if second_order else k + 1
    return np.array([[1 - c * lr**2, -lr], [lr, 1.0]])


# (K, second_order, η); the last two have c·η ≥ 2: real eigenvalues.
CASES = [
    (1, True, 0.1), (1, True, 0.3), (3, True, 0.2), (1, False, 0.3), (3, False, 0.2), (1, True, 0.8), (2, False, 0.9)
]


@pytest.mark.parametrize(("k", "second_order", "lr"), CASES)
def test_one_step_map_and_spectral_radius_match_the_hand_derivation(k, second_order, lr):
    dynamics = Unrolled(unroll_steps=k, leader="x", follower="y", second_order=second_order)
    hand = _hand_matrix(k, second_order, lr)
    measured = one_step_matrix(dynamics, lr)
    np.testing.assert_allclose(measured, hand, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(bilinear_step_matrix("unrolled", lr, unroll_steps=k, second_order=second_order), hand)
    radius = max(abs(np.linalg.eigvals(measured)))
    closed = bilinear_spectral_radius("unrolled", lr, unroll_steps=k, second_order=second_order)
    assert closed == pytest.approx(radius, rel=1e-12)


def _trajectory(dynamics, lr, steps):
    game = BilinearGame(torch.tensor([0.6]), torch.tensor([-0.8]))
    optimizers = sgd(game, lr)
    points = [np.array([game.x.value.item(), game.y.value.item()])]
    for t in range(steps):
        dynamics.step(game, optimizers, lambda: None, step=t)
        points.append(np.array([game.x.value.item(), game.y.value.item()]))
    return points


def test_real_eigenvalue_regime_norm_ratio_tends_to_the_radius():
    # K=1, second order, η=0.8: c·η = 2.4 > 2, real eigenvalues 0.571 and −0.491 (ratio 0.86).
    points = _trajectory(Unrolled(1, leader="x", follower="y"), 0.8, 150)
    ratio = np.linalg.norm(points[-1]) / np.linalg.norm(points[-2])
    assert ratio == pytest.approx(bilinear_spectral_radius("unrolled", 0.8, unroll_steps=1), rel=1e-6)


def test_complex_regime_contracts_areas_by_the_squared_radius():
    # The map is not normal, so ‖z‖ wobbles; z_t × z_{t+1} scales by det = ρ² every step exactly.
    lr, steps = 0.3, 100
    points = _trajectory(Unrolled(1, leader="x", follower="y"), lr, steps + 1)
    radius = bilinear_spectral_radius("unrolled", lr, unroll_steps=1)
    cross = [a[0] * b[1] - a[1] * b[0] for a, b in zip(points, points[1:])]
    assert cross[steps] / cross[0] == pytest.approx(radius ** (2 * steps), rel=1e-9)
    condition = np.linalg.cond(np.linalg.eig(_hand_matrix(1, True, lr))[1])
    scaled = np.linalg.norm(points[steps]) / (radius**steps * np.linalg.norm(points[0]))
    assert 1 / condition <= scaled <= condition


class _Scalar(nn.Module):
    def __init__(self, value):
        super().__init__()
        self.value = nn.Parameter(torch.tensor(value, dtype=torch.float64))


class _Quadratic(Game):
    """Follower d: ½a·v² − b·u²·v; leader g: c·u·v + ½u²."""

    def __init__(self, u, v, a=1.5, b=0.7, c=2.0, extra_player=False):
        self.a, self.b, self.c = a, b, c
        self.g, self.d = _Scalar(u), _Scalar(v)
        self.players = {"d": self.d, "g": self.g}
        if extra_player:
            self.players["e"] = _Scalar(0.0)

    def losses(self, batch, *, players, step):
        u, v = self.g.value, self.d.value
        table = {"d": 0.5 * self.a * v**2 - self.b * u**2 * v, "g": self.c * u * v + 0.5 * u**2}
        return GameOutput(losses={p: table[p] for p in players})


@pytest.mark.parametrize("k", [1, 2])
@pytest.mark.parametrize("second_order", [True, False])
def test_leader_gradient_is_the_hand_derived_derivative(k, second_order):
    u, v, eta, a, b, c = 0.8, -0.3, 0.25, 1.5, 0.7, 2.0
    game = _Quadratic(u, v, a, b, c)
    Unrolled(k, leader="g", follower="d", second_order=second_order).step(game, sgd(game, eta), lambda: None, 0)
    theta = v - eta * (a * v - b * u**2)  # (a) the follower's real step
    assert game.d.value.item() == pytest.approx(theta, rel=1e-12)
    dtheta_du = 0.0
    for _ in range(k):  # (b) θ ← θ − η(aθ − bu²), dθ/du ← (1 − ηa)dθ/du + 2ηbu
        theta, dtheta_du = theta - eta * (a * theta - b * u**2), (1 - eta * a) * dtheta_du + 2 * eta * b * u
    partial = c * theta + u  # ∂/∂u (c·u·θ_K + ½u²)
    expected = partial + c * u * dtheta_du if second_order else partial
    assert game.g.value.grad.item() == pytest.approx(expected, rel=1e-12)


def test_swapped_parameters_on_a_spectral_norm_dcgan_discriminator():
    torch.manual_seed(0)
    disc = DCGANDiscriminator(channels=1, image_size=28, width=4, spectral_norm=True).eval()
    assert any(name.endswith("parametrizations.weight.original") for name, _ in disc.named_parameters())
    originals = dict(disc.named_parameters())
    values = {name: p.detach().clone() for name, p in originals.items()}
    new = {name: torch.randn_like(p) for name, p in originals.items()}
    reference = copy.deepcopy(disc)
    reference.load_state_dict({**reference.state_dict(), **new})
    images = torch.randn(3, 1, 28, 28)
    before = disc(images)
    with swapped_parameters(disc, new):
        torch.testing.assert_close(disc(images), reference(images), rtol=0, atol=0)
    with pytest.raises(KeyError), swapped_parameters(disc, new):
        raise KeyError("restored even on error")
    for name, p in disc.named_parameters():
        assert p is originals[name] and torch.equal(p, values[name])
    torch.testing.assert_close(disc(images), before, rtol=0, atol=0)


def test_swapped_parameters_rejects_unknown_names_and_wrong_shapes():
    disc = MLPDiscriminator(2, hidden=4, depth=1)
    with pytest.raises(ValueError, match="no parameter named 'net.9.weight'"), swapped_parameters(
        disc, {"net.9.weight": torch.zeros(1)}
    ):
        pass
    with pytest.raises(ValueError, match="shape"), swapped_parameters(disc, {"net.0.weight": torch.zeros(3)}):
        pass


def _dcgan_step_buffers(unroll_steps):
    """Named buffers of both players before and after one Unrolled step of a BatchNorm DCGAN (seed 0)."""
    torch.manual_seed(0)
    game = GANGame(DCGANGenerator(latent_dim=8, channels=1, image_size=28, width=4),
                   DCGANDiscriminator(channels=1, image_size=28, width=4), losses.nonsaturating, latent_dim=8)
    optimizers = {p: torch.optim.Adam(game.parameters(p), lr=1e-3, betas=(0.5, 0.999)) for p in game.players}
    before = {p: {n: b.clone() for n, b in m.named_buffers()} for p, m in game.players.items()}
    Unrolled(unroll_steps=unroll_steps).step(game, optimizers, lambda: torch.ones(8, 1, 28, 28), step=0)
    return before, {p: dict(m.named_buffers()) for p, m in game.players.items()}


def test_buffers_change_only_through_the_real_updates():
    before, one = _dcgan_step_buffers(1)
    _, three = _dcgan_step_buffers(3)
    # The follower's buffers move only in its real update, which comes first: the same for any K.
    assert any(not torch.equal(before["discriminator"][n], b) for n, b in one["discriminator"].items())
    for name, buffer in one["discriminator"].items():
        torch.testing.assert_close(three["discriminator"][name], buffer, rtol=0, atol=0)
    # The leader's statistics see other z after a longer unroll, but the same number of batches.
    counts = {n: b.item() for n, b in one["generator"].items() if n.endswith("num_batches_tracked")}
    assert counts and all(three["generator"][n].item() == c > 0 for n, c in counts.items())


@pytest.mark.parametrize("second_order", [True, False])
def test_gan_game_with_spectral_norm_takes_finite_steps(second_order):
    torch.manual_seed(0)
    game = GANGame(MLPGenerator(4, 2, hidden=16, depth=2), MLPDiscriminator(2, hidden=16, depth=2, spectral_norm=True),
                   losses.nonsaturating, latent_dim=4)
    optimizers = {p: torch.optim.Adam(game.parameters(p), lr=1e-3, betas=(0.5, 0.999)) for p in game.players}
    dynamics = Unrolled(unroll_steps=3, second_order=second_order)
    before = [p.detach().clone() for p in game.parameters("generator")]
    for t in range(2):
        result = dynamics.step(game, optimizers, lambda: torch.randn(32, 2), step=t)
        assert all(torch.isfinite(v).all() for v in result.stats.values())
    assert {"loss_g", "loss_d", "grad_norm_generator", "grad_norm_discriminator"} <= set(result.stats)
    assert any(not torch.equal(a, b) for a, b in zip(before, game.parameters("generator")))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"unroll_steps": 0}, "unroll_steps must be >= 1"),
        ({"unroll_lr": 0.0}, "unroll_lr must be > 0"),
        ({"unroll_lr": -1e-3}, "unroll_lr must be > 0"),
        ({"leader": "d", "follower": "d"}, "different players"),
    ],
)
def test_bad_arguments_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Unrolled(**kwargs)


def test_unknown_or_extra_players_and_zero_lr_are_refused():
    game = _Quadratic(0.5, 0.5)
    with pytest.raises(ValueError, match="leader 'generator' is not a player"):
        Unrolled().step(game, sgd(game, 0.1), lambda: None, 0)
    with pytest.raises(ValueError, match="follower 'y' is not a player"):
        Unrolled(leader="g", follower="y").step(game, sgd(game, 0.1), lambda: None, 0)
    crowded = _Quadratic(0.5, 0.5, extra_player=True)
    with pytest.raises(ValueError, match=r"also has \['e'\]"):
        Unrolled(leader="g", follower="d").step(crowded, sgd(crowded, 0.1), lambda: None, 0)
    with pytest.raises(ValueError, match="unroll learning rate must be > 0"):
        Unrolled(leader="g", follower="d").step(game, sgd(game, 0.0), lambda: None, 0)
