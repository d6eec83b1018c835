"""Run a real Dynamics on a two-parameter toy game and record the iterates, stopping on over/underflow."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from torch import Tensor
from torch.optim import Optimizer

from gankit.dynamics import Dynamics
from gankit.game import Game

__all__ = ["OVERFLOW", "UNDERFLOW", "Trajectory", "run_trajectory"]

OVERFLOW = 1e6  # a trajectory stops once ‖z‖ exceeds this (or is not finite) ...
UNDERFLOW = 1e-150  # ... or falls below this, long before ratios of distances lose their digits


@dataclass
class Trajectory:
    """The iterates z_0..z_n (start included), and why the run stopped early, if it did."""

    points: np.ndarray
    stopped: str = ""  # "", or "overflow" (‖z‖ > OVERFLOW), or "underflow" (‖z‖ < UNDERFLOW)

    @property
    def distances(self) -> np.ndarray:
        """‖z_t‖ for every recorded t: the distance from the equilibrium at 0."""
        return np.linalg.norm(self.points, axis=1)

    @property
    def steps_done(self) -> int:
        return len(self.points) - 1

    @property
    def overflowed(self) -> bool:
        return self.stopped == "overflow"

    def note(self) -> str:
        """Why and where the run stopped early, in words; "" if it ran every step."""
        bound = {"overflow": f"‖z‖ > {OVERFLOW:.0e}", "underflow": f"‖z‖ < {UNDERFLOW:.0e}"}.get(self.stopped)
        return f"stopped: {bound} at step {self.steps_done}" if bound else ""


def run_trajectory(
    game: Game,
    dynamics: Dynamics,
    optimizers: Mapping[str, Optimizer],
    batch: Tensor | None,
    steps: int,
    read_point: Callable[[], tuple[float, float]],
) -> Trajectory:
    """Make `steps` steps of `dynamics` on `game`, the same `batch` each time, unless ‖z‖ leaves
    [UNDERFLOW, OVERFLOW] first."""
    points = [read_point()]
    for step in range(steps):
        dynamics.step(game, optimizers, lambda: batch, step)
        points.append(read_point())
        distance = np.hypot(*points[-1])
        if not distance <= OVERFLOW:  # NaN included
            return Trajectory(np.array(points), "overflow")
        if distance < UNDERFLOW:
            return Trajectory(np.array(points), "underflow")
    return Trajectory(np.array(points))
