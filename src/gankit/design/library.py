"""The training library of a circuit GAN: the circuits of `genes` genes that show a behaviour when simulated,
with a share of their isomorphism classes held out so that a generator can propose working circuits it never saw.

Candidates are every signed graph of the gene count when there are at most `draws` of them (3 genes: 19,683),
else `draws` uniform random graphs (seeded). Only valid candidates (gankit.design.graphs.valid) are kept, and one
representative per isomorphism class is simulated, since relabelling genes changes no behaviour (oscillation and
bistability; adaptation reads gene 0 as the input and the last gene as the output, so for it every labelling is
simulated). The behaving classes are split by a seeded permutation; the training circuits are every labelling of
the training classes (the critic should not learn an arbitrary gene order).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import permutations

import torch
from torch import Tensor

from gankit.design.circuits import CircuitModel, enumerate_circuits
from gankit.design.graphs import canonical_codes, random_circuits, valid

__all__ = ["CircuitLibrary", "behaviour_keys", "build_library", "first_occurrences", "label", "label_distinct",
           "relabellings"]

CHUNK = 2048  # circuits simulated at once


@dataclass(frozen=True)
class CircuitLibrary:
    """What a circuit run learns from and is judged against."""

    genes: int
    behaviour: str
    training: Tensor  # (M, n, n) int8: every labelling of the training classes
    held_out: Tensor  # (K, n, n) int8: one circuit per held-out behaving class
    candidates: int  # valid candidate circuits
    simulated: int  # circuits simulated to find the behaving ones
    behaving_classes: int  # isomorphism classes that show the behaviour (training + held out)

    @property
    def training_classes(self) -> int:
        return self.behaving_classes - len(self.held_out)


def label(model: CircuitModel, circuits: Tensor, behaviour: str) -> Tensor:
    """(C,) bool: whether each circuit shows `behaviour`, simulated CHUNK circuits at a time."""
    if len(circuits) == 0:
        return torch.zeros(0, dtype=torch.bool)
    return torch.cat([model.behaviour(part, behaviour) for part in circuits.split(CHUNK)])


def relabellings(circuits: Tensor) -> Tensor:
    """(M, n, n) int8: every distinct gene relabelling P W Pᵀ of every circuit."""
    n = circuits.shape[-1]
    every = torch.cat([circuits[:, list(p)][:, :, list(p)] for p in permutations(range(n))])
    return torch.unique(every.flatten(1), dim=0).view(-1, n, n).to(torch.int8)


def behaviour_keys(circuits: Tensor, behaviour: str) -> Tensor:
    """(C,) int64 keys under which circuits share their behaviour: the isomorphism class, or for adaptation (which
    names an input and an output gene) the circuit itself."""
    if behaviour != "adaptation":
        return canonical_codes(circuits)
    n = circuits.shape[-1]
    powers = 3 ** torch.arange(n * n, dtype=torch.long)
    return (circuits.flatten(1).long() + 1) @ powers


def label_distinct(model: CircuitModel, circuits: Tensor, behaviour: str) -> tuple[Tensor, int]:
    """((C,) bool behaviour labels, circuits simulated): one circuit per behaviour key is simulated."""
    inverse, first = first_occurrences(behaviour_keys(circuits, behaviour))
    return label(model, circuits[first], behaviour)[inverse], len(first)


def build_library(model: CircuitModel, genes: int, behaviour: str, *, draws: int, held_out: float,
                  seed: int) -> CircuitLibrary:
    """The library of circuits of `genes` genes showing `behaviour` (see the module docstring); deterministic by
    `seed`. ValueError when fewer than two behaving classes are found (nothing to learn from and hold out)."""
    if 3 ** (genes * genes) <= draws:
        candidates = enumerate_circuits(genes)
    else:
        candidates = random_circuits(genes, draws, 2 / 3, seed)
    candidates = candidates[valid(candidates)]
    labels, simulated = label_distinct(model, candidates, behaviour)
    behaving = candidates[labels]
    classes = canonical_codes(behaving)
    distinct = torch.unique(classes)
    if len(distinct) < 2:
        raise ValueError(f"only {len(distinct)} isomorphism class(es) of {genes}-gene circuits show {behaviour} "
                         f"among {len(candidates)} valid candidates; raise circuits.draws or choose another "
                         "behaviour")
    order = distinct[torch.randperm(len(distinct), generator=torch.Generator().manual_seed(seed))]
    is_out = torch.isin(classes, order[: round(held_out * len(distinct))])
    kept = behaving[~is_out]
    training = kept if behaviour == "adaptation" else relabellings(kept)
    _, first_out = first_occurrences(classes[is_out])
    return CircuitLibrary(genes, behaviour, training, behaving[is_out][first_out], len(candidates), simulated,
                          len(distinct))


def first_occurrences(keys: Tensor) -> tuple[Tensor, Tensor]:
    """(for each row the index of its distinct key, for each distinct key the row of its first occurrence)."""
    distinct, inverse = torch.unique(keys, return_inverse=True)
    first = torch.full((len(distinct),), len(keys), dtype=torch.long)
    first.scatter_reduce_(0, inverse, torch.arange(len(keys)), reduce="amin")
    return inverse, first
