"""Trust-region updates: each step of a wrapped optimizer is capped at a radius adapted by the ratio test.

The classic trust-region ratio test (Nocedal & Wright, ch. 4) applied to the
first-order model L(θ+Δ) ≈ L(θ) + g·Δ: the radius grows after clipped steps
that the model predicted well and shrinks after steps it predicted badly.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, Literal

import torch
from torch import Tensor
from torch.optim import Optimizer

__all__ = ["TrustRegion"]

Measure = Literal["parameters", "outputs"]
_MEASURES = ("parameters", "outputs")


class TrustRegion(Optimizer):
    """Wraps `optimizer` and scales each of its steps back onto a radius that adapts to the step's success.

    `step(closure)` needs the gradient g of the player's loss L in `.grad` and a closure returning L at
    the current parameters on the batch and random draws g came from (gankit's dynamics build it, see
    `Dynamics.apply_updates`). One step:

    1. L₀ = closure(); the inner optimizer proposes Δ.
    2. The step's size is ‖Δ‖₂ over all parameters (`measure="parameters"`) or the RMS change of
       `probe()`, the player's outputs on a fixed input (`measure="outputs"`). If it exceeds the radius,
       Δ ← Δ·radius/size; for outputs the size is measured again and, if still over, scaled once more
       (outputs move only roughly linearly with Δ).
    3. ρ = (L₀ − closure()) / (−g·Δ), actual over predicted improvement. ρ < low: radius ·= shrink
       (and with `reject=True` the parameters are restored); ρ > high on a clipped step: radius ·= expand;
       the radius is then clamped to [min_radius, max_radius]. When −g·Δ ≤ 0 the model predicts no
       improvement: ρ is nan and the radius stays.

    Rejection is off by default: in a game the other players keep moving, so a step that disappointed on
    one batch is no reason to freeze the player; the shrunk radius already limits the next step. Either
    way the inner optimizer keeps its state (e.g. Adam's moments): the gradient it saw was measured at θ.
    Each step costs two extra loss evaluations (and two or three `probe()` calls with measure="outputs");
    `probe` should be deterministic and free of side effects (mind BatchNorm statistics in train mode).
    Statistics for logging: `radius`, `last_rho`, `clipped_fraction`, `steps`, `clipped_steps`,
    `rejected_steps`.
    """

    needs_closure = True

    def __init__(
        self,
        optimizer: Optimizer,
        radius: float = 0.1,
        measure: Measure = "parameters",
        probe: Callable[[], Tensor] | None = None,
        min_radius: float = 1e-4,
        max_radius: float = 10.0,
        shrink: float = 0.25,
        expand: float = 2.0,
        low: float = 0.25,
        high: float = 0.75,
        reject: bool = False,
    ) -> None:
        if not radius > 0:
            raise ValueError(f"radius must be > 0, got {radius}: pass the largest step to allow, e.g. radius=0.1")
        if not 0 < min_radius <= max_radius:
            raise ValueError(
                f"need 0 < min_radius <= max_radius, got min_radius={min_radius}, max_radius={max_radius}: "
                "swap or correct them"
            )
        if not min_radius <= radius <= max_radius:
            raise ValueError(
                f"radius={radius} lies outside [min_radius, max_radius] = [{min_radius}, {max_radius}]: "
                "pick a radius inside or widen the bounds"
            )
        if measure not in _MEASURES:
            raise ValueError(f"measure must be one of {_MEASURES}, got {measure!r}")
        if measure == "outputs" and probe is None:
            raise ValueError(
                "measure='outputs' needs probe=, a function returning the player's outputs on a fixed input "
                "(e.g. lambda: generator(z_fixed)); or use measure='parameters'"
            )
        if not 0 < shrink < 1 <= expand:
            raise ValueError(f"need 0 < shrink < 1 <= expand, got shrink={shrink}, expand={expand}")
        if not 0 <= low <= high:
            raise ValueError(f"need 0 <= low <= high, got low={low}, high={high}")
        super().__init__(optimizer.param_groups, optimizer.defaults)
        self.optimizer = optimizer
        self._share_inner_state()
        self.measure = measure
        self.probe = probe
        self.min_radius, self.max_radius = float(min_radius), float(max_radius)
        self.shrink, self.expand, self.low, self.high = float(shrink), float(expand), float(low), float(high)
        self.reject = reject
        self.radius = float(radius)
        self.last_rho = math.nan
        self.steps = self.clipped_steps = self.rejected_steps = 0

    def _share_inner_state(self) -> None:
        # The wrapper shows the inner optimizer's groups and state (LR schedulers edit them in place).
        self.param_groups = self.optimizer.param_groups
        self.state = self.optimizer.state

    @property
    def clipped_fraction(self) -> float:
        """Fraction of steps so far that were scaled back onto the radius."""
        return self.clipped_steps / self.steps if self.steps else 0.0

    @torch.no_grad()
    def step(self, closure: Callable[[], Tensor] | None = None) -> Tensor:  # type: ignore[override]
        """One trust-region step (see the class docstring); returns the loss before the step."""
        if closure is None:
            raise ValueError(
                "TrustRegion.step needs a closure returning the player's loss at the current parameters "
                "(same batch, same random draws as the gradient); gankit's dynamics pass one"
            )
        params = [p for group in self.param_groups for p in group["params"]]
        with torch.enable_grad():
            loss_before = closure().detach()
        start = [p.detach().clone() for p in params]
        outputs_before = self.probe() if self.probe is not None and self.measure == "outputs" else None
        self.optimizer.step()
        size = self._size(params, start, outputs_before)
        clipped = size > self.radius
        if clipped:
            proposal = [p - s for p, s in zip(params, start, strict=True)]
            scale = self.radius / size
            _move(params, start, proposal, scale)
            if outputs_before is not None:
                size = self._size(params, start, outputs_before)
                if size > self.radius:
                    _move(params, start, proposal, scale * self.radius / size)
        moved = zip(params, start, strict=True)
        predicted = -float(sum((p.grad * (p - s)).sum() for p, s in moved if p.grad is not None))
        with torch.enable_grad():
            actual = float(loss_before) - float(closure().detach())
        rho = actual / predicted if predicted > 0 else math.nan
        if rho < self.low:
            self.radius *= self.shrink
            if self.reject:
                for p, s in zip(params, start, strict=True):
                    p.copy_(s)
                self.rejected_steps += 1
        elif rho > self.high and clipped:
            self.radius *= self.expand
        self.radius = min(max(self.radius, self.min_radius), self.max_radius)
        self.last_rho = rho
        self.steps += 1
        self.clipped_steps += int(clipped)
        return loss_before

    def _size(self, params: list[Tensor], start: list[Tensor], outputs_before: Tensor | None) -> float:
        """Size of the move from `start` to the current parameters, in the units of `measure`."""
        if outputs_before is None:
            return math.sqrt(float(sum((p - s).pow(2).sum() for p, s in zip(params, start, strict=True))))
        assert self.probe is not None
        return float((self.probe() - outputs_before).pow(2).mean().sqrt())

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.optimizer.zero_grad(set_to_none)

    def state_dict(self) -> dict[str, Any]:
        """The inner optimizer's state dict plus a "trust_region" entry of plain numbers."""
        state = self.optimizer.state_dict()
        state["trust_region"] = {
            "radius": self.radius,
            "last_rho": self.last_rho,
            "steps": self.steps,
            "clipped_steps": self.clipped_steps,
            "rejected_steps": self.rejected_steps,
        }
        return state

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:  # type: ignore[override]
        state = dict(state_dict)
        if "trust_region" not in state:
            raise ValueError(
                "this optimizer state has no 'trust_region' entry: it was saved without a trust region; "
                "load it into the inner optimizer instead"
            )
        saved = state.pop("trust_region")
        self.optimizer.load_state_dict(state)
        self._share_inner_state()
        self.radius, self.last_rho = float(saved["radius"]), float(saved["last_rho"])
        self.steps, self.clipped_steps = int(saved["steps"]), int(saved["clipped_steps"])
        self.rejected_steps = int(saved["rejected_steps"])


def _move(params: list[Tensor], start: list[Tensor], step: list[Tensor], scale: float) -> None:
    """Set each parameter to start + scale·step."""
    for p, s, d in zip(params, start, step, strict=True):
        p.copy_(s).add_(d, alpha=scale)
