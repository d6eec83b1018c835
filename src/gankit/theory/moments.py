"""A GAN whose critic is linear in features is the (simulated) generalized method of moments.

With D(x) = wᵀφ(x) and m(·) = E φ, the critic's best value is a distance between moments:

    max_{‖w‖≤1} E_data D − E_model D = ‖m_data − m_model(θ)‖₂          (Cauchy–Schwarz, w* = Δ/‖Δ‖)
    max_w      wᵀΔ − ‖w‖²/2          = ‖Δ‖²/2                           (ridge instead of the ball, w* = Δ)

so the generator minimizes the identity-weighted GMM objective ‖Δ(θ)‖², and when the model's moments are
simulated from noise drawn once (common random numbers) the adversarial estimator *is* the simulated method of
moments (SMM) estimator on the same simulations (Kaji, Manresa & Pouliot, "An adversarial approach to structural
estimation", Econometrica 2023). A classifier critic trained by cross-entropy instead estimates the log density
ratio, and the estimator it drives approaches maximum likelihood's efficiency.

Everything here is *replicated*: R independent estimation problems (data sets, noises, critics, parameters) are
one game whose players hold (R, ·) parameters and whose losses are sums over replications, so the toolkit's
Dynamics play hundreds of estimations at once and their spread is the estimator's sampling spread.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from scipy import optimize
from torch import Tensor, nn

from gankit.dynamics import Dynamics, Extragradient
from gankit.dynamics.toy import Point
from gankit.game import Game, GameOutput
from gankit.optim import Extrapolation

__all__ = [
    "CRITIC", "GENERATOR", "ClassifierMomentGame", "LinearMomentGame", "LogisticLocation", "Replications",
    "linear_features", "logistic_mle", "moment_distance", "play", "smm_estimate",
]

CRITIC, GENERATOR = "critic", "generator"
Features = Callable[[Tensor], Tensor]  # (R, n) samples ↦ (R, n, K) features


def linear_features(x: Tensor) -> Tensor:
    """φ(x) = (1, x): the critic linear in (1, x) of the issue; the constant's moments always agree."""
    return torch.stack([torch.ones_like(x), x], dim=-1)


def moment_distance(data: Tensor, simulated: Tensor, features: Features = linear_features) -> Tensor:
    """(R,) ‖mean φ(data) − mean φ(simulated)‖₂ per replication: the best linear critic's value on the unit ball."""
    return (features(data).mean(1) - features(simulated).mean(1)).norm(dim=-1)


@dataclass(frozen=True)
class LogisticLocation:
    """X ~ Logistic(θ, 1), simulated as θ + log(U / (1 − U)). Fisher information 1/3: the MLE's standard deviation
    is √(3/n); the sample mean's π/√(3n) (variance π²/3), an efficiency of 9/π² ≈ 0.91."""

    def noise(self, shape: tuple[int, ...], generator: torch.Generator) -> Tensor:
        u = torch.rand(shape, generator=generator, dtype=torch.float64).clamp(1e-12, 1 - 1e-12)
        return torch.log(u) - torch.log1p(-u)

    def simulate(self, theta: Tensor, noise: Tensor) -> Tensor:
        """(R, m) samples at (R, 1) parameters from (R, m) noise."""
        return theta + noise

    @staticmethod
    def mle_sd(n: int) -> float:
        return math.sqrt(3 / n)

    @staticmethod
    def mean_sd(n: int) -> float:
        return math.pi / math.sqrt(3 * n)


def logistic_mle(data: np.ndarray) -> np.ndarray:
    """(R,) maximum-likelihood locations of (R, n) logistic samples: the root of the score Σ tanh((x − θ)/2) = 0,
    which is decreasing in θ and changes sign between the smallest and largest sample."""
    score = lambda theta, x: np.tanh((x - theta) / 2).sum()  # noqa: E731
    return np.array([optimize.brentq(score, row.min(), row.max(), args=(row,), xtol=1e-12) for row in data])


@dataclass(frozen=True)
class Replications:
    """R estimation problems: data (R, n) drawn at the true θ, noise (R, m) for the simulations, seeded."""

    data: Tensor
    noise: Tensor
    theta: float

    @classmethod
    def draw(cls, model: LogisticLocation, theta: float, replications: int, n: int, simulations: int,
             seed: int) -> Replications:
        """`simulations` model draws per replication (m = simulations · n would match Kaji et al.'s ratio)."""
        if replications < 1 or n < 2 or simulations < 1:
            raise ValueError(f"need replications ≥ 1, n ≥ 2 and simulations ≥ 1, got {replications}, {n}, "
                             f"{simulations}")
        generator = torch.Generator().manual_seed(seed)
        data = model.simulate(torch.full((replications, 1), theta, dtype=torch.float64),
                              model.noise((replications, n), generator))
        return cls(data, model.noise((replications, simulations), generator), theta)


def smm_estimate(model: LogisticLocation, reps: Replications, features: Features = linear_features) -> Tensor:
    """(R,) identity-weighted SMM estimates: argmin_θ ‖mean φ(data) − mean φ(simulate(θ, noise))‖², per
    replication, by scipy's least squares (float64, tolerances at machine precision) from the data's mean."""
    start = reps.data.mean(1)
    estimates = []
    for r in range(len(reps.data)):
        target = features(reps.data[r : r + 1]).mean(1)[0]

        def residual(theta: np.ndarray, r: int = r, target: Tensor = target) -> np.ndarray:
            simulated = model.simulate(torch.tensor(theta).view(1, 1), reps.noise[r : r + 1])
            return (target - features(simulated).mean(1)[0]).numpy()

        fit = optimize.least_squares(residual, [float(start[r])], xtol=1e-15, ftol=1e-15, gtol=1e-15)
        estimates.append(fit.x[0])
    return torch.tensor(estimates, dtype=torch.float64)


