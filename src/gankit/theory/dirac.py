"""The Dirac-GAN (Mescheder et al. 2018) as a real GANGame: its gradient field and Jacobian.

Data is a point mass at 0, the generator a point θ, the discriminator D(x) = ψ·x. With gankit's
conventions the generator minimizes L_G = g(ψθ) = loss.generator(fake_logits=ψθ) and D minimizes
L_D = h(ψθ) + const + γ/2·ψ² (the real logit ψ·0 = 0 is constant; R1 = ψ²). The simultaneous
gradient field v = (−∂L_G/∂θ, −∂L_D/∂ψ) = (−ψ·g′(ψθ), −θ·h′(ψθ) − γψ) has, at the equilibrium (0, 0),

    J = [[0, −g′(0)], [−h′(0), −γ]],   eigenvalues −γ/2 ± √(γ²/4 − c),   c = −g′(0)·h′(0).

Standard GAN, h = softplus: h′(0) = ½. Minimax g = −softplus and non-saturating g(t) = softplus(−t)
both have g′(0) = −½ (they differ away from the equilibrium, not at it), so c = ¼ = f′(0)² with
Mescheder's f(t) = −log(1 + e^{−t}), f′(0) = ½: eigenvalues ±i/2 (cycles) without R1, negative real
parts with γ > 0, real for γ > 2f′(0) = 1. Wasserstein and hinge: g′(0) = −1, h′(0) = 1, c = 1.
Least squares (targets 0/1): h = ½t², h′(0) = 0, so c = 0: eigenvalues 0 and −γ, the whole axis
ψ = 0 is stationary. WGAN-GP's (|ψ| − 1)² is not differentiable at ψ = 0, so there is no Jacobian
there; being largest at ψ = 0 it can also stop the critic from changing sign (see the portraits).
"""

from __future__ import annotations

import cmath

import numpy as np
import torch
from torch import Tensor, nn
from torch.func import functional_call

from gankit import losses
from gankit.game import GANGame

__all__ = [
    "DiracGenerator",
    "LinearDiscriminator",
    "closed_form_eigenvalues",
    "coupling",
    "dirac_game",
    "eigenvalue_error",
    "field_on_grid",
    "jacobian",
    "read_point",
    "real_batch",
    "vector_field",
]

# (g′(0), h′(0)): slopes at logit 0 of the generator loss and of the discriminator's fake term.
_SLOPES = {
    "minimax": (-0.5, 0.5),
    "nonsaturating": (-0.5, 0.5),
    "wasserstein": (-1.0, 1.0),
    "hinge": (-1.0, 1.0),
    "least_squares": (-1.0, 0.0),
}


class DiracGenerator(nn.Module):
    """G(z) = θ for every z: a point mass at θ in 1D, shape (N, 1).

    (With θ swapped for a tensor of N values, sample k is θ_k: N independent games in one batch.)
    """

    def __init__(self, theta: float) -> None:
        super().__init__()
        self.theta = nn.Parameter(torch.tensor([theta], dtype=torch.float64))

    def forward(self, z: Tensor) -> Tensor:
        return self.theta.reshape(-1, 1).expand(z.shape[0], 1)


class LinearDiscriminator(nn.Module):
    """D(x) = ψ·x, no bias: one logit per sample, shape (N,) (ψ_k·x_k when ψ holds N values)."""

    def __init__(self, psi: float) -> None:
        super().__init__()
        self.psi = nn.Parameter(torch.tensor([psi], dtype=torch.float64))

    def forward(self, x: Tensor) -> Tensor:
        return x[:, 0] * self.psi


def dirac_game(loss: str, theta: float = 0.0, psi: float = 0.0, *, r1_gamma: float = 0.0,
               gp_weight: float = 0.0) -> GANGame:
    """The Dirac-GAN at (θ, ψ) under the named gankit loss, with R1 weight γ and/or WGAN-GP weight."""
    return GANGame(DiracGenerator(theta), LinearDiscriminator(psi), losses.get(loss), latent_dim=1,
                   r1_gamma=r1_gamma, gp_weight=gp_weight)


