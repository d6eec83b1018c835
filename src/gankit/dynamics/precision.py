"""Numeric precision of a dynamics' loss evaluations: float32, or autocast to bfloat16 / float16.

A :class:`Precision` wraps every ``game.losses(...)`` call of a dynamics in ``torch.autocast``
(forward passes and losses only; gradients and optimizer steps stay outside it). float16 also
scales each loss with a ``torch.amp.GradScaler`` before differentiation, so small gradients do not
flush to zero, and lets the scaler skip an update whose gradients overflowed. bfloat16 has
float32's exponent range and needs no scaling.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any

import torch
from torch import Tensor
from torch.optim import Optimizer

__all__ = ["PRECISIONS", "Precision"]

PRECISIONS: dict[str, torch.dtype | None] = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


class Precision:
    """`name` is fp32 (no autocast, the default), bf16 or fp16, on device type `device_type` (cpu, cuda).

    fp16 keeps a loss scaler: :meth:`scale` multiplies a loss by the current scale, :meth:`step`
    unscales the optimizer's gradients and skips the step when they are not finite (one host sync
    per update: the scaler must know whether to step), :meth:`update` adapts the scale once per
    update. For fp32 and bf16 these are plain pass-throughs with no host sync.
    """

    def __init__(self, name: str = "fp32", device_type: str = "cpu") -> None:
        if name not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {name!r}")
        self.name = name
        self.dtype = PRECISIONS[name]
        self.device_type = device_type
        self.scaler = torch.amp.GradScaler(device_type) if name == "fp16" else None

    def autocast(self) -> AbstractContextManager[Any]:
        """The context a loss evaluation runs in."""
        if self.dtype is None:
            return nullcontext()
        return torch.autocast(self.device_type, dtype=self.dtype)

    def scale(self, loss: Tensor) -> Tensor:
        """The loss to differentiate: scaled under fp16, unchanged otherwise."""
        return loss if self.scaler is None else self.scaler.scale(loss)

    def unscale_norm(self, norm: Tensor) -> Tensor:
        """The gradient norm of the unscaled loss from that of the scaled one (0 for a step fp16 will skip)."""
        if self.scaler is None:
            return norm
        unscaled = norm / self.scaler.scale(torch.ones((), device=norm.device))
        return torch.where(torch.isfinite(unscaled), unscaled, torch.zeros_like(unscaled))

    def step(self, optimizer: Optimizer) -> None:
        """`optimizer.step()`, through the scaler under fp16."""
        if self.scaler is None:
            optimizer.step()
        else:
            self.scaler.step(optimizer)

    def update(self) -> None:
        """After the updates of one evaluation: adapt the fp16 loss scale; nothing otherwise."""
        if self.scaler is not None:
            self.scaler.update()

    def state_dict(self) -> dict[str, Any]:
        """The fp16 scaler's state (scale and growth tracker); empty for fp32 and bf16."""
        return {} if self.scaler is None else self.scaler.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if self.scaler is not None and state:
            self.scaler.load_state_dict(state)
