"""Toy games whose dynamics are known in closed form, played by the real dynamics classes."""

from __future__ import annotations

import math
from collections.abc import Collection

import numpy as np
import torch
from torch import Tensor, nn

from gankit.game import Game, GameOutput

__all__ = ["BILINEAR_DYNAMICS", "BilinearGame", "Point", "bilinear_spectral_radius", "bilinear_step_matrix"]

BILINEAR_DYNAMICS = ("simultaneous", "alternating", "extragradient", "optimistic", "unrolled")


class Point(nn.Module):
    """One tensor as a player: `value`, a Parameter (toy games and estimators whose player is a point)."""

    def __init__(self, value: Tensor) -> None:
        super().__init__()
        self.value = nn.Parameter(value.clone())


class BilinearGame(Game):
    """min_x max_y xᵀAy: player "x" minimizes xᵀAy, player "y" minimizes −xᵀAy. Equilibrium at 0."""

    def __init__(self, x0: Tensor, y0: Tensor, matrix: Tensor | None = None) -> None:
        self.x = Point(torch.as_tensor(x0, dtype=torch.float64).reshape(-1))
        self.y = Point(torch.as_tensor(y0, dtype=torch.float64).reshape(-1))
        dims = (self.x.value.numel(), self.y.value.numel())
        self.matrix = torch.eye(*dims, dtype=torch.float64) if matrix is None else matrix.to(torch.float64)
        self.players = {"x": self.x, "y": self.y}

    def losses(self, batch: object, *, players: Collection[str], step: int) -> GameOutput:
        value = self.x.value @ self.matrix @ self.y.value
        table = {"x": value, "y": -value}
        return GameOutput(losses={p: table[p] for p in players}, stats={"value": value.detach()})

    def distance(self) -> float:
        """‖(x, y)‖: the distance from the equilibrium."""
        return math.sqrt(float(self.x.value.detach().pow(2).sum() + self.y.value.detach().pow(2).sum()))


def _check_lr(lr: float) -> None:
    if not lr > 0:
        raise ValueError(f"the step size lr must be > 0, got {lr}")


def bilinear_step_matrix(dynamics: str, lr: float, *, unroll_steps: int = 5, second_order: bool = True) -> np.ndarray:
    """The one-step linear map of `dynamics` on min_x max_y xy with SGD step η = `lr`, derived by hand.

    Player x descends ∂(xy)/∂x = y, player y descends ∂(−xy)/∂y = −x. State (x, y), except
    "optimistic": (x_t, y_t, x_{t−1}, y_{t−1}). "unrolled": leader x, follower y, with
    `unroll_steps` = K follower steps at the same η (see :func:`bilinear_spectral_radius`).
    """
    _check_lr(lr)
    eta = lr
    if dynamics == "simultaneous":
        return np.array([[1.0, -eta], [eta, 1.0]])
    if dynamics == "alternating":  # x' = x − ηy, then y' = y + ηx'
        return np.array([[1.0, -eta], [eta, 1.0 - eta**2]])
    if dynamics == "extragradient":  # look-ahead (x − ηy, y + ηx); x' = x − η(y + ηx), y' = y + η(x − ηy)
        return np.array([[1.0 - eta**2, -eta], [eta, 1.0 - eta**2]])
    if dynamics == "optimistic":  # x' = x − η(2y − y₋), y' = y + η(2x − x₋)
        return np.array(
            [[1.0, -2 * eta, 0.0, eta], [2 * eta, 1.0, -eta, 0.0], [1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0]]
        )
    if dynamics == "unrolled":
        return np.array([[1.0 - _unrolled_c(unroll_steps, second_order) * eta**2, -eta], [eta, 1.0]])
    raise ValueError(f"no closed form for {dynamics!r}; known: {', '.join(BILINEAR_DYNAMICS)}")


def _unrolled_c(unroll_steps: int, second_order: bool) -> int:
    if unroll_steps < 1:
        raise ValueError(f"unroll_steps must be >= 1, got {unroll_steps}")
    return 2 * unroll_steps + 1 if second_order else unroll_steps + 1


def bilinear_spectral_radius(dynamics: str, lr: float, *, unroll_steps: int = 5, second_order: bool = True) -> float:
    """Closed-form per-step growth factor of ‖(x,y)‖ on min_x max_y xy with SGD step η = `lr`.

    - simultaneous: √(1+η²). alternating: 1 for 0 < η < 2 (det 1, complex pair).
    - extragradient: the map [[1−η², −η], [η, 1−η²]] is a scaled rotation of radius
      √((1−η²)² + η²) = √(1−η²+η⁴).
    - optimistic: with w = x + iy, w_{t+1} = w_t + iη(2w_t − w_{t−1}); λ² − (1+2iη)λ + iη = 0 has
      discriminant (1+2iη)² − 4iη = 1 − 4η², real, so λ± = ((1+2iη) ± √(1−4η²))/2. For η ≤ 1/2,
      s = √(1−4η²) is real and |λ+|² = ((1+s)/2)² + η² = (1+s)/2. For η > 1/2, r = √(4η²−1) and
      λ± = 1/2 + i(η ± r/2), |λ+|² = 2η² + ηr. The real 4×4 map on (x_t, y_t, x_{t−1}, y_{t−1})
      has eigenvalues λ± and their conjugates. 2η² + ηr < 1 ⟺ 3η² < 1: convergent for 0 < η < 1/√3.
    - unrolled (leader x, follower y, K follower SGD steps at η): (a) y₁ = y + ηx; (b) the unroll
      of −xθ gives θ_K = y₁ + Kηx, with ∂θ_K/∂x = Kη; (c) x descends d(x·θ_K)/dx = y₁ + 2Kηx
      (second order) or ∂/∂x = θ_K = y₁ + Kηx (first order). So x' = (1 − cη²)x − ηy, y' = ηx + y,
      c = 2K+1 or K+1: trace 2 − cη², det 1 − (c−1)η², discriminant η²(c²η² − 4). For cη < 2 the
      eigenvalues are a complex pair of modulus √(1 − (c−1)η²); otherwise they are real and the
      radius is (|2 − cη²| + η√(c²η² − 4))/2.
    """
    _check_lr(lr)
    eta = lr
    if dynamics == "simultaneous":
        return math.sqrt(1.0 + eta**2)
    if dynamics == "alternating":
        if not eta < 2:
            raise ValueError("alternating updates cycle only for 0 < lr < 2")
        return 1.0
    if dynamics == "extragradient":
        return math.sqrt(1.0 - eta**2 + eta**4)
    if dynamics == "optimistic":
        if eta <= 0.5:
            return math.sqrt((1.0 + math.sqrt(1.0 - 4 * eta**2)) / 2)
        return math.sqrt(2 * eta**2 + eta * math.sqrt(4 * eta**2 - 1))
    if dynamics == "unrolled":
        c = _unrolled_c(unroll_steps, second_order)
        if c * eta < 2:
            return math.sqrt(1.0 - (c - 1) * eta**2)
        return (abs(2 - c * eta**2) + eta * math.sqrt(c**2 * eta**2 - 4)) / 2
    raise ValueError(f"no closed form for {dynamics!r}; known: {', '.join(BILINEAR_DYNAMICS)}")