def real_batch(n: int = 1) -> Tensor:
    """The data: `n` samples of the point mass at 0."""
    return torch.zeros(n, 1, dtype=torch.float64)


def read_point(game: GANGame) -> tuple[float, float]:
    """The game's current (θ, ψ)."""
    return game.generator.theta.item(), game.discriminator.psi.item()


class _Field(nn.Module):
    """v = (−∂L_G/∂θ, −∂L_D/∂ψ) through the game's own losses, kept differentiable."""

    def __init__(self, game: GANGame) -> None:
        super().__init__()
        self.game = game
        self.generator = game.generator
        self.discriminator = game.discriminator

    def forward(self, batch: Tensor) -> Tensor:
        out = self.game.losses(batch, players=["generator", "discriminator"], step=0)
        (d_theta,) = torch.autograd.grad(out.losses["generator"], self.generator.theta, create_graph=True)
        (d_psi,) = torch.autograd.grad(out.losses["discriminator"], self.discriminator.psi, create_graph=True)
        return -torch.stack([d_theta, d_psi], dim=1)


def vector_field(game: GANGame, points: Tensor) -> Tensor:
    """v(θ, ψ) at each row (θ_k, ψ_k) of `points` (K, 2), which must require grad; differentiable in it.

    The game's parameters are swapped for the K points during the call (torch.func.functional_call;
    the game is left untouched) and the K games are played as one batch of K samples. Every gankit
    loss and penalty is a mean of per-sample terms, sample k depending only on (θ_k, ψ_k), so
    K·∂L/∂θ_k is game k's own gradient.
    """
    params = {"generator.theta": points[:, 0], "discriminator.psi": points[:, 1]}
    return functional_call(_Field(game), params, (real_batch(len(points)),)) * len(points)


def jacobian(game: GANGame, theta: float = 0.0, psi: float = 0.0) -> np.ndarray:
    """The 2×2 Jacobian ∂v/∂(θ, ψ) at (θ, ψ), by torch.autograd.functional.jacobian."""
    point = torch.tensor([theta, psi], dtype=torch.float64)
    return torch.autograd.functional.jacobian(lambda z: vector_field(game, z[None])[0], point).numpy()


def field_on_grid(game: GANGame, thetas: np.ndarray, psis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(U, V), each (len(psis), len(thetas)): v's θ- and ψ-components on the grid (rows: ψ)."""
    theta, psi = np.meshgrid(thetas, psis)
    points = torch.tensor(np.stack([theta.ravel(), psi.ravel()], axis=1), requires_grad=True)
    field = vector_field(game, points).detach().numpy()
    return field[:, 0].reshape(theta.shape), field[:, 1].reshape(theta.shape)


def coupling(loss: str) -> float:
    """c = −g′(0)·h′(0) for the named loss (= f′(0)² for the standard GAN)."""
    losses.get(loss)  # unknown names raise a ConfigError listing the valid ones
    g_slope, h_slope = _SLOPES[loss]
    return -g_slope * h_slope


def closed_form_eigenvalues(loss: str, gamma: float) -> tuple[complex, complex]:
    """−γ/2 ± √(γ²/4 − c), c = coupling(loss): the Jacobian's eigenvalues at (0, 0); the + root first."""
    root = cmath.sqrt(gamma**2 / 4 - coupling(loss))
    return complex(-gamma / 2 + root), complex(-gamma / 2 - root)


def eigenvalue_error(measured: np.ndarray, expected: tuple[complex, complex]) -> float:
    """max |λ − μ| under the better of the two pairings of two eigenvalue pairs."""
    a, b = complex(measured[0]), complex(measured[1])
    return min(max(abs(a - expected[0]), abs(b - expected[1])), max(abs(a - expected[1]), abs(b - expected[0])))