class LinearMomentGame(Game):
    """R adversarial estimations at once with critics D_r(x) = w_rᵀφ(x).

    Generator r minimizes w_rᵀΔ_r(θ_r), Δ_r = mean φ(data_r) − mean φ(simulate(θ_r, noise_r)); critic r
    maximizes w_rᵀΔ_r − ridge/2 ‖w_r‖² (ridge > 0: its best response is Δ_r/ridge and the game's value ‖Δ‖²/(2 ridge)
    is GMM's) or, with ridge = 0, w_rᵀΔ_r on the unit ball (projected after each update; value ‖Δ_r‖).
    """

    def __init__(self, model: LogisticLocation, reps: Replications, features: Features = linear_features, *,
                 ridge: float = 1.0, start: Tensor | None = None) -> None:
        if ridge < 0:
            raise ValueError(f"ridge must be ≥ 0, got {ridge}")
        self.model, self.reps, self.features, self.ridge = model, reps, features, ridge
        self.data_moments = features(reps.data).mean(1)
        start = reps.data.mean(1) if start is None else start
        self.generator = Point(start.reshape(-1, 1).to(torch.float64))
        self.critic = Point(torch.zeros_like(self.data_moments))
        self.players = {CRITIC: self.critic, GENERATOR: self.generator}

    def gap(self) -> Tensor:
        """(R, K) Δ_r(θ_r) at the current parameters."""
        simulated = self.model.simulate(self.generator.value, self.reps.noise)
        return self.data_moments - self.features(simulated).mean(1)

    def losses(self, batch: object, *, players: Collection[str], step: int) -> GameOutput:
        value = (self.critic.value * self.gap()).sum(1)
        table = {GENERATOR: value.sum(), CRITIC: -(value - self.ridge / 2 * self.critic.value.pow(2).sum(1)).sum()}
        return GameOutput(losses={p: table[p] for p in players})

    def project(self, player: str) -> None:
        if player == CRITIC and self.ridge == 0:
            with torch.no_grad():
                w = self.critic.value
                w.div_(w.norm(dim=1, keepdim=True).clamp(min=1.0))

    def estimates(self) -> Tensor:
        return self.generator.value.detach()[:, 0].clone()


class _BatchedMLP(nn.Module):
    """R independent one-hidden-layer tanh networks on scalars: (R, n) ↦ (R, n) logits."""

    def __init__(self, replications: int, hidden: int, generator: torch.Generator) -> None:
        super().__init__()
        scale = lambda *shape: torch.randn(*shape, generator=generator, dtype=torch.float64)  # noqa: E731
        self.w1 = nn.Parameter(scale(replications, 1, hidden))
        self.b1 = nn.Parameter(scale(replications, 1, hidden))
        self.w2 = nn.Parameter(scale(replications, hidden, 1) / math.sqrt(hidden))
        self.b2 = nn.Parameter(torch.zeros(replications, 1, 1, dtype=torch.float64))

    def forward(self, x: Tensor) -> Tensor:
        hidden = torch.tanh(x.unsqueeze(-1) * self.w1 + self.b1)
        return (hidden @ self.w2 + self.b2)[..., 0]


class ClassifierMomentGame(Game):
    """R adversarial estimations with classifier critics (a small MLP per replication, cross-entropy): critic r
    tells data_r from simulate(θ_r, noise_r); generator r minimizes the critic's objective (the minimax GAN of Kaji
    et al.). The critic estimates log p_data / p_θ, so θ follows the likelihood, not a chosen moment."""

    def __init__(self, model: LogisticLocation, reps: Replications, *, hidden: int = 16, seed: int = 0,
                 start: Tensor | None = None) -> None:
        self.model, self.reps = model, reps
        start = reps.data.mean(1) if start is None else start
        self.generator = Point(start.reshape(-1, 1).to(torch.float64))
        self.critic = _BatchedMLP(len(reps.data), hidden, torch.Generator().manual_seed(seed))
        self.players = {CRITIC: self.critic, GENERATOR: self.generator}

    def losses(self, batch: object, *, players: Collection[str], step: int) -> GameOutput:
        real = self.critic(self.reps.data)
        fake = self.critic(self.model.simulate(self.generator.value, self.reps.noise))
        objective = -(F.softplus(-real).mean(1) + F.softplus(fake).mean(1))  # mean log D(x) + mean log(1 − D(x_θ))
        table = {CRITIC: -objective.sum(), GENERATOR: objective.sum()}
        return GameOutput(losses={p: table[p] for p in players})

    def estimates(self) -> Tensor:
        return self.generator.value.detach()[:, 0].clone()


def play(game: LinearMomentGame | ClassifierMomentGame, dynamics: Dynamics, *, steps: int, lr_critic: float,
         lr_generator: float, optimizer: str = "sgd") -> Tensor:
    """Play `steps` steps of `dynamics` on `game` (SGD or Adam per player, wrapped in Extrapolation for
    extragradient) and return the (R,) estimates."""
    make = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}[optimizer]
    wrap = Extrapolation if isinstance(dynamics, Extragradient) else (lambda inner: inner)
    optimizers = {CRITIC: wrap(make(game.parameters(CRITIC), lr=lr_critic)),
                  GENERATOR: wrap(make(game.parameters(GENERATOR), lr=lr_generator))}
    for step in range(steps):
        dynamics.step(game, optimizers, lambda: None, step)
    return game.estimates()
