"""Graph metrics for generated gene circuits (MolGAN / GraphRNN style) and two baselines to compare a graph GAN with.

Conventions follow `gankit.design.circuits`: a batch of circuits is a signed adjacency W (C, n, n) with entries −1, 0,
+1, W[i, j] the sign of the edge j → i (gene j regulates gene i), self-loops allowed. Any integer or float dtype is
accepted as input; generated circuits come back as int8.

- Isomorphism: two circuits are the same up to relabelling of genes when W' = P W Pᵀ for a permutation matrix P
  (signs and self-loops kept). `canonical_codes` brute-forces the n! relabellings: each permuted adjacency is read as
  an integer whose base-3 digits are the entries + 1 (row-major, entry 0 the least significant), and the minimum is
  the circuit's code. Equal codes ⇔ isomorphic circuits.
- Validity: the circuit is weakly connected (directions and signs ignored; one gene is connected) and every gene is
  regulated (at least one incoming edge, a self-loop counts).
- Uniqueness (MolGAN's definition): distinct isomorphism classes among the valid circuits / number of valid circuits.
- Novelty: not isomorphic to any circuit of a library (the training set).
- Baselines: `random_circuits` (independent entries at a given density) and `single_edge_mutations` (a training
  circuit with one entry changed), both deterministic by seed.
"""

from __future__ import annotations

from itertools import permutations

import torch
from torch import Tensor

__all__ = ["canonical_codes", "edge_density", "novel", "random_circuits", "single_edge_mutations", "uniqueness",
           "valid"]

MAX_GENES = 6  # 6! = 720 relabellings and 3^36 < 2^63: the codes still fit int64


def _circuits(weights: Tensor) -> Tensor:
    """`weights` checked to be a (C, n, n) batch with entries in {−1, 0, 1}, as int8."""
    if not isinstance(weights, Tensor) or weights.dim() != 3 or weights.shape[1] != weights.shape[2]:
        shape = tuple(weights.shape) if isinstance(weights, Tensor) else type(weights).__name__
        raise ValueError(f"circuits must be a (C, n, n) tensor of signed adjacencies; got {shape}")
    if not ((weights == -1) | (weights == 0) | (weights == 1)).all():
        raise ValueError("circuit entries must be -1 (repression), 0 (no edge) or +1 (activation)")
    return weights.to(torch.int8)


def canonical_codes(weights: Tensor, batch_size: int = 4096) -> Tensor:
    """(C,) int64: each circuit's code, the smallest base-3 reading of its adjacency over all relabellings of genes;
    two circuits are isomorphic iff their codes are equal. Works through `batch_size` circuits at a time."""
    w = _circuits(weights)
    n = w.shape[-1]
    if n > MAX_GENES:
        raise ValueError(f"canonical codes are brute force over n! relabellings; {n} genes is over {MAX_GENES}")
    perms = torch.tensor(list(permutations(range(n))), dtype=torch.long)  # (P, n)
    flat = (perms[:, :, None] * n + perms[:, None, :]).flatten(1)  # (P, n²): entry [a, b] of W' is W[p(a), p(b)]
    place = torch.zeros(n * n, len(perms), dtype=torch.long)  # place[e, p]: the weight 3^k of W's entry e in W'_p
    place.scatter_(0, flat.T, (3 ** torch.arange(n * n, dtype=torch.long))[:, None].expand(-1, len(perms)))
    digits = w.flatten(1).long() + 1  # (C, n²)
    codes = [(chunk @ place).amin(-1) for chunk in digits.split(max(1, batch_size))]  # (chunk, P) codes each
    return torch.cat(codes) if codes else torch.zeros(0, dtype=torch.long)


def valid(weights: Tensor) -> Tensor:
    """(C,) bool: weakly connected (one gene counts as connected) and every gene has an incoming edge."""
    edges = _circuits(weights) != 0
    n = edges.shape[-1]
    regulated = edges.any(-1).all(-1)  # row i holds the edges into gene i
    reach = (edges | edges.transpose(1, 2) | torch.eye(n, dtype=torch.bool)).float()
    for _ in range(max(0, n - 2).bit_length()):  # after k squarings: paths of up to 2^k steps, ≥ n − 1 needed
        reach = (reach @ reach).clamp_max(1)
    return regulated & (reach[:, 0] > 0).all(-1)


def uniqueness(weights: Tensor) -> float:
    """Distinct isomorphism classes among the valid circuits over the number of valid circuits (MolGAN's "unique
    among valid"); 0.0 when no circuit is valid."""
    w = _circuits(weights)
    ok = valid(w)
    count = int(ok.sum())
    return 0.0 if count == 0 else torch.unique(canonical_codes(w[ok])).numel() / count


def novel(weights: Tensor, library: Tensor) -> Tensor:
    """(C,) bool: the circuit is isomorphic to no circuit of `library` (M, n, n)."""
    w, lib = _circuits(weights), _circuits(library)
    if w.shape[-1] != lib.shape[-1]:
        raise ValueError(f"circuits have {w.shape[-1]} genes but the library's have {lib.shape[-1]}")
    return ~torch.isin(canonical_codes(w), canonical_codes(lib))


def edge_density(weights: Tensor) -> float:
    """Mean share of the n² entries (self-loops included) that are non-zero."""
    w = _circuits(weights)
    if w.shape[0] == 0:
        raise ValueError("edge density of an empty batch of circuits is undefined")
    return (w != 0).double().mean().item()


def random_circuits(n_genes: int, count: int, density: float, seed: int) -> Tensor:
    """(count, n, n) int8: each entry non-zero with probability `density`, then +1 or −1 with probability ½ each."""
    if n_genes < 1 or count < 0 or not 0.0 <= density <= 1.0:
        raise ValueError(f"need n_genes ≥ 1, count ≥ 0 and density in [0, 1]; got {n_genes}, {count}, {density}")
    g = torch.Generator().manual_seed(seed)
    present = torch.rand(count, n_genes, n_genes, generator=g) < density
    sign = torch.where(torch.rand(count, n_genes, n_genes, generator=g) < 0.5, 1, -1)
    return (present * sign).to(torch.int8)


def single_edge_mutations(library: Tensor, count: int, seed: int) -> Tensor:
    """(count, n, n) int8: per row a library circuit drawn uniformly with one entry, drawn uniformly among the n²,
    changed to one of its two other values (each with probability ½)."""
    lib = _circuits(library)
    if lib.shape[0] == 0 or count < 0:
        raise ValueError(f"need a non-empty library and count ≥ 0; got {lib.shape[0]} circuits, count {count}")
    n = lib.shape[-1]
    g = torch.Generator().manual_seed(seed)
    parents = torch.randint(lib.shape[0], (count,), generator=g)
    entries = torch.randint(n * n, (count,), generator=g)
    shifts = torch.randint(1, 3, (count,), generator=g)  # +1 or +2 modulo 3: the two other values
    flat = lib[parents].flatten(1).long()  # (count, n²)
    rows = torch.arange(count)
    flat[rows, entries] = (flat[rows, entries] + 1 + shifts) % 3 - 1
    return flat.view(count, n, n).to(torch.int8)
