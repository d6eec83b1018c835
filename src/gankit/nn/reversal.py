"""The gradient reversal layer of domain-adversarial training (Ganin & Lempitsky 2015; Ganin et al. 2016).

Forward it is the identity; backward it multiplies the gradient by −λ. Put between an encoder and a domain
critic, one backward pass of (task loss + critic loss) gives the critic the gradient of its own loss and the
encoder the gradient of (task loss − λ · critic loss): the three-player game in one optimizer step.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

__all__ = ["GradientReversal", "reverse_gradient"]


class _ReverseGradient(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, scale: float) -> Tensor:
        ctx.scale = scale
        return x.view_as(x)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        return -ctx.scale * grad, None


def reverse_gradient(x: Tensor, scale: float = 1.0) -> Tensor:
    """`x` unchanged, with the gradient flowing back through it multiplied by −`scale`."""
    return _ReverseGradient.apply(x, float(scale))


class GradientReversal(nn.Module):
    """:func:`reverse_gradient` as a layer; `scale` (λ) may be changed between steps (a schedule)."""

    def __init__(self, scale: float = 1.0) -> None:
        super().__init__()
        self.scale = float(scale)

    def forward(self, x: Tensor) -> Tensor:
        return reverse_gradient(x, self.scale)

    def extra_repr(self) -> str:
        return f"scale={self.scale}"
