"""TrustRegion: steps capped at the radius, the ratio test against hand computation, the closure plumbing."""

import copy
import io
import math

import numpy as np
import pytest
import torch
from torch import nn

from gankit import losses
from gankit.dynamics import Alternating, Simultaneous
from gankit.game import GANGame
from gankit.nn import MLPDiscriminator, MLPGenerator
from gankit.optim.trust_region import TrustRegion

Q = np.array([[2.0, 0.5], [0.5, 1.0]])
THETA0 = np.array([1.0, -2.0])  # g = Qθ = (1, -1.5)


def _quadratic():
    """θ = THETA0 with .grad = ∇½θᵀQθ set, and the closure returning ½θᵀQθ."""
    theta = nn.Parameter(torch.tensor(THETA0))
    q = torch.tensor(Q)
    theta.grad = q @ theta.detach()
    return theta, lambda: 0.5 * theta @ q @ theta


def _hand_step(lr, radius):
    """NumPy: the SGD step −lr·g, scaled onto the radius if longer, and its ρ."""
    g = Q @ THETA0
    step = -lr * g
    if np.linalg.norm(step) > radius:
        step = step * radius / np.linalg.norm(step)
    new = THETA0 + step
    return new, (THETA0 @ Q @ THETA0 / 2 - new @ Q @ new / 2) / (-g @ step)


# Clipped with ρ > high: the radius doubles (clamped to max_radius); unclipped: it stays.
@pytest.mark.parametrize(
    "lr, clipped, max_radius, radius", [(0.1, True, 10, 0.1), (0.1, True, 0.08, 0.08), (0.01, False, 10, 0.05)]
)
def test_a_long_step_is_scaled_onto_the_radius_and_a_short_one_left_alone(lr, clipped, max_radius, radius):
    theta, closure = _quadratic()
    plain = nn.Parameter(torch.tensor(THETA0))
    plain.grad = theta.grad.clone()
    torch.optim.SGD([plain], lr=lr).step()
    tr = TrustRegion(torch.optim.SGD([theta], lr=lr), radius=0.05, max_radius=max_radius)
    tr.step(closure)
    new, rho = _hand_step(lr, 0.05)
    np.testing.assert_allclose(theta.detach().numpy(), new, rtol=1e-12)
    assert tr.last_rho == pytest.approx(rho, rel=1e-12)
    assert rho > 0.75  # a small step on a quadratic: the linear model is nearly exact
    assert tr.clipped_fraction == float(clipped) and tr.radius == pytest.approx(radius, rel=1e-15)
    if clipped:
        assert np.linalg.norm(theta.detach().numpy() - THETA0) == pytest.approx(0.05, abs=1e-12)
    else:
        assert torch.equal(theta, plain)  # exactly the inner optimizer's step


# ρ < low: the radius shrinks to 10·0.25 (clamped to min_radius).
@pytest.mark.parametrize("reject, min_radius, radius", [(False, 1e-4, 2.5), (True, 1e-4, 2.5), (False, 5.0, 5.0)])
def test_an_overshooting_step_shrinks_the_radius_and_rejection_restores_theta(reject, min_radius, radius):
    theta, closure = _quadratic()
    tr = TrustRegion(torch.optim.SGD([theta], lr=3.0), radius=10.0, min_radius=min_radius, reject=reject)
    tr.step(closure)
    g = Q @ THETA0
    # Along −lr·g: ρ = 1 − ½·lr·gᵀQg / gᵀg (closed form of the quadratic).
    expected_rho = 1 - 0.5 * 3.0 * (g @ Q @ g) / (g @ g)
    assert expected_rho < 0
    assert tr.last_rho == pytest.approx(expected_rho, rel=1e-12)
    assert tr.radius == radius
    if reject:
        assert torch.equal(theta.detach(), torch.tensor(THETA0)) and tr.rejected_steps == 1
    else:
        np.testing.assert_allclose(theta.detach().numpy(), THETA0 - 3.0 * g, rtol=1e-15)


