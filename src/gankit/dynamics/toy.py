"""Toy games whose dynamics are known in closed form, played by the real dynamics classes."""

from __future__ import annotations

import math
from collections.abc import Collection

import torch
from torch import Tensor, nn

from gankit.game import Game, GameOutput

__all__ = ["BilinearGame", "bilinear_spectral_radius"]


class _Point(nn.Module):
    def __init__(self, value: Tensor) -> None:
        super().__init__()
        self.value = nn.Parameter(value.clone())


class BilinearGame(Game):
    """min_x max_y xᵀAy: player "x" minimizes xᵀAy, player "y" minimizes −xᵀAy. Equilibrium at 0."""

    def __init__(self, x0: Tensor, y0: Tensor, matrix: Tensor | None = None) -> None:
        self.x = _Point(torch.as_tensor(x0, dtype=torch.float64).reshape(-1))
        self.y = _Point(torch.as_tensor(y0, dtype=torch.float64).reshape(-1))
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


def bilinear_spectral_radius(dynamics: str, lr: float) -> float:
    """Closed-form per-step growth factor of ‖(x,y)‖ on min_x max_y xy with SGD step `lr`."""
    if dynamics == "simultaneous":
        return math.sqrt(1.0 + lr**2)
    if dynamics == "alternating":
        if not 0 < lr < 2:
            raise ValueError("alternating updates cycle only for 0 < lr < 2")
        return 1.0
    raise ValueError(f"no closed form for {dynamics!r}; known: simultaneous, alternating")
