"""What a designer does without a trained generator, given the same number of physics evaluations: random search
over the manufacturable box, and gradient descent on the contact model from random starts."""

from __future__ import annotations

import torch
from torch import Tensor

from gankit.design.space import DesignSpace

__all__ = ["GRADIENT_STEPS", "gradient_descent", "random_search"]

GRADIENT_STEPS = 25  # physics evaluations (each with its gradient) per gradient-descent start


def random_search(space: DesignSpace, evaluations: int, seed: int) -> tuple[Tensor, Tensor]:
    """(A, λ) of `evaluations` textures drawn uniformly in the design coordinates (log-uniform in A and λ)."""
    g = torch.Generator().manual_seed(seed)
    return space.to_designs(2 * torch.rand(evaluations, 2, generator=g, dtype=torch.float64) - 1)


def gradient_descent(space: DesignSpace, target: float, reachable: tuple[float, float], evaluations: int,
                     seed: int, lr: float = 0.1) -> tuple[Tensor, Tensor]:
    """(A, λ) of the end points of evaluations // GRADIENT_STEPS runs of Adam (lr) from uniform random starts,
    on ((μ − target) / range)² + Σ relu(−feasibility margin), coordinates kept in the box by a tanh."""
    starts = max(evaluations // GRADIENT_STEPS, 1)
    g = torch.Generator().manual_seed(seed)
    u0 = (2 * torch.rand(starts, 2, generator=g, dtype=torch.float64) - 1).clamp(-0.999, 0.999)
    raw = torch.atanh(u0).requires_grad_()
    optimizer = torch.optim.Adam([raw], lr=lr)
    span = reachable[1] - reachable[0]
    for _ in range(GRADIENT_STEPS):
        amplitude, wavelength = space.to_designs(torch.tanh(raw))
        miss = (space.model.friction(amplitude, wavelength) - target) / span
        hinge = torch.relu(-space.model.feasibility_margins(amplitude, wavelength)).sum(-1)
        optimizer.zero_grad()
        (miss.pow(2) + hinge).sum().backward()
        optimizer.step()
    with torch.no_grad():
        return space.to_designs(torch.tanh(raw))