def test_no_predicted_improvement_leaves_rho_undefined_and_the_radius_alone():
    theta, closure = _quadratic()
    theta.grad.zero_()
    tr = TrustRegion(torch.optim.SGD([theta], lr=0.1), radius=0.05)
    tr.step(closure)
    assert math.isnan(tr.last_rho) and tr.radius == 0.05
    assert torch.equal(theta.detach(), torch.tensor(THETA0))
    with pytest.raises(ValueError, match="closure"):
        tr.step()


@pytest.mark.parametrize("lr, clipped", [(0.5, True), (1e-4, False)])
def test_outputs_measure_puts_the_probe_change_on_the_radius_along_the_proposed_direction(lr, clipped):
    torch.manual_seed(0)
    layer = nn.Linear(3, 2).double()
    x, y, probe_x = torch.randn(8, 3).double(), torch.randn(8, 2).double(), torch.randn(5, 3).double()
    (0.5 * (layer(x) - y).pow(2).sum()).backward()
    tr = TrustRegion(torch.optim.SGD(layer.parameters(), lr=lr), 0.01, "outputs", lambda: layer(probe_x))
    start = [p.detach().clone() for p in layer.parameters()]
    outputs_before = layer(probe_x).detach()
    tr.step(lambda: 0.5 * (layer(x) - y).pow(2).sum())
    moved = torch.cat([(p - s).flatten() for p, s in zip(layer.parameters(), start)]).detach()
    proposed = torch.cat([-lr * p.grad.flatten() for p in layer.parameters()])
    assert tr.clipped_steps == int(clipped)
    if clipped:
        rms = (layer(probe_x) - outputs_before).pow(2).mean().sqrt().item()
        assert rms == pytest.approx(0.01, abs=1e-9)
        fraction = (moved / proposed)[0].item()
        assert 0 < fraction < 1
        torch.testing.assert_close(moved, fraction * proposed, rtol=1e-9, atol=0)
    else:
        torch.testing.assert_close(moved, proposed, rtol=1e-9, atol=0)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"radius": 0.0}, "radius must be > 0"),
        ({"min_radius": 1.0, "max_radius": 0.5}, "min_radius <= max_radius"),
        ({"radius": 20.0}, "outside"),
        ({"measure": "gradients"}, "measure must be one of"),
        ({"measure": "outputs"}, "needs probe="),
        ({"shrink": 1.5}, "shrink"),
        ({"low": 0.9, "high": 0.5}, "low <= high"),
    ],
)
def test_invalid_arguments_are_rejected_with_the_argument_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TrustRegion(torch.optim.SGD([nn.Parameter(torch.zeros(2))], lr=0.1), **kwargs)


def _fit(layer, tr, data, steps):
    x, y = data
    for _ in range(steps):
        tr.zero_grad()
        (layer(x) - y).pow(2).mean().backward()
        tr.step(lambda: (layer(x) - y).pow(2).mean())


def test_state_dict_round_trips_through_a_safe_load_and_training_continues_identically():
    torch.manual_seed(0)
    data = (torch.randn(16, 3).double(), torch.randn(16, 1).double())
    a = nn.Linear(3, 1).double()
    tr_a = TrustRegion(torch.optim.Adam(a.parameters(), lr=0.1), radius=0.05)
    _fit(a, tr_a, data, 3)
    assert tr_a.radius != 0.05 and tr_a.steps == 3
    buffer = io.BytesIO()
    torch.save(tr_a.state_dict(), buffer)
    buffer.seek(0)
    b = copy.deepcopy(a)
    tr_b = TrustRegion(torch.optim.Adam(b.parameters(), lr=0.1), radius=0.05)
    tr_b.load_state_dict(torch.load(buffer, weights_only=True))
    stats = ("radius", "last_rho", "steps", "clipped_steps", "rejected_steps")
    assert [getattr(tr_b, s) for s in stats] == [getattr(tr_a, s) for s in stats]
    assert tr_b.param_groups is tr_b.optimizer.param_groups and tr_b.state is tr_b.optimizer.state
    _fit(a, tr_a, data, 2)
    _fit(b, tr_b, data, 2)
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa, pb)
    with pytest.raises(ValueError, match="trust_region"):
        tr_b.load_state_dict(torch.optim.Adam(b.parameters()).state_dict())
    torch.optim.lr_scheduler.LambdaLR(tr_b, lambda epoch: 0.5)  # an LR schedule on the wrapper reaches the inner
    assert tr_b.optimizer.param_groups[0]["lr"] == 0.05


