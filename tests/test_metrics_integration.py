"""scIB integration scores: hand-computed values, independent NumPy/SciPy references, both directions."""

import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.special import logsumexp, softmax

from gankit.metrics.integration import (
    batch_asw,
    celltype_asw,
    clisi,
    graph_connectivity,
    ilisi,
    integration_scores,
    lisi,
    nmi_ari,
)


def _silhouettes(x, labels):
    """Per-cell silhouette (b − a) / max(a, b) by brute force; 0 for a cell alone in its cluster."""
    d = np.sqrt(((x[:, None] - x[None]) ** 2).sum(-1))
    out = np.zeros(len(x))
    for i in range(len(x)):
        own = labels == labels[i]
        if own.sum() == 1:
            continue
        a = d[i, own].sum() / (own.sum() - 1)
        b = min(d[i, labels == other].mean() for other in np.unique(labels) if other != labels[i])
        out[i] = (b - a) / max(a, b)
    return out


def _blobs(rng, centres, sizes, spread=0.05):
    return np.concatenate([c + spread * rng.normal(size=(s, len(c))) for c, s in zip(centres, sizes)])


def test_lisi_of_duplicated_mixed_clusters_matches_the_hand_composition():
    # Two far clusters of 90 coincident cells, 30 per batch: each cell's 89 neighbours are its cluster
    # mates at distance 0 (uniform weights), 29 of its own batch and 30 of each other batch.
    x = np.repeat([[0.0, 0.0], [100.0, 0.0]], 90, axis=0)
    batches = np.tile(np.repeat(["a", "b", "c"], 30), 2)
    expected = 89**2 / (29**2 + 2 * 30**2)
    np.testing.assert_allclose(lisi(x, batches), expected, rtol=1e-12)
    assert expected == pytest.approx(3, abs=1e-3)
    assert ilisi(x, batches) == pytest.approx((expected - 1) / 2, rel=1e-12)
    assert ilisi(x, batches) == pytest.approx(1, abs=1e-3)


def test_lisi_of_separated_batches_is_one():
    x = np.repeat([[0.0, 0.0], [100.0, 0.0], [0.0, 100.0]], 90, axis=0)
    batches = np.repeat([0, 1, 2], 90)
    np.testing.assert_allclose(lisi(x, batches), 1.0, rtol=1e-12)
    assert ilisi(x, batches) == pytest.approx(0.0, abs=1e-12)
    assert clisi(x, batches) == pytest.approx(1.0, abs=1e-12)  # as cell types: perfectly separated


def test_lisi_matches_an_independent_root_found_kernel():
    rng = np.random.default_rng(0)
    x, labels, perplexity = rng.normal(size=(120, 4)), rng.integers(0, 3, size=120), 8.0
    d = np.sqrt(((x[:, None] - x[None]) ** 2).sum(-1))
    expected = []
    for i in range(len(x)):
        order = [j for j in np.argsort(d[i], kind="stable") if j != i][: int(3 * perplexity) - 1]
        dist = d[i, order]

        def entropy_gap(beta, dist=dist):
            p = softmax(-beta * dist)
            return logsumexp(-beta * dist) + beta * (p * dist).sum() - np.log(perplexity)

        p = softmax(-brentq(entropy_gap, 0.0, 1e4, xtol=1e-14) * dist)
        assert np.exp(-(p * np.log(p)).sum()) == pytest.approx(perplexity, rel=1e-9)
        shares = np.bincount(labels[order], weights=p, minlength=3)
        expected.append(1 / (shares**2).sum())
    got = lisi(x, labels, perplexity=perplexity)
    np.testing.assert_allclose(got, expected, rtol=1e-4)
    assert 1.5 < np.median(got) < 3.0  # random labels: well mixed, not the uniform-kernel value exactly


def test_lisi_of_randomly_mixed_batches_is_near_the_batch_count():
    rng = np.random.default_rng(1)
    x, batches = rng.uniform(size=(600, 2)), rng.integers(0, 2, size=600)
    assert 1.8 < np.median(lisi(x, batches)) <= 2.0
    assert 0.8 < ilisi(x, batches) <= 1.0


def test_batch_asw_of_coincident_batches_is_one_minus_one_over_n():
    # Each position holds one cell of each batch: a = S/(n−1), b = S/n, so s = −1/n for every cell.
    rng = np.random.default_rng(2)
    x = np.concatenate(
        [
            np.repeat(rng.normal(size=(20, 3)), 2, axis=0),
            np.repeat(10 + rng.normal(size=(30, 3)), 2, axis=0),
        ]
    )
    batches = np.tile([0, 1], 50)
    types = np.repeat(["t", "u"], [40, 60])
    assert batch_asw(x, batches, types) == pytest.approx(
        ((1 - 1 / 20) + (1 - 1 / 30)) / 2, rel=1e-8
    )  # sklearn distances: ~1e-9


def test_batch_asw_of_separated_batches_is_near_zero():
    rng = np.random.default_rng(3)
    centres = [
        (0, 0),
        (20, 0),
        (0, 20),
        (20, 20),
    ]  # (type, batch) each its own tight blob
    x = _blobs(rng, np.array(centres, float), [25] * 4)
    types, batches = np.repeat([0, 0, 1, 1], 25), np.repeat([0, 1, 0, 1], 25)
    assert 0.0 <= batch_asw(x, batches, types) < 0.02


