"""gankit integrate: the three readers agree, bad input is one line, the shared preprocessing and the baselines
against hand computations, and a whole run writes every output, deterministically by seed, with scores that
recompute from what it wrote."""

import json

import numpy as np
import pytest
import torch

from cli_helpers import assert_user_error
from gankit.config import config_from_dict
from gankit.data.single_cell import simulate_batches
from gankit.integrate.baselines import combat, harmony, log_normalize, scaled_pca, variable_genes
from gankit.integrate.inputs import load_cells
from gankit.kinds.domain_game import DomainAdversarialGame
from gankit.metrics.integration import integration_scores
from gankit.nn.domain import FeatureHead, TableEncoder

anndata = pytest.importorskip("anndata")
pytest.importorskip("scanpy")
pytest.importorskip("harmonypy")


def _small(seed=0):
    return simulate_batches(seed, n_cells=240, n_genes=120, n_types=3, n_batches=3)


def _write_h5ad(path, table, **obs):
    import pandas as pd

    frame = pd.DataFrame({"batch": table.batch, "cell_type": table.cell_type, **obs},
                         index=[f"c{i}" for i in range(len(table.x))])
    anndata.AnnData(table.x, obs=frame, var=pd.DataFrame(index=table.genes)).write_h5ad(path)


def test_h5ad_csv_and_npz_read_the_same_cells(tmp_path):
    import pandas as pd

    table = _small()
    _write_h5ad(tmp_path / "cells.h5ad", table)
    frame = pd.DataFrame(table.x, columns=table.genes)
    frame.insert(0, "donor", table.batch)
    frame["kind"] = table.cell_type
    frame.to_csv(tmp_path / "cells.csv", index=False)
    np.savez(tmp_path / "cells.npz", x=table.x, donor=table.batch, kind=table.cell_type, genes=np.array(table.genes))
    h5ad = load_cells(str(tmp_path / "cells.h5ad"), "batch", "cell_type")
    for other in (load_cells(str(tmp_path / "cells.csv"), "donor", "kind"),
                  load_cells(str(tmp_path / "cells.npz"), "donor", "kind")):
        np.testing.assert_array_equal(other.x, h5ad.x)
        np.testing.assert_array_equal(other.batch, h5ad.batch)
        np.testing.assert_array_equal(other.cell_type, h5ad.cell_type)
        assert other.genes == h5ad.genes and other.counts and h5ad.counts
    assert h5ad.cell_names[:2] == ["c0", "c1"] and h5ad.batch_names == ["batch0", "batch1", "batch2"]


@pytest.mark.parametrize("case, fragments", [
    ("one_batch", ["one batch only", "'batch0'"]),
    ("missing", ["no batch column 'donor'", "batch, cell_type"]),
    ("nan", ["NaN", "row 3"]),
    ("negative", ["negative values", "--values counts"]),
    ("one_class", ["one class", "'type0'"]),
    ("unknown_batch", ["--labelled-batches 'batch9'", "batch0, batch1, batch2"]),
    ("set_data", ["--set data.table=x.npz", "sets data.* itself"]),
    ("gan_config", ["--config mnist is a gan game"]),
    ("no_file", ["nothing.h5ad is neither a file nor a builtin"]),
])
def test_bad_input_is_one_line_and_writes_nothing(case, fragments, tmp_path, gankit):
    table = _small()
    batch, args = "batch", ["--label", "cell_type"]
    if case == "one_batch":
        table.batch[:] = "batch0"
    elif case == "missing":
        batch = "donor"
    elif case == "nan":
        table.x[3, 5] = np.nan
    elif case == "negative":
        table.x[0, 0] = -1
        args += ["--values", "counts"]
    elif case == "one_class":
        table.cell_type[:] = "type0"
    else:
        args += {"unknown_batch": ["--labelled-batches", "batch9"], "set_data": ["--set", "data.table=x.npz"],
                 "gan_config": ["--config", "mnist"], "no_file": []}[case]
    _write_h5ad(tmp_path / "cells.h5ad", table)
    data = str(tmp_path / ("nothing.h5ad" if case == "no_file" else "cells.h5ad"))
    result = gankit("integrate", data, "--batch", batch, *args, "--out", str(tmp_path / "out"), "--no-progress")
    assert_user_error(result, *fragments)
    assert not (tmp_path / "out").exists()


