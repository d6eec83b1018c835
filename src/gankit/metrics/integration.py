"""Single-cell data-integration scores of scIB, computed on an embedding.

The metrics of Luecken et al. 2022 ("Benchmarking atlas-level data integration in single-cell
genomics", Nature Methods) that need only an embedding `X` (n_cells, d), a batch label and a
cell-type label per cell (labels may be any values NumPy can sort). Every score lies in [0, 1],
higher is better:
- batch correction (are the batches mixed?): `ilisi`, `batch_asw`, `graph_connectivity`;
- biological conservation (are the cell types kept apart?): `clisi`, `celltype_asw`, `nmi`, `ari`.
`integration_scores` returns all of them with scIB's aggregates, overall = 0.6 · bio + 0.4 · batch.

Written from the papers' definitions; where it departs from scIB, and why:
- NMI/ARI cluster with KMeans (k = number of cell types, 10 restarts, given seed) instead of
  Leiden at the resolution that maximises NMI: no graph-clustering dependency, deterministic for
  a seed. scib-metrics offers the same KMeans variant; the Leiden numbers are usually a little
  higher, since their resolution is tuned against the labels.
- LISI uses the exact Euclidean nearest neighbours of the embedding, as Harmony's `lisi` package
  and scib-metrics do, not scIB's shortest paths along a kNN graph (the two agree for embeddings
  up to neighbour search). The kernel is exp(−β·d) on those distances, as in the reference code
  of Korsunsky et al. 2019 (the paper calls it Gaussian), with β found by the same bisection
  (entropy within 1e-5 of log perplexity, at most 50 steps).
- Neighbourhood sizes count the cell itself, as scanpy's `n_neighbors` and Harmony do: LISI sees
  the 3·perplexity − 1 nearest other cells, `graph_connectivity(k=15)` links each cell to its 14.
  With fewer cells than that, every other cell is a neighbour.
- Only these label-based metrics: no kBET, isolated-label, PCR, HVG, cell-cycle or trajectory
  scores, so the aggregates average fewer metrics than scIB's tables; and no min–max scaling
  across methods (one embedding is scored on its own).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components
from sklearn.cluster import KMeans
from sklearn.metrics import (
    adjusted_rand_score,
    normalized_mutual_info_score,
    silhouette_samples,
    silhouette_score,
)
from sklearn.neighbors import NearestNeighbors

__all__ = [
    "batch_asw",
    "celltype_asw",
    "clisi",
    "graph_connectivity",
    "ilisi",
    "integration_scores",
    "lisi",
    "nmi_ari",
]

_ENTROPY_TOL = 1e-5  # the bisection's tolerance on |entropy − log perplexity|, as in Harmony's lisi
_SEARCH_STEPS = 50  # at most this many bisection steps per cell, as in Harmony's lisi


def _embedding(X: ArrayLike) -> np.ndarray:
    """`X` as a finite float64 array of shape (n_cells >= 2, d >= 1)."""
    x = np.asarray(X, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] < 1:
        raise ValueError(f"X must be a 2-D array (n_cells >= 2, d >= 1); got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("X holds NaN or infinite values")
    return x


def _codes(labels: ArrayLike, n: int, name: str, at_least: int = 1) -> np.ndarray:
    """Integer codes 0..L-1 of a label vector with one label per cell and at least `at_least` distinct."""
    values = np.asarray(labels)
    if values.ndim != 1 or values.shape[0] != n:
        raise ValueError(f"{name} must be a vector with one label per row of X ({n}); got shape {values.shape}")
    _, codes = np.unique(values, return_inverse=True)
    if codes.max() + 1 < at_least:
        raise ValueError(f"{name} must hold at least {at_least} distinct labels; got {codes.max() + 1}")
    return codes.reshape(-1)


def _perplexity_weights(distances: np.ndarray, perplexity: float) -> np.ndarray:
    """Row-normalised weights exp(−β_i·d_ij), with each row's β_i bisected so the row's perplexity is `perplexity`.

    `distances` (n, k) are sorted ascending per row. Shifting a row by its smallest distance leaves
    the normalised weights unchanged and keeps their sum >= 1 (no underflow to 0/0).
    """
    d = distances - distances[:, :1]
    target = np.log(perplexity)
    beta = np.ones(len(d))
    low, high = np.zeros(len(d)), np.full(len(d), np.inf)
    for step in range(_SEARCH_STEPS + 1):
        weights = np.exp(-beta[:, None] * d)
        total = weights.sum(axis=1)
        excess = np.log(total) + beta * (d * weights).sum(axis=1) / total - target
        active = np.abs(excess) > _ENTROPY_TOL
        if step == _SEARCH_STEPS or not active.any():
            break
        # entropy too high: the kernel is too wide, raise β; too low: lower β
        wide, narrow = active & (excess > 0), active & (excess <= 0)
        low, high = np.where(wide, beta, low), np.where(narrow, beta, high)
        beta = np.where(wide, np.where(np.isinf(high), 2 * beta, (beta + high) / 2), beta)
        beta = np.where(narrow, (beta + low) / 2, beta)
    return weights / total[:, None]


def lisi(X: ArrayLike, labels: ArrayLike, perplexity: float = 30.0) -> np.ndarray:
    """Per-cell Local Inverse Simpson's Index (Korsunsky et al. 2019), float64 of shape (n_cells,).

    Over each cell's 3·perplexity − 1 nearest other cells, weights exp(−β·distance) with β set so
    the weights' perplexity is `perplexity`; the value is 1 / Σ_c p_c², p_c the weight of label c.
    It is the effective number of labels around the cell: 1 when all neighbours share one label,
    L when L labels weigh equally.
    """
    x = _embedding(X)
    codes = _codes(labels, len(x), "labels")
    if not perplexity >= 1:
        raise ValueError(f"perplexity must be at least 1; got {perplexity}")
    n_others = min(int(3 * perplexity), len(x)) - 1
    distances, neighbours = NearestNeighbors(n_neighbors=n_others).fit(x).kneighbors()
    weights = _perplexity_weights(distances, perplexity)
    n_labels = int(codes.max()) + 1
    cells = np.repeat(np.arange(len(x)), n_others)
    flat = cells * n_labels + codes[neighbours].ravel()
    shares = np.bincount(flat, weights=weights.ravel(), minlength=len(x) * n_labels).reshape(len(x), n_labels)
    return 1.0 / (shares**2).sum(axis=1)


def ilisi(X: ArrayLike, batches: ArrayLike, perplexity: float = 30.0) -> float:
    """Batch mixing as scIB scales it: (median batch LISI − 1) / (n_batches − 1); 1 = evenly mixed, 0 = apart."""
    x = _embedding(X)
    n_batches = int(_codes(batches, len(x), "batches", at_least=2).max()) + 1
    return float((np.median(lisi(x, batches, perplexity)) - 1) / (n_batches - 1))


def clisi(X: ArrayLike, cell_types: ArrayLike, perplexity: float = 30.0) -> float:
    """Cell-type separation as scIB scales it: (n_types − median cell-type LISI) / (n_types − 1); 1 = apart."""
    x = _embedding(X)
    n_types = int(_codes(cell_types, len(x), "cell_types", at_least=2).max()) + 1
    return float((n_types - np.median(lisi(x, cell_types, perplexity))) / (n_types - 1))


def batch_asw(X: ArrayLike, batches: ArrayLike, cell_types: ArrayLike) -> float:
    """scIB's batch ASW: per cell type, the mean of 1 − |silhouette| with batches as clusters; mean over types.

    1 = batches overlap within every type, 0 = each batch a separate cluster. Cell types found in a
    single batch, or with no more cells than batches (silhouette undefined), are skipped, as in scIB.
    """
    x = _embedding(X)
    batch = _codes(batches, len(x), "batches", at_least=2)
    kind = _codes(cell_types, len(x), "cell_types")
    per_type = []
    for label in range(int(kind.max()) + 1):
        rows = kind == label
        n_batches = len(np.unique(batch[rows]))
        if 2 <= n_batches < rows.sum():
            per_type.append(np.mean(1 - np.abs(silhouette_samples(x[rows], batch[rows]))))
    if not per_type:
        raise ValueError("batch ASW needs a cell type found in at least two batches (with more cells than batches)")
    return float(np.mean(per_type))


def celltype_asw(X: ArrayLike, cell_types: ArrayLike) -> float:
    """(mean silhouette with cell types as clusters + 1) / 2, as scIB scales it; 1 = types tight and apart."""
    x = _embedding(X)
    kind = _codes(cell_types, len(x), "cell_types", at_least=2)
    if kind.max() + 1 >= len(x):
        raise ValueError("cell-type ASW needs fewer cell types than cells")
    return float((silhouette_score(x, kind) + 1) / 2)


def graph_connectivity(X: ArrayLike, cell_types: ArrayLike, k: int = 15) -> float:
    """Mean over cell types of the share of the type's cells in the largest connected component of its subgraph.

    The graph links each cell to its k − 1 nearest other cells (k counts the cell, as scanpy's
    `n_neighbors`), undirected; a type's subgraph keeps its cells and the edges among them.
    1 = every type is one connected piece. Batch labels play no part (as in scIB).
    """
    x = _embedding(X)
    kind = _codes(cell_types, len(x), "cell_types")
    if k < 2:
        raise ValueError(f"k must be at least 2 (the cell and one neighbour); got {k}")
    n_others = min(k, len(x)) - 1
    neighbours = NearestNeighbors(n_neighbors=n_others).fit(x).kneighbors(return_distance=False)
    cells = np.repeat(np.arange(len(x)), n_others)
    graph = csr_matrix((np.ones(cells.size), (cells, neighbours.ravel())), shape=(len(x), len(x)))
    shares = []
    for label in range(int(kind.max()) + 1):
        rows = np.flatnonzero(kind == label)
        _, component = connected_components(graph[rows][:, rows], directed=False)
        shares.append(np.bincount(component).max() / len(rows))
    return float(np.mean(shares))


def nmi_ari(X: ArrayLike, cell_types: ArrayLike, seed: int = 0) -> dict[str, float]:
    """`{"nmi", "ari"}` of a KMeans clustering of `X` against the cell types; 1 = clusters are the types.

    KMeans with as many clusters as cell types, 10 restarts, `seed`; scIB clusters with Leiden at
    an optimised resolution instead (see the module docstring). NMI uses the arithmetic mean.
    """
    x = _embedding(X)
    kind = _codes(cell_types, len(x), "cell_types", at_least=2)
    n_types = int(kind.max()) + 1
    if n_types > len(x):
        raise ValueError("NMI/ARI needs no more cell types than cells")
    clusters = KMeans(n_clusters=n_types, n_init=10, random_state=seed).fit_predict(x)
    return {
        "nmi": float(normalized_mutual_info_score(kind, clusters, average_method="arithmetic")),
        "ari": float(adjusted_rand_score(kind, clusters)),
    }


def integration_scores(X: ArrayLike, batches: ArrayLike, cell_types: ArrayLike, seed: int = 0) -> dict[str, float]:
    """Every score of this module and scIB's aggregates, all in [0, 1], higher is better.

    Keys: ilisi, batch_asw, graph_connectivity, batch_correction (their mean); clisi,
    celltype_asw, nmi, ari, bio_conservation (their mean); overall = 0.6 · bio_conservation +
    0.4 · batch_correction. LISI uses perplexity 30, the graph k = 15, KMeans `seed`.
    """
    x = _embedding(X)
    _codes(batches, len(x), "batches", at_least=2)
    _codes(cell_types, len(x), "cell_types", at_least=2)
    scores = {
        "ilisi": ilisi(x, batches),
        "batch_asw": batch_asw(x, batches, cell_types),
        "graph_connectivity": graph_connectivity(x, cell_types),
        "clisi": clisi(x, cell_types),
        "celltype_asw": celltype_asw(x, cell_types),
        **nmi_ari(x, cell_types, seed),
    }
    scores["batch_correction"] = float(np.mean([scores[key] for key in ("ilisi", "batch_asw", "graph_connectivity")]))
    scores["bio_conservation"] = float(np.mean([scores[key] for key in ("clisi", "celltype_asw", "nmi", "ari")]))
    scores["overall"] = 0.6 * scores["bio_conservation"] + 0.4 * scores["batch_correction"]
    return scores
