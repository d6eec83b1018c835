"""How good a set of designs for a target friction is, the same way for every method (the generator, random
search, gradient descent): hit rate, feasibility and coverage of the target's feasible solution set.

- `hit_rate`: the share of *returned* designs (feasible ones; infeasible ones are filtered out and counted) whose
  friction is within the tolerance of the target.
- `feasible`: the share of proposals that pass the feasibility check (what is filtered before returning).
- `coverage`: the share of the target's solution bins (`DesignSpace.solution_bins`: the bins of log λ holding a
  feasible texture of the target friction) that hold at least one returned hit: diversity measured against the
  set of right answers the model knows.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from gankit.design.space import DesignSpace

__all__ = ["DesignScores", "score_designs", "spread_targets"]


@dataclass(frozen=True)
class DesignScores:
    """Scores of one method's designs for one target (see the module docstring)."""

    target: float
    proposed: int
    returned: int
    hit_rate: float
    feasible: float
    coverage: float

    def as_dict(self) -> dict[str, float]:
        return {"target": self.target, "proposed": self.proposed, "returned": self.returned,
                "hit_rate": self.hit_rate, "feasible": self.feasible, "coverage": self.coverage}


def spread_targets(reachable: tuple[float, float], count: int) -> list[float]:
    """`count` targets evenly inside the reachable range, its ends left out (half a step in from each)."""
    low, high = reachable
    return [low + (high - low) * (i + 0.5) / count for i in range(count)]


def score_designs(space: DesignSpace, amplitude: Tensor, wavelength: Tensor, target: float,
                  tolerance: float) -> tuple[DesignScores, Tensor]:
    """(the scores, the boolean mask of returned designs: the feasible ones) of proposals (A, λ) for `target`."""
    model = space.model
    amplitude, wavelength = amplitude.double(), wavelength.double()
    feasible = model.feasible(amplitude, wavelength)
    hits = feasible & ((model.friction(amplitude, wavelength) - target).abs() <= tolerance)
    solutions = space.solution_bins(target, tolerance)
    covered = space.bins(wavelength[hits]) & solutions
    returned = int(feasible.sum())
    scores = DesignScores(
        target=target, proposed=len(amplitude), returned=returned,
        hit_rate=float(hits.sum()) / returned if returned else 0.0,
        feasible=float(feasible.float().mean()) if len(amplitude) else 0.0,
        coverage=float(covered.sum()) / max(int(solutions.sum()), 1),
    )
    return scores, feasible
