"""Exponential moving average of a module's weights (Yazıcı et al. 2019 for GANs)."""

from __future__ import annotations

import copy

import torch
from torch import nn

__all__ = ["ExponentialMovingAverage"]


class ExponentialMovingAverage:
    """A shadow copy θ̄ ← decay·θ̄ + (1−decay)·θ of `module`; buffers (BatchNorm stats) are copied."""

    def __init__(self, module: nn.Module, decay: float) -> None:
        if not 0 < decay < 1:
            raise ValueError(f"EMA decay must lie in (0, 1), got {decay}")
        self.decay = decay
        self.module = module
        self.shadow = copy.deepcopy(module).eval().requires_grad_(False)

    @torch.no_grad()
    def update(self) -> None:
        """Move the shadow weights one step towards the live ones."""
        for avg, live in zip(self.shadow.parameters(), self.module.parameters(), strict=True):
            avg.lerp_(live, 1.0 - self.decay)
        for avg, live in zip(self.shadow.buffers(), self.module.buffers(), strict=True):
            avg.copy_(live)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return self.shadow.state_dict()

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.shadow.load_state_dict(state)