def test_batch_asw_matches_brute_force_and_skips_single_batch_types():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(90, 3))
    types = np.repeat([0, 1, 2], 30)
    batches = np.concatenate([rng.integers(0, 2, 30), rng.integers(0, 3, 30), np.full(30, 1)])  # type 2: one batch
    expected = np.mean([np.mean(1 - np.abs(_silhouettes(x[types == t], batches[types == t]))) for t in (0, 1)])
    assert batch_asw(x, batches, types) == pytest.approx(expected, rel=1e-10)
    with pytest.raises(ValueError, match="at least two batches"):
        batch_asw(x, types, types)  # every type lives in a single batch


def test_celltype_asw_matches_brute_force_and_separated_types_score_near_one():
    rng = np.random.default_rng(5)
    x, types = rng.normal(size=(80, 3)), rng.integers(0, 3, size=80)
    assert celltype_asw(x, types) == pytest.approx((_silhouettes(x, types).mean() + 1) / 2, rel=1e-10)
    assert 0.4 < celltype_asw(x, types) < 0.6  # random labels: silhouette near 0
    separated = _blobs(rng, np.array([(0, 0), (10, 0), (0, 10)], float), [20, 20, 20])
    assert 0.98 < celltype_asw(separated, np.repeat([0, 1, 2], 20)) <= 1.0


def test_graph_connectivity_counts_the_largest_piece_of_each_type():
    rng = np.random.default_rng(6)
    x = _blobs(rng, np.array([(0, 0), (50, 0), (0, 50)], float), [40, 25, 15])
    whole = np.repeat(["a", "b", "c"], [40, 25, 15])
    assert graph_connectivity(x, whole) == 1.0
    split = np.repeat(["a", "b", "b"], [40, 25, 15])  # type b in two far pieces of 25 and 15 cells
    assert graph_connectivity(x, split) == pytest.approx((1 + 25 / 40) / 2, rel=1e-12)
    # k counts the cell itself: k = 2 is the 1-NN graph, which cuts these blobs into pieces
    assert graph_connectivity(x, whole, k=2) < 1.0


def test_nmi_ari_are_one_for_separated_types_and_near_zero_for_random_labels():
    rng = np.random.default_rng(7)
    x = _blobs(rng, np.array([(0, 0), (10, 0), (0, 10)], float), [20, 30, 25])
    assert nmi_ari(x, np.repeat(["p", "q", "r"], [20, 30, 25]), seed=0) == {
        "nmi": 1.0,
        "ari": 1.0,
    }
    noise = nmi_ari(rng.normal(size=(150, 2)), rng.integers(0, 3, size=150), seed=0)
    assert 0.0 <= noise["nmi"] < 0.1 and abs(noise["ari"]) < 0.05


def _atlas(batch_shift):
    """3 cell types x 2 batches x 50 cells in 6-D; batch 1 moved by `batch_shift` along its own axis."""
    rng = np.random.default_rng(8)
    centres = 10 * np.eye(6)[:3]
    types, batches = np.repeat([0, 1, 2], 100), np.tile(np.repeat([0, 1], 50), 3)
    x = centres[types] + rng.normal(size=(300, 6))
    x[:, 5] += batch_shift * batches
    return x, batches, types


def test_integration_scores_aggregate_as_scib_and_rank_the_integrated_embedding_higher():
    mixed = integration_scores(*_atlas(0.0), seed=0)
    assert set(mixed) == {
        "ilisi", "batch_asw", "graph_connectivity", "batch_correction",
        "clisi", "celltype_asw", "nmi", "ari", "bio_conservation", "overall",
    }  # fmt: skip
    assert all(0.0 <= value <= 1.0 for value in mixed.values())
    batch = np.mean([mixed["ilisi"], mixed["batch_asw"], mixed["graph_connectivity"]])
    bio = np.mean([mixed["clisi"], mixed["celltype_asw"], mixed["nmi"], mixed["ari"]])
    assert mixed["batch_correction"] == pytest.approx(batch, rel=1e-12)
    assert mixed["bio_conservation"] == pytest.approx(bio, rel=1e-12)
    assert mixed["overall"] == pytest.approx(0.6 * bio + 0.4 * batch, rel=1e-12)
    assert mixed["ilisi"] > 0.8 and mixed["batch_asw"] > 0.85 and mixed["bio_conservation"] > 0.9

    apart = integration_scores(*_atlas(30.0), seed=0)  # a batch effect the embedding did not remove
    assert apart["ilisi"] < 0.05 and apart["batch_asw"] < 0.3
    assert apart["batch_correction"] < mixed["batch_correction"] - 0.3
    assert apart["overall"] < mixed["overall"]


@pytest.mark.parametrize(
    ("x", "batches", "types", "message"),
    [
        (np.zeros((4, 2)), [0, 1, 0], [0, 1, 0, 1], "one label per row"),
        (np.zeros((4, 2)), [0, 0, 0, 0], [0, 1, 0, 1], "at least 2 distinct"),
        (np.zeros((4, 2)), [0, 1, 0, 1], ["a"] * 4, "at least 2 distinct"),
        (
            np.array([[0.0, np.nan], [1, 1], [2, 2], [3, 3]]),
            [0, 1, 0, 1],
            [0, 1, 0, 1],
            "NaN or infinite",
        ),
        (np.zeros(4), [0, 1, 0, 1], [0, 1, 0, 1], "2-D array"),
    ],
)
def test_integration_scores_reject_bad_inputs(x, batches, types, message):
    with pytest.raises(ValueError, match=message):
        integration_scores(x, np.asarray(batches), np.asarray(types))


def test_lisi_rejects_a_perplexity_below_one():
    with pytest.raises(ValueError, match="perplexity"):
        lisi(np.zeros((5, 2)), [0, 1, 0, 1, 0], perplexity=0.5)
