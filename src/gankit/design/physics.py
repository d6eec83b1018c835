"""What the physics charges a proposed texture for a target friction, the same for the generator's loss and the
gradient-descent baseline: the miss of the friction, read one of two ways, under a norm, plus the feasibility hinge.

- miss "friction": (μ(A, λ) − μ*) / (the reachable range). Near full contact it fails: μ rises steeply as the
  aspect falls and then stays flat at τ/p̄, so a proposal past the transition gets no gradient back.
- miss "aspect": (log(A/λ) − log a*) / (the log-aspect span of the reachable range), a* the aspect of friction μ*
  nearest to the proposal's (DesignSpace.solution_log_aspect): the distance to the target's solution set in
  design space, which the contact model gives as well, smooth and never flat.
- norm "squared" (miss²) or "absolute" (|miss|: a pull that does not fade as the miss shrinks, which the
  precision near full contact needs).
- hinge: Σ relu(−margin) over the feasibility constraints (ContactModel.feasibility_margins).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import torch
from torch import Tensor

from gankit.design.space import DesignSpace

__all__ = ["PhysicsTerm"]


@dataclass(frozen=True)
class PhysicsTerm:
    """The physics terms of a design loss over a reachable friction range (see the module docstring)."""

    space: DesignSpace
    reachable: tuple[float, float]
    miss: Literal["friction", "aspect"] = "friction"
    norm: Literal["squared", "absolute"] = "squared"
    aspect_span: float = field(init=False)

    def __post_init__(self) -> None:
        ends = torch.tensor(self.reachable, dtype=torch.float64)
        span = self.space.solution_log_aspect(torch.zeros(2, dtype=torch.float64), ends).diff().abs()
        object.__setattr__(self, "aspect_span", float(span))

    def misses(self, amplitude: Tensor, wavelength: Tensor, targets: Tensor) -> Tensor:
        """(N,) signed misses of designs (A, λ) for target frictions (N,)."""
        if self.miss == "friction":
            friction = self.space.model.friction(amplitude, wavelength)
            return (friction - targets) / (self.reachable[1] - self.reachable[0])
        log_aspect = torch.log(amplitude / wavelength)
        return (log_aspect - self.space.solution_log_aspect(log_aspect, targets)) / self.aspect_span

    def penalty(self, amplitude: Tensor, wavelength: Tensor, targets: Tensor) -> Tensor:
        """(N,) the misses under the norm."""
        miss = self.misses(amplitude, wavelength, targets)
        return miss.pow(2) if self.norm == "squared" else miss.abs()

    def hinge(self, amplitude: Tensor, wavelength: Tensor) -> Tensor:
        """(N,) Σ relu(−margin) over the feasibility constraints."""
        return torch.relu(-self.space.model.feasibility_margins(amplitude, wavelength)).sum(-1)
