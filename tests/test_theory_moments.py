"""GAN as the generalized method of moments (gankit.theory.moments) against closed forms and SciPy."""

import math

import numpy as np
import pytest
import torch
from scipy import stats

from gankit.dynamics import Alternating, Extragradient, Simultaneous
from gankit.theory.moments import (
    CRITIC,
    LinearMomentGame,
    LogisticLocation,
    Replications,
    logistic_mle,
    moment_distance,
    play,
    smm_estimate,
)

MODEL = LogisticLocation()


@pytest.fixture(scope="module")
def reps():
    return Replications.draw(MODEL, 0.7, replications=20, n=50, simulations=400, seed=3)


def test_smm_with_a_critic_linear_in_one_and_x_is_the_mean_matching_closed_form(reps):
    """(1, x) moments of θ + noise: θ̂ = mean(data) − mean(noise), to machine precision."""
    closed = reps.data.mean(1) - reps.noise.mean(1)
    torch.testing.assert_close(smm_estimate(MODEL, reps), closed, rtol=0, atol=1e-12)


def test_the_logistic_mle_is_scipys_fit_and_zeroes_the_score(reps):
    mle = logistic_mle(reps.data.numpy())
    for row, theta in zip(reps.data.numpy()[:5], mle, strict=False):
        assert stats.logistic.fit(row, fscale=1)[0] == pytest.approx(theta, abs=1e-5)
        assert abs(np.tanh((row - theta) / 2).sum()) < 1e-9


def test_the_best_critic_on_the_unit_ball_is_worth_the_moment_distance(reps):
    """Projected gradient ascent of w alone (θ held) reaches ‖Δ‖ = ‖mean φ(data) − mean φ(sim)‖ (Cauchy–Schwarz)."""
    game = LinearMomentGame(MODEL, reps, ridge=0.0, start=torch.zeros(20))
    optimizer = torch.optim.SGD(game.parameters(CRITIC), lr=0.5)
    for step in range(200):
        Alternating().compute_gradients(game, game.losses(None, players=[CRITIC], step=step), [CRITIC])
        optimizer.step()
        game.project(CRITIC)
    value = (game.critic.value * game.gap()).sum(1).detach()
    simulated = MODEL.simulate(torch.zeros(20, 1, dtype=torch.float64), reps.noise)
    expected = moment_distance(reps.data, simulated)
    torch.testing.assert_close(value, expected, rtol=1e-10, atol=1e-12)
    gap = (reps.data.mean(1) - simulated.mean(1)).abs()
    torch.testing.assert_close(expected, gap, rtol=1e-12, atol=1e-12)  # the constant feature adds nothing


def test_the_adversarial_estimator_with_a_ridge_critic_is_the_smm_estimator(reps):
    """max_w wᵀΔ − ‖w‖²/2 = ‖Δ‖²/2: the game played by alternating or simultaneous steps lands on SMM to 1e-10."""
    smm = smm_estimate(MODEL, reps)
    for dynamics in (Alternating(), Simultaneous()):
        start = reps.data.mean(1) + 1.0  # away from the answer
        game = LinearMomentGame(MODEL, reps, ridge=1.0, start=start)
        estimates = play(game, dynamics, steps=300, lr_critic=0.5, lr_generator=0.5)
        torch.testing.assert_close(estimates, smm, rtol=0, atol=1e-10)


def test_on_the_unit_ball_simultaneous_steps_cycle_and_extragradient_lands_on_smm(reps):
    """At the just-identified solution the ball game is min_θ max_w w₂(x̄ − ū − θ), bilinear around (θ̂, w = 0):
    each extragradient step shrinks ‖(θ − θ̂, w₂)‖ by exactly √(1 − η² + η⁴) (a scaled rotation), simultaneous
    steps grow it by √(1 + η²)."""
    smm, eta = smm_estimate(MODEL, reps), 0.3
    start = smm + 0.5

    def distance(game):
        return torch.hypot(game.estimates() - smm, game.critic.value.detach()[:, 1])

    game = LinearMomentGame(MODEL, reps, ridge=0.0, start=start)
    play(game, Extragradient(), steps=100, lr_critic=eta, lr_generator=eta)
    before = distance(game)
    converged = play(game, Extragradient(), steps=500, lr_critic=eta, lr_generator=eta)
    torch.testing.assert_close(converged, smm, rtol=0, atol=1e-8)
    rate = (distance(game) / before) ** (1 / 500)
    torch.testing.assert_close(rate, torch.full_like(rate, math.sqrt(1 - eta**2 + eta**4)), rtol=1e-6, atol=0)
    cycling = LinearMomentGame(MODEL, reps, ridge=0.0, start=start)
    play(cycling, Simultaneous(), steps=5, lr_critic=eta, lr_generator=eta)  # radius 0.62: the ball not yet reached
    grown = distance(cycling) / 0.5
    torch.testing.assert_close(grown, torch.full_like(grown, (1 + eta**2) ** 2.5), rtol=1e-9, atol=0)
    cycled = play(cycling, Simultaneous(), steps=300, lr_critic=eta, lr_generator=eta)
    assert float((cycled - smm).abs().min()) > 0.1  # then held on the ball's rim: it circles, never lands


def test_spreads_match_the_closed_forms_over_many_replications():
    """SMM on m simulations: sd π/√(3n) · √(1 + n/m); MLE: √(3/n) (to first order), both within 5% at R = 2000."""
    n, m = 100, 1000
    many = Replications.draw(MODEL, 0.0, replications=2000, n=n, simulations=m, seed=0)
    smm = many.data.mean(1) - many.noise.mean(1)
    assert float(smm.std()) == pytest.approx(MODEL.mean_sd(n) * math.sqrt(1 + n / m), rel=0.05)
    assert float(np.std(logistic_mle(many.data.numpy()))) == pytest.approx(MODEL.mle_sd(n), rel=0.05)
    assert MODEL.mle_sd(n) ** 2 / MODEL.mean_sd(n) ** 2 == pytest.approx(9 / math.pi**2)


def test_replications_are_deterministic_by_seed_and_checked():
    one, two = (Replications.draw(MODEL, 0.0, 3, 10, 20, seed=5) for _ in range(2))
    assert torch.equal(one.data, two.data) and torch.equal(one.noise, two.noise)
    assert not torch.equal(one.data, Replications.draw(MODEL, 0.0, 3, 10, 20, seed=6).data)
    with pytest.raises(ValueError, match="replications"):
        Replications.draw(MODEL, 0.0, 0, 10, 20, seed=0)
