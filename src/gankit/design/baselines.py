"""What a designer does without a trained generator, given the same number of physics evaluations: random search
over the manufacturable box, and gradient descent on the contact model from random starts."""

from __future__ import annotations

import torch
from torch import Tensor

from gankit.design.physics import PhysicsTerm
from gankit.design.space import DesignSpace

__all__ = ["GRADIENT_LR", "GRADIENT_STEPS", "gradient_descent", "random_search"]

GRADIENT_STEPS = 25  # physics evaluations (each with its gradient) per gradient-descent start
GRADIENT_LR = 0.1  # Adam's step on the tanh-unbounded chart coordinates (docs/design.md: the sweep that chose it)


def random_search(space: DesignSpace, evaluations: int, seed: int) -> tuple[Tensor, Tensor]:
    """(A, λ) of `evaluations` textures drawn uniformly in the design coordinates (log-uniform in A and λ)."""
    g = torch.Generator().manual_seed(seed)
    return space.box(2 * torch.rand(evaluations, 2, generator=g, dtype=torch.float64) - 1)


def gradient_descent(physics: PhysicsTerm, target: float, evaluations: int, seed: int,
                     lr: float = GRADIENT_LR) -> tuple[Tensor, Tensor]:
    """(A, λ) of the end points of evaluations // GRADIENT_STEPS runs of Adam (lr) from uniform random starts in
    the players' chart, on the generator's physics term plus the feasibility hinge (gankit.design.physics),
    coordinates kept in the chart's box by a tanh."""
    starts = max(evaluations // GRADIENT_STEPS, 1)
    g = torch.Generator().manual_seed(seed)
    u0 = (2 * torch.rand(starts, 2, generator=g, dtype=torch.float64) - 1).clamp(-0.999, 0.999)
    raw = torch.atanh(u0).requires_grad_()
    optimizer = torch.optim.Adam([raw], lr=lr)
    targets = torch.full((starts,), target, dtype=torch.float64)
    for _ in range(GRADIENT_STEPS):
        amplitude, wavelength = physics.space.to_designs(torch.tanh(raw))
        loss = physics.penalty(amplitude, wavelength, targets) + physics.hinge(amplitude, wavelength)
        optimizer.zero_grad()
        loss.sum().backward()
        optimizer.step()
    with torch.no_grad():
        return physics.space.to_designs(torch.tanh(raw))