def test_log_normalize_and_gene_selection_by_hand():
    counts = np.array([[1.0, 3.0, 0.0], [2.0, 2.0, 4.0]])
    expected = np.log1p(counts / counts.sum(1, keepdims=True) * 1e4)
    np.testing.assert_allclose(log_normalize(counts, counts=True), expected)
    assert log_normalize(counts, counts=False) is counts
    x = np.array([[0, 5, 1, 7.0], [0, -5, 2, 7.0], [0, 5, 3, 7.0]])
    np.testing.assert_array_equal(variable_genes(x, n=1), [1])
    np.testing.assert_array_equal(variable_genes(x, n=5), [1, 2])  # constant genes never kept


def test_scaled_pca_is_the_svd_of_standardized_genes():
    x = np.random.default_rng(0).normal(size=(40, 6)) * [1, 2, 3, 4, 5, 6]
    z = (x - x.mean(0)) / x.std(0)
    u, s, _ = np.linalg.svd(z, full_matrices=False)
    pcs = scaled_pca(x, 3, seed=0)
    np.testing.assert_allclose(np.abs(pcs), np.abs(u[:, :3] * s[:3]), atol=1e-8)


def test_combat_removes_a_per_gene_batch_shift_and_harmony_shrinks_it():
    rng = np.random.default_rng(0)
    batch = np.repeat(["a", "b"], 150)
    truth = rng.normal(size=(300, 8))
    shifted = truth + np.where(batch == "b", 1.0, 0.0)[:, None] * np.arange(1, 9)
    corrected = combat(shifted, batch)
    gap = corrected[batch == "b"].mean(0) - corrected[batch == "a"].mean(0)
    assert np.abs(gap).max() < 0.05  # was 1..8
    clusters = rng.normal(0, 3, (3, 8))[np.arange(300) % 3] + rng.normal(size=(300, 8))  # Harmony's setting:
    clusters[batch == "b", 0] += 4.0  # the same cell types in both batches, shifted
    moved = harmony(clusters, batch, seed=0)
    gap = [moved[batch == "b", 0].mean() - moved[batch == "a", 0].mean() for moved in (clusters, moved)]
    assert gap[0] == pytest.approx(4.0, abs=0.3) and abs(gap[1]) < 1.0


def test_confusion_objective_is_cross_entropy_to_uniform_by_hand():
    torch.manual_seed(0)
    encoder, task, critic = TableEncoder(5, 4, 8), FeatureHead(4, 3, 8), FeatureHead(4, 3, 8)
    game = DomainAdversarialGame(encoder, task, critic, weight=lambda step: 0.7, encoder_objective="confusion")
    batch = {"inputs": torch.randn(12, 5), "domains": torch.arange(12) % 3, "labels": torch.arange(12) % 3}
    out = game.losses(batch, players={"encoder"}, step=0)
    features = encoder(batch["inputs"])
    task_loss = torch.nn.functional.cross_entropy(task(features), batch["labels"])
    probabilities = torch.softmax(critic(features), 1)
    uniform = -(torch.log(probabilities) / 3).sum(1).mean()
    torch.testing.assert_close(out.losses["encoder"], task_loss + 0.7 * uniform)
    with pytest.raises(ValueError, match="confusion"):
        DomainAdversarialGame(encoder, task, critic, weight=lambda step: 1.0, critic_loss="wasserstein",
                              encoder_objective="confusion")


def test_table_config_refuses_what_a_table_cannot_do(tmp_path):
    from gankit.errors import ConfigError, DataError
    from gankit.kinds.domain_data import load_table

    np.savez(tmp_path / "partial.npz", x=np.zeros((4, 2)), batch=np.zeros(4, int))
    with pytest.raises(DataError, match="lacks labels, cell_type, batch_names, type_names"):
        load_table(tmp_path / "partial.npz")
    np.savez(tmp_path / "objects.npz", x=np.array([{"a": 1}], dtype=object))
    with pytest.raises(DataError, match="not an .npz of plain arrays"):
        load_table(tmp_path / "objects.npz")

    with pytest.raises(ConfigError, match="one domain per batch"):
        config_from_dict({"game": "domain", "data": {"table": "t.npz"}, "loss": {"critic": "wasserstein"}})
    with pytest.raises(ConfigError, match="remove data.labels"):
        config_from_dict({"game": "domain", "data": {"table": "t.npz", "labels": "target"}})


