"""Single-cell tables with known batch effects: shapes, determinism, composition, the injected effects recovered,
and batch and cell type both readable from the uncorrected embedding."""

import numpy as np
import pytest

from gankit.data.single_cell import BUILTIN_CELL_DATA, CellTable, pbmc_with_batches, simulate_batches
from gankit.errors import DataError


def _proportions(table: CellTable) -> np.ndarray:
    """Each batch's cell-type proportions (batches, types), types ordered as np.unique."""
    batches, types = np.unique(table.batch), np.unique(table.cell_type)
    return np.array([[np.mean(table.cell_type[table.batch == b] == t) for t in types] for b in batches])


def _pca(x: np.ndarray, standardize: bool) -> np.ndarray:
    from sklearn.decomposition import PCA

    z = x - x.mean(axis=0)
    if standardize:
        z /= x.std(axis=0) + 1e-8
    return PCA(50, random_state=0).fit_transform(z)


def _accuracies(pcs: np.ndarray, table: CellTable) -> tuple[float, float]:
    """5-fold CV accuracy of a logistic regression for the batch and of 15-NN for the cell type."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score
    from sklearn.neighbors import KNeighborsClassifier

    batch = cross_val_score(LogisticRegression(max_iter=2000), pcs, table.batch, cv=5).mean()
    cell_type = cross_val_score(KNeighborsClassifier(15), pcs, table.cell_type, cv=5).mean()
    return batch, cell_type


@pytest.fixture(scope="module")
def simulated():
    return simulate_batches(0)


@pytest.fixture(scope="module")
def pbmc():
    pytest.importorskip("scanpy")
    return pbmc_with_batches(0)


@pytest.fixture(scope="module")
def pbmc_original():
    sc = pytest.importorskip("scanpy")
    return sc.datasets.pbmc68k_reduced().raw.X.toarray()


def test_simulated_counts_are_seeded_integer_counts(simulated):
    assert simulated.x.shape == (2000, 1000) and simulated.x.dtype == np.float32 and simulated.counts
    assert (simulated.x >= 0).all() and (simulated.x == np.round(simulated.x)).all()
    assert simulated.genes[:2] == ["gene0", "gene1"] and len(simulated.genes) == 1000
    assert set(simulated.batch) == {f"batch{b}" for b in range(4)}
    assert set(simulated.cell_type) == {f"type{t}" for t in range(7)}
    assert 4000 < simulated.x.sum(axis=1).mean() < 7000  # library sizes about 5000
    small = {"n_cells": 200, "n_genes": 100}
    again = simulate_batches(3, **small)
    assert np.array_equal(again.x, simulate_batches(3, **small).x)
    assert not np.array_equal(again.x, simulate_batches(4, **small).x)
    assert np.array_equal(BUILTIN_CELL_DATA["simulated_batches"](3).x[:200, :100], simulate_batches(3).x[:200, :100])


def test_simulated_batches_differ_in_composition_and_the_last_lacks_a_type(simulated):
    observed = _proportions(simulated)
    assert np.abs(observed - simulated.effects["proportions"]).max() < 0.06  # 500 cells a batch
    assert np.ptp(observed, axis=0).max() > 0.2  # some type's share differs by over 20 points between batches
    missing = observed[-1] == 0
    assert missing.sum() == 1 and (observed[:-1, missing] > 0).all()


def test_simulated_batch_factors_are_recovered_from_the_counts(simulated):
    """Within one type, the ratio of two batches' normalized gene means is their batch factors' ratio."""
    factor, codes = simulated.effects["batch_factor"], np.unique(simulated.cell_type, return_inverse=True)[1]
    shared = np.argmax(np.bincount(codes[simulated.batch == "batch0"], minlength=7)
                       * np.bincount(codes[simulated.batch == "batch1"], minlength=7))
    profiles = [(simulated.x / simulated.x.sum(axis=1, keepdims=True))[(simulated.batch == b) & (codes == shared)]
                .mean(axis=0) for b in ("batch0", "batch1")]
    expressed = simulated.x.mean(axis=0) > 5
    measured = np.log(profiles[0][expressed] / profiles[1][expressed])
    injected = np.log(factor[0] / factor[1])[expressed]
    slope = np.polyfit(injected, measured, 1)[0]
    assert np.corrcoef(measured, injected)[0, 1] > 0.9 and slope == pytest.approx(1.0, abs=0.1)


def test_simulated_batch_is_predictable_and_cell_types_recoverable(simulated):
    logged = np.log1p(simulated.x / simulated.x.sum(axis=1, keepdims=True) * 1e4)
    batch, cell_type = _accuracies(_pca(logged, standardize=False), simulated)
    assert batch > 0.95 and cell_type > 0.8


def test_pbmc_batches_are_seeded_and_keep_the_cells(pbmc):
    assert pbmc.x.shape == (700, 765) and pbmc.x.dtype == np.float32 and not pbmc.counts
    assert len(pbmc.genes) == 765 and len(np.unique(pbmc.cell_type)) == 10
    assert (pbmc.x < 0).any()  # the offsets move zeros too
    assert np.array_equal(BUILTIN_CELL_DATA["pbmc_batches"](0).x, pbmc.x)
    other = pbmc_with_batches(1, n_batches=4)
    assert set(other.batch) == {f"batch{b}" for b in range(4)} and not np.array_equal(other.batch[:50], pbmc.batch[:50])


def test_pbmc_batches_differ_in_composition_yet_share_the_common_types(pbmc):
    observed = _proportions(pbmc)
    assert np.ptp(observed, axis=0).max() > 0.2
    sizes = np.unique(pbmc.cell_type, return_counts=True)[1]
    assert (observed[:, sizes >= 10] > 0).all()  # every type of 10 or more cells is in every batch


def test_pbmc_effects_are_exactly_the_documented_model(pbmc, pbmc_original):
    effects, types = pbmc.effects, np.unique(pbmc.cell_type)
    batch, codes = np.unique(pbmc.batch, return_inverse=True)[1], np.searchsorted(types, pbmc.cell_type)
    model = (pbmc_original * effects["scale"][batch] + effects["shift"][batch] + effects["low_rank"][batch]
             + effects["type_shift"][batch, codes])
    assert np.allclose(pbmc.x, model, atol=1e-5)
    assert np.allclose(np.linalg.norm(effects["low_rank"], axis=1), 15.0)
    assert np.linalg.matrix_rank(effects["low_rank"]) == 3
    assert (np.count_nonzero(effects["type_shift"].any(axis=2), axis=1) == 3).all()  # 3 types per batch
    assert np.log(effects["scale"]).std() == pytest.approx(0.2, abs=0.02)
    assert effects["shift"].std() == pytest.approx(0.3, abs=0.02)


def test_pbmc_cell_type_gene_means_move_by_the_injected_amount(pbmc, pbmc_original):
    """A type's per-batch gene means, less the scaled original means, are the batch's offsets (a mean over cells)."""
    dendritic = pbmc.cell_type == "Dendritic"
    t = list(np.unique(pbmc.cell_type)).index("Dendritic")
    for b in range(3):
        cells = dendritic & (pbmc.batch == f"batch{b}")
        moved = pbmc.x[cells].mean(axis=0) - pbmc.effects["scale"][b] * pbmc_original[cells].mean(axis=0)
        offset = pbmc.effects["shift"][b] + pbmc.effects["low_rank"][b] + pbmc.effects["type_shift"][b, t]
        assert np.abs(moved - offset).max() < 1e-4
        assert np.abs(pbmc.x[cells].mean(axis=0) - pbmc_original[cells].mean(axis=0)).mean() > 0.3


def test_pbmc_batch_dominates_the_embedding_but_cell_types_survive(pbmc, pbmc_original):
    batch, cell_type = _accuracies(_pca(pbmc.x, standardize=True), pbmc)
    batch_before, cell_type_before = _accuracies(_pca(pbmc_original, standardize=True), pbmc)
    composition_only = sum(np.max(np.bincount(np.unique(pbmc.batch, return_inverse=True)[1][pbmc.cell_type == t]))
                           for t in np.unique(pbmc.cell_type)) / len(pbmc.batch)  # best guess from the type alone
    assert batch > 0.95 and batch_before < composition_only + 0.05
    assert cell_type > 0.6 and cell_type > cell_type_before - 0.05


def test_bad_sizes_are_refused():
    with pytest.raises(DataError, match="n_batches"):
        simulate_batches(n_batches=1)
    with pytest.raises(DataError, match="n_batches"):
        simulate_batches(n_cells=3, n_batches=4)