# Through the dynamics: a small GAN in float64, only the generator wrapped.


@pytest.fixture
def float64():
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)


def _gan(seed):
    torch.manual_seed(seed)
    g = MLPGenerator(latent_dim=2, out_dim=2, hidden=16, depth=2)
    d = MLPDiscriminator(in_dim=2, hidden=16, depth=2)
    # The gradient penalty draws random numbers after z: a replay that did not fork the RNG would rewind them.
    return GANGame(g, d, losses.nonsaturating, latent_dim=2, gp_weight=1.0)


def _batches():
    source = torch.Generator().manual_seed(1)
    return iter([torch.randn(32, 2, generator=source) + 2.0 for _ in range(100)])


def _flat(module):
    return torch.cat([p.detach().flatten() for p in module.parameters()])


def _train(dynamics, trust_region, steps=6, seed=0):
    game = _gan(seed)
    g_opt = torch.optim.Adam(game.parameters("generator"), lr=0.05)
    if trust_region:
        g_opt = TrustRegion(g_opt, radius=0.02)
    optimizers = {"discriminator": torch.optim.Adam(game.parameters("discriminator"), lr=1e-3), "generator": g_opt}
    batches, moves = _batches(), []
    for t in range(steps):
        before, radius = _flat(game.generator), getattr(g_opt, "radius", math.inf)
        dynamics.step(game, optimizers, lambda: next(batches), step=t)
        moves.append((torch.linalg.vector_norm(_flat(game.generator) - before).item(), radius))
    return game, g_opt, moves


@pytest.mark.parametrize("dynamics", [Alternating(), Alternating(steps={"discriminator": 2}), Simultaneous()])
def test_generator_moves_stay_within_the_radius_and_runs_reproduce_from_the_seed(float64, dynamics):
    game, g_opt, moves = _train(dynamics, trust_region=True)
    assert all(move <= radius + 1e-9 for move, radius in moves)
    assert g_opt.clipped_steps > 0 and any(move == pytest.approx(radius, abs=1e-9) for move, radius in moves)
    rng_after = torch.get_rng_state()
    again, _, _ = _train(dynamics, trust_region=True)
    assert torch.equal(_flat(game.generator), _flat(again.generator))
    assert torch.equal(_flat(game.discriminator), _flat(again.discriminator))
    # The closures replay the latents in a forked RNG: the global stream advances as without a trust region.
    _train(dynamics, trust_region=False)
    assert torch.equal(torch.get_rng_state(), rng_after)


class _Spy(torch.optim.SGD):
    """Records the closure it gets; when given one, also its value and whether calling it moved the RNG."""

    def __init__(self, params, needs_closure):
        super().__init__(params, lr=0.01)
        self.needs_closure, self.closures, self.values, self.rng_untouched = needs_closure, [], [], []

    def step(self, closure=None):
        self.closures.append(closure)
        if closure is not None:
            rng = torch.get_rng_state()
            self.values.append(closure())
            self.rng_untouched.append(torch.equal(torch.get_rng_state(), rng))
        return super().step()


def test_the_closure_replays_the_same_latents_and_plain_optimizers_get_none(float64):
    game = _gan(0)
    spy, plain = _Spy(game.parameters("generator"), True), _Spy(game.parameters("discriminator"), False)
    batches = _batches()
    dynamics = Alternating(steps={"discriminator": 2})
    for t in range(3):
        result = dynamics.step(game, {"generator": spy, "discriminator": plain}, lambda: next(batches), step=t)
        assert spy.values[-1].item() == result.stats["loss_g"].item()  # exactly: same batch, same z
    assert spy.rng_untouched == [True] * 3
    assert plain.closures == [None] * 6
    # Each evaluation serves one update: without a fresh one, a closure optimizer is refused.
    with pytest.raises(RuntimeError, match="self.evaluate"):
        dynamics.apply_updates(game, {"generator": spy}, ["generator"])
