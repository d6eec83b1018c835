"""How good a set of proposed circuits is, the same way for every method (the graph GAN, random graphs, single-edge
mutations of training circuits), in the MolGAN / GraphRNN style, each read from simulation:

- `valid`: share of proposals that are valid (weakly connected, every gene regulated: gankit.design.graphs.valid);
- `unique`: distinct isomorphism classes among the valid ones / valid ones (`classes`: their number);
- `novel`: share of valid proposals not isomorphic to any training circuit;
- `novel_working`: share of the novel valid proposals that show the behaviour when simulated: the goal;
- `new_classes`: distinct isomorphism classes among the novel working proposals (what was found, not how often).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch
from torch import Tensor

from gankit.design.circuits import CircuitModel
from gankit.design.graphs import canonical_codes, novel, uniqueness, valid
from gankit.design.library import CircuitLibrary, label_distinct

__all__ = ["CircuitScores", "score_circuits", "timed"]


@dataclass(frozen=True)
class CircuitScores:
    """Scores of one method's proposals (see the module docstring); `seconds` the time to propose them."""

    method: str
    proposed: int
    valid: float
    unique: float
    classes: int
    novel: float
    novel_working: float
    new_classes: int
    seconds: float

    def as_dict(self) -> dict[str, float | int | str]:
        return asdict(self)


@dataclass(frozen=True)
class Scored:
    """The scores with, per proposal, its validity, novelty and behaviour label."""

    scores: CircuitScores
    valid: Tensor
    novel: Tensor
    working: Tensor


def timed(make: Callable[[], Tensor]) -> tuple[Tensor, float]:
    """(make()'s circuits, seconds it took)."""
    started = time.perf_counter()
    circuits = make()
    return circuits, time.perf_counter() - started


def score_circuits(model: CircuitModel, library: CircuitLibrary, circuits: Tensor, method: str,
                   seconds: float = 0.0) -> Scored:
    """Score proposals (C, n, n) against the library's training circuits, simulating each distinct one once."""
    is_valid = valid(circuits)
    is_novel = torch.zeros_like(is_valid)
    working = torch.zeros_like(is_valid)
    if is_valid.any():
        is_novel[is_valid] = novel(circuits[is_valid], library.training)
        working[is_valid] = label_distinct(model, circuits[is_valid], library.behaviour)[0]
    found = is_novel & working
    unique = uniqueness(circuits)
    count = lambda mask: int(mask.sum())
    scores = CircuitScores(
        method=method, proposed=len(circuits), valid=count(is_valid) / max(len(circuits), 1),
        unique=unique, classes=round(unique * count(is_valid)), novel=count(is_novel) / max(count(is_valid), 1),
        novel_working=count(found) / max(count(is_novel), 1),
        new_classes=len(torch.unique(canonical_codes(circuits[found]))) if found.any() else 0, seconds=seconds)
    return Scored(scores, is_valid, is_novel, working)