@pytest.fixture(scope="module")
def integrated(tmp_path_factory):
    """One small run, twice with the same seed; the second with half the batches' labels held back."""
    from gankit.integrate import integrate

    root = tmp_path_factory.mktemp("integrate")
    _write_h5ad(root / "cells.h5ad", _small())
    runs = [integrate(str(root / "cells.h5ad"), batch="batch", label="cell_type", out=root / name, steps=40, seed=3,
                      overrides=["train.eval_every=20", "train.log_every=10", "train.checkpoint_every=20"],
                      labelled_batches=held, plot=plot)
            for name, held, plot in (("a", None, "tsne"), ("b", None, "pca"), ("semi", "batch0,batch1", "pca"))]
    return root, runs


def test_integrate_writes_every_output_in_input_order(integrated):
    root, (run, _, _) = integrated
    for name in ("embedding.npz", "embedding.csv", "integrated.h5ad", "scores.csv", "scores.md", "embeddings.png",
                 "integration.json", "run/report.html", "data/table.npz"):
        assert (run.out / name).is_file(), name
    stored = np.load(run.out / "embedding.npz")
    assert stored["embedding"].shape == (240, 32) and stored["harmony"].shape == (240, 50)
    assert list(stored["cells"][:3]) == ["c0", "c1", "c2"]
    adata = anndata.read_h5ad(run.out / "integrated.h5ad")
    np.testing.assert_array_equal(adata.obsm["X_gankit"], stored["embedding"])
    np.testing.assert_array_equal(adata.obsm["X_harmony"], stored["harmony"])
    rows = (run.out / "embedding.csv").read_text().splitlines()
    assert rows[0].startswith("cell,batch,cell_type,gankit_0,") and len(rows) == 241
    first = rows[1].split(",")
    assert first[:3] == ["c0", adata.obs["batch"].iloc[0], adata.obs["cell_type"].iloc[0]]
    np.testing.assert_allclose([float(v) for v in first[3:]], stored["embedding"][0], rtol=1e-5)
    summary = json.loads((run.out / "integration.json").read_text())
    assert summary["cells"] == 240 and summary["values"] == "counts" and summary["labelled_batches"] == [
        "batch0", "batch1", "batch2"]


def test_integrate_scores_recompute_from_the_written_embeddings(integrated):
    root, (run, _, _) = integrated
    stored = np.load(run.out / "embedding.npz")
    adata = anndata.read_h5ad(run.out / "integrated.h5ad")
    batches = np.unique(adata.obs["batch"], return_inverse=True)[1]
    types = np.unique(adata.obs["cell_type"], return_inverse=True)[1]
    for method, key in (("gankit", "embedding"), ("uncorrected", "uncorrected"), ("combat", "combat")):
        expected = integration_scores(stored[key].astype(np.float64), batches, types, seed=3)
        for name in ("overall", "ilisi", "nmi"):
            assert run.scores[method][name] == pytest.approx(expected[name], abs=1e-4), (method, name)
    assert run.scores["combat"]["batch_probe"] < run.scores["uncorrected"]["batch_probe"]  # ComBat mixes


def test_integrate_is_deterministic_by_seed(integrated):
    root, (a, b, _) = integrated
    first, second = np.load(a.out / "embedding.npz"), np.load(b.out / "embedding.npz")
    for key in ("embedding", "uncorrected", "combat", "harmony"):
        np.testing.assert_array_equal(first[key], second[key])
    untimed = [{m: {k: v for k, v in s.items() if k != "seconds"} for m, s in run.scores.items()} for run in (a, b)]
    assert untimed[0] == untimed[1]


def test_semi_supervised_holds_back_labels_and_scores_them(integrated):
    root, (_, _, semi) = integrated
    stored = np.load(semi.out / "data" / "table.npz")
    unlabelled = stored["batch"] == 2
    assert (stored["labels"][unlabelled] == -1).all() and (stored["cell_type"][unlabelled] >= 0).all()
    np.testing.assert_array_equal(stored["labels"][~unlabelled], stored["cell_type"][~unlabelled])
    import pandas as pd

    from gankit.kinds.domain import embed
    from gankit.runs import restore_run

    logged = pd.read_csv(semi.out / "run" / "metrics.csv")
    accuracy = logged["eval/heldout_label_accuracy_cells_240"].dropna()
    players = restore_run(semi.out / "run").players
    features = embed(players, torch.from_numpy(stored["x"][unlabelled]))
    with torch.no_grad():
        predicted = players["task"].eval()(features).argmax(1).numpy()
    assert len(accuracy) == 2
    assert accuracy.iloc[-1] == pytest.approx(np.mean(predicted == stored["cell_type"][unlabelled]), abs=1e-6)
