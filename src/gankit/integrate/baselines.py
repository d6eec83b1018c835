"""The preprocessing every method shares, and the field's baselines: uncorrected PCA, ComBat and Harmony.

One path from expression to an embedding, as scanpy's tutorials take it: counts are scaled to 10,000 per cell
and log1p-transformed; the `MAX_GENES` most variable genes are kept; each gene is standardized and clipped at
±10; PCA to `N_COMPONENTS`. ComBat (`scanpy.pp.combat`, Johnson et al. 2007) corrects the log-expression before
the scaling and PCA; Harmony (`harmonypy`, Korsunsky et al. 2019) corrects the uncorrected principal components, once with its
defaults and once for a fixed `HARMONY_ROUNDS` rounds.
gankit's encoder starts from the same principal components as Harmony.
"""

from __future__ import annotations

import numpy as np

from gankit.errors import ConfigError, DataError

__all__ = ["HARMONY_ROUNDS", "MAX_GENES", "N_COMPONENTS", "combat", "harmony", "log_normalize", "scaled_pca", "variable_genes"]

MAX_GENES = 2000
HARMONY_ROUNDS = 20  # the second Harmony baseline: this many rounds, no early stop
N_COMPONENTS = 50
TARGET_SUM = 1e4  # counts per cell after normalization
CLIP = 10.0  # standardized values are clipped at ±CLIP (scanpy.pp.scale's max_value)


def log_normalize(x: np.ndarray, counts: bool) -> np.ndarray:
    """log1p of counts scaled to `TARGET_SUM` per cell; log-expression is returned as it is."""
    if not counts:
        return x
    totals = x.sum(axis=1, keepdims=True)
    if (totals == 0).any():
        rows = np.flatnonzero(totals[:, 0] == 0)
        raise DataError(f"{len(rows)} cells have no counts at all (first: row {rows[0]}); filter empty cells out")
    return np.log1p(x / totals * TARGET_SUM)


def variable_genes(x: np.ndarray, n: int = MAX_GENES) -> np.ndarray:
    """Indices (in input order) of the `n` genes of highest variance, or every gene that varies when fewer."""
    variance = x.var(axis=0)
    varying = np.flatnonzero(variance > 0)
    if len(varying) < 2:
        raise DataError(f"{len(varying)} genes vary across the cells; integration needs at least 2")
    keep = varying[np.argsort(-variance[varying], kind="stable")[:n]]
    return np.sort(keep)


def scaled_pca(x: np.ndarray, n_components: int, seed: int) -> np.ndarray:
    """Principal component scores of the per-gene standardized (clipped) `x`."""
    from sklearn.decomposition import PCA

    std = x.std(axis=0)
    scaled = np.clip((x - x.mean(axis=0)) / np.where(std > 0, std, 1.0), -CLIP, CLIP)
    components = min(n_components, *scaled.shape)
    return PCA(components, svd_solver="full", random_state=seed).fit_transform(scaled)


def _single_cell(module: str):  # noqa: ANN202 - the module itself
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ConfigError(f"the ComBat and Harmony baselines need {module}: pip install 'gankit[single-cell]'") from None


def combat(x: np.ndarray, batch: np.ndarray) -> np.ndarray:
    """`x` (cells x genes, log-expression) with each gene's batch means and variances adjusted by ComBat."""
    anndata, scanpy = _single_cell("anndata"), _single_cell("scanpy")
    import pandas as pd

    adata = anndata.AnnData(x.astype(np.float64), obs=pd.DataFrame({"batch": pd.Categorical(batch)},
                                                                   index=[str(i) for i in range(len(x))]))
    corrected = scanpy.pp.combat(adata, key="batch", inplace=False)
    return np.asarray(corrected, dtype=np.float64)


def harmony(pcs: np.ndarray, batch: np.ndarray, seed: int, rounds: int | None = None) -> np.ndarray:
    """Harmony's corrected principal components (cells x components): with its defaults (at most 10 rounds,
    stopping once a round improves its objective by less than 1%), or exactly `rounds` rounds. On data whose
    batches are far apart the first round barely moves the objective and the defaults stop there
    (docs/integration.md)."""
    harmonypy = _single_cell("harmonypy")
    import pandas as pd

    settings = {} if rounds is None else {"max_iter_harmony": rounds, "epsilon_harmony": -np.inf}
    result = harmonypy.run_harmony(pcs, pd.DataFrame({"batch": batch}), "batch", random_state=seed, verbose=False,
                                   **settings)
    corrected = np.asarray(result.Z_corr, dtype=np.float64)
    return corrected if corrected.shape == pcs.shape else corrected.T
