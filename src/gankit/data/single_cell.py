"""Single-cell RNA data with batch effects of known form, for benchmarking batch-effect removal (scIB).

`pbmc_with_batches` splits scanpy's packaged PBMC sample (700 cells × 765 genes, log1p-normalized, 10 cell
types) into batches with different cell-type compositions and distorts each batch's log-expression by
known per-gene, low-rank and cell-type-specific effects. `simulate_batches` draws splatter-like counts
(Zappia et al. 2017; scIB's simulation tasks) in numpy: gamma gene means, lognormal library sizes and
differential-expression factors, lognormal per-batch gene factors, gamma-Poisson counts. Each table keeps
the injected parameters in `effects`, so a correction can be scored against the truth. The PBMC sample
needs scanpy (`pip install scanpy`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from gankit.errors import DataError

__all__ = ["BUILTIN_CELL_DATA", "CellTable", "pbmc_with_batches", "simulate_batches"]


@dataclass
class CellTable:
    """Cells x genes with each cell's batch and cell type; `effects` holds the injected batch parameters."""

    x: np.ndarray
    batch: np.ndarray
    cell_type: np.ndarray
    genes: list[str]
    counts: bool
    effects: dict[str, np.ndarray] = field(default_factory=dict)


def _split_types(rng: np.random.Generator, codes: np.ndarray, n_batches: int, alpha: float = 2.0,
                 min_cells: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Each cell's batch: each type's cells spread over the batches in Dirichlet(alpha) shares, a type of at
    least `min_cells` cells keeping one cell in every batch. Returns the batch codes and the shares (types, batches)."""
    batch = np.empty(len(codes), dtype=np.int64)
    shares = rng.dirichlet(np.full(n_batches, alpha), size=codes.max() + 1)
    for code, share in enumerate(shares):
        cells = rng.permutation(np.flatnonzero(codes == code))
        floor = int(len(cells) >= max(min_cells, n_batches))
        sizes = floor + rng.multinomial(len(cells) - floor * n_batches, share)
        batch[cells] = np.repeat(np.arange(n_batches), sizes)
    return batch, shares


def pbmc_with_batches(seed: int = 0, n_batches: int = 3) -> CellTable:
    """scanpy's pbmc68k_reduced log-expression (`.raw`, cell types from `bulk_labels`) split into `n_batches`
    batches of different composition, each distorted on the log scale as x_b = x * scale_b + shift_b +
    low_rank_b + type_shift_b[cell type]:

    - scale (batches, genes): lognormal(0, 0.2) gains of the log-expression;
    - shift (batches, genes): normal(0, 0.3) offsets added to every entry, zeros included (a measurement
      offset), so the result is dense and may be negative;
    - low_rank (batches, genes): each batch's point in a 3-dimensional gene subspace shared by all batches,
      norm 15 (about 0.5 per gene), the dominant effect;
    - type_shift (batches, types, genes): in each batch, 3 cell types get normal(0, 0.3) offsets on 10% of
      the genes; types are ordered as np.unique(cell_type).

    Cells keep the packaged order; `effects` also holds `shares` (types, batches), each type's batch shares.
    """
    import scanpy as sc

    adata = sc.datasets.pbmc68k_reduced()
    x = np.asarray(adata.raw.X.toarray(), dtype=np.float64)
    types, codes = np.unique(adata.obs["bulk_labels"].astype(str).to_numpy(), return_inverse=True)
    largest = int(np.bincount(codes).max())  # the largest type keeps a cell in every batch
    if not 2 <= n_batches <= largest:
        raise DataError(f"pbmc_with_batches needs 2 <= n_batches <= {largest}, got {n_batches}")
    rng = np.random.default_rng(seed)
    n_genes = x.shape[1]
    batch, shares = _split_types(rng, codes, n_batches)
    scale = rng.lognormal(0.0, 0.2, (n_batches, n_genes))
    shift = rng.normal(0.0, 0.3, (n_batches, n_genes))
    directions = np.linalg.qr(rng.normal(size=(n_genes, 3)))[0].T  # (3, genes), orthonormal
    coefficients = rng.normal(size=(n_batches, 3))
    low_rank = 15.0 * coefficients / np.linalg.norm(coefficients, axis=1, keepdims=True) @ directions
    type_shift = np.zeros((n_batches, len(types), n_genes))
    for b in range(n_batches):
        for t in rng.choice(len(types), size=min(3, len(types)), replace=False):
            genes = rng.choice(n_genes, size=max(1, n_genes // 10), replace=False)
            type_shift[b, t, genes] = rng.normal(0.0, 0.3, len(genes))
    x = x * scale[batch] + shift[batch] + low_rank[batch] + type_shift[batch, codes]
    return CellTable(x.astype(np.float32), np.array([f"batch{b}" for b in batch]), types[codes],
                     list(adata.raw.var_names), counts=False,
                     effects={"scale": scale, "shift": shift, "low_rank": low_rank, "type_shift": type_shift,
                              "shares": shares})


def simulate_batches(seed: int = 0, n_cells: int = 2000, n_genes: int = 1000, n_types: int = 7,
                     n_batches: int = 4) -> CellTable:
    """Splatter-like counts of `n_types` cell types measured in `n_batches` batches of about equal size.

    Gene means ~ gamma(0.6, rate 0.3); each type multiplies 10% of the genes by lognormal(0.1, 0.8)
    differential-expression factors (half of them inverted: down-regulated); each batch multiplies every
    gene by a lognormal(0.1, 0.25) factor (splatter's batch.facLoc / batch.facScale) and draws library sizes
    lognormal(log 5000 + normal(0, 0.3) per batch, 0.2). Type proportions differ per batch (Dirichlet(2))
    and the last batch lacks one type. A cell's counts are Poisson of gamma means with biological CV 0.25,
    no dropout. Cells are ordered by batch; `effects` holds base_mean (genes,), de_factor (types, genes),
    batch_factor (batches, genes), library_loc (batches,) and proportions (batches, types).
    """
    if not 2 <= n_batches <= n_cells or min(n_genes, n_types) < 1:
        raise DataError(f"simulate_batches needs 2 <= n_batches <= n_cells and n_genes, n_types >= 1, got "
                        f"n_batches={n_batches}, n_cells={n_cells}, n_genes={n_genes}, n_types={n_types}")
    rng = np.random.default_rng(seed)
    base_mean = rng.gamma(0.6, 1 / 0.3, n_genes)
    de_factor = np.ones((n_types, n_genes))
    for t in range(n_types):
        genes = rng.choice(n_genes, size=max(1, n_genes // 10), replace=False)
        factor = rng.lognormal(0.1, 0.8, len(genes))
        de_factor[t, genes] = np.where(rng.random(len(genes)) < 0.5, factor, 1 / factor)
    batch_factor = rng.lognormal(0.1, 0.25, (n_batches, n_genes))
    library_loc = np.log(5000.0) + rng.normal(0.0, 0.3, n_batches)
    proportions = rng.dirichlet(np.full(n_types, 2.0), size=n_batches)
    if n_types > 1:
        proportions[-1, rng.integers(n_types)] = 0.0
        proportions[-1] /= proportions[-1].sum()
    batch = np.repeat(np.arange(n_batches), np.diff(np.linspace(0, n_cells, n_batches + 1).round().astype(int)))
    codes = np.concatenate([rng.choice(n_types, size=(batch == b).sum(), p=p) for b, p in enumerate(proportions)])
    means = base_mean * de_factor[codes] * batch_factor[batch]
    library = rng.lognormal(library_loc[batch], 0.2)
    means *= (library / means.sum(axis=1))[:, None]
    shape = 1 / 0.25**2
    x = rng.poisson(rng.gamma(shape, means / shape)).astype(np.float32)
    return CellTable(x, np.array([f"batch{b}" for b in batch]), np.array([f"type{t}" for t in codes]),
                     [f"gene{g}" for g in range(n_genes)], counts=True,
                     effects={"base_mean": base_mean, "de_factor": de_factor, "batch_factor": batch_factor,
                              "library_loc": library_loc, "proportions": proportions})


BUILTIN_CELL_DATA: dict[str, Callable[[int], CellTable]] = {"pbmc_batches": pbmc_with_batches,
                                                            "simulated_batches": simulate_batches}
