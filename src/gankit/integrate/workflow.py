"""`gankit integrate`: remove batch effects from single-cell data with a domain-adversarial encoder, scored by
scIB's metrics beside uncorrected PCA, ComBat and Harmony (its defaults, and 20 rounds) computed in the same run.

    DIR/data/table.npz        the encoder's input (scaled principal components), batch and label codes
    DIR/run/                  the domain run (game: domain, data.table): metrics, checkpoints, report.html
    DIR/embedding.npz         gankit (cells x features) and each baseline's embedding, one row per input cell
    DIR/embedding.csv         cell, batch, [cell_type,] gankit_0..: gankit's embedding in input order
    DIR/integrated.h5ad       .h5ad input: the input with obsm X_gankit, X_pca_uncorrected, X_combat, X_harmony,
                              X_harmony_20
    DIR/scores.csv, scores.md the scores of every method (rows) and the seconds each took
    DIR/integration.json      settings, counts, timings and scores
    DIR/embeddings.png        each method's embedding in 2-d (t-SNE, or PCA), coloured by batch and by cell type

Everything the user gives is checked before DIR is created; a failure after that removes DIR again.
"""

from __future__ import annotations

import csv
import io
import json
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import torch

from gankit.atomic import atomic_write, atomic_write_text
from gankit.config import DomainConfig, config_from_dict, load_config
from gankit.errors import ConfigError
from gankit.integrate.baselines import (
    HARMONY_ROUNDS, N_COMPONENTS, combat, harmony, log_normalize, scaled_pca, variable_genes,
)
from gankit.integrate.inputs import Cells, load_cells
from gankit.metrics.integration import ilisi, integration_scores
from gankit.output_dir import check_output_dir, removed_on_failure

__all__ = ["METHODS", "IntegrationResult", "integrate", "integration_config", "score_embedding"]

METHODS = ("uncorrected", "combat", "harmony", "harmony_20", "gankit")  # harmony_20: HARMONY_ROUNDS, no early stop
OBSM_KEYS = {"uncorrected": "X_pca_uncorrected", "combat": "X_combat", "harmony": "X_harmony",
             "harmony_20": "X_harmony_20", "gankit": "X_gankit"}
TABLE_COLUMNS = ("batch_correction", "bio_conservation", "overall", "ilisi", "batch_asw", "graph_connectivity",
                 "clisi", "celltype_asw", "nmi", "ari", "batch_probe", "seconds")


@dataclass
class IntegrationResult:
    """Where the outputs went, every method's scores and the Markdown table of them."""

    out: Path
    scores: dict[str, dict[str, float]]
    table: str


def integrate(
    source: str, *, batch: str, out: str | Path, label: str | None = None, labelled_batches: str | None = None,
    values: str = "auto", layer: str | None = None, config: str | None = None, steps: int | None = None,
    seed: int = 0, overrides: list[str] | tuple[str, ...] = (), progress: bool = False, plot: str = "tsne",
) -> IntegrationResult:
    """Embed `source`'s cells with gankit's domain-adversarial encoder and the baselines, score and write all."""
    from gankit.kinds.domain import embed
    from gankit.runs import restore_run
    from gankit.train.run import train

    from gankit.integrate.figures import PROJECTIONS, embedding_figure

    started = time.perf_counter()
    out = Path(out)
    if plot not in PROJECTIONS:
        raise ConfigError(f"--plot {plot!r} is not one of {', '.join(PROJECTIONS)}")
    check_output_dir(out)
    cells = load_cells(source, batch, label, values=values, layer=layer, seed=seed)
    trained = _labelled_batches(cells, labelled_batches)
    cfg = integration_config(config, overrides, steps, seed, out / "data" / "table.npz", with_labels=label is not None)
    cfg = _fit_batch_size(cfg, cells)
    with removed_on_failure(out):
        seconds: dict[str, float] = {}
        tick = time.perf_counter()
        expression = log_normalize(cells.x, cells.counts)
        expression = expression[:, variable_genes(expression)]
        pcs = scaled_pca(expression, N_COMPONENTS, seed)
        seconds["uncorrected"] = time.perf_counter() - tick
        inputs = (pcs / pcs[:, 0].std()).astype(np.float32)
        _write_table(out / "data" / "table.npz", cells, inputs, trained)
        tick = time.perf_counter()
        train(cfg, out / "run", progress=progress)
        players = restore_run(out / "run").players
        embeddings = {"uncorrected": pcs}
        seconds["gankit"] = time.perf_counter() - tick + seconds["uncorrected"]
        tick = time.perf_counter()
        embeddings["combat"] = scaled_pca(combat(expression, cells.batch), N_COMPONENTS, seed)
        seconds["combat"] = time.perf_counter() - tick
        tick = time.perf_counter()
        embeddings["harmony"] = harmony(pcs, cells.batch, seed)
        seconds["harmony"] = time.perf_counter() - tick + seconds["uncorrected"]
        tick = time.perf_counter()
        embeddings["harmony_20"] = harmony(pcs, cells.batch, seed, rounds=HARMONY_ROUNDS)
        seconds["harmony_20"] = time.perf_counter() - tick + seconds["uncorrected"]
        embeddings["gankit"] = embed(players, torch.from_numpy(inputs)).numpy().astype(np.float64)
        scores = {method: score_embedding(embeddings[method], cells, seed) | {"seconds": round(seconds[method], 2)}
                  for method in METHODS}
        _write_embeddings(out, cells, embeddings)
        table = format_scores(scores)
        _write_scores(out, scores, table)
        embedding_figure(embeddings, cells, out / "embeddings.png", seed, plot)
        summary = {
            "source": cells.source, "cells": len(cells.x), "genes": len(cells.genes),
            "genes_used": int(expression.shape[1]), "values": "counts" if cells.counts else "log",
            "batches": {name: int((cells.batch == name).sum()) for name in cells.batch_names},
            "label": label, "labelled_batches": sorted(trained), "seed": seed, "config": config,
            "overrides": list(overrides), "steps": cfg.train.steps,
            "batch_size": cfg.train.batch_size, "scores": scores,
            "seconds_total": round(time.perf_counter() - started, 1),
        }
        atomic_write_text(out / "integration.json", json.dumps(summary, indent=2) + "\n")
    return IntegrationResult(out, scores, table)


def integration_config(source: str | None, overrides: list[str] | tuple[str, ...], steps: int | None, seed: int,
                       table: Path, *, with_labels: bool) -> DomainConfig:
    """The default integration run (integrate_cells.yaml; integrate_cells_decoder.yaml without labels or with
    `--set model.task=decoder`) or the user's domain YAML, pointed at `table`."""
    for item in overrides:
        if item.partition("=")[0].strip().split(".")[0] == "data":
            raise ConfigError(f"--set {item}: integrate sets data.* itself (to the table it writes); remove it")
    decoder = not with_labels or any(item.replace(" ", "") == "model.task=decoder" for item in overrides)
    default = resources.files("gankit") / "integrate" / f"integrate_cells{'_decoder' if decoder else ''}.yaml"
    loaded = load_config(source or str(default), overrides, steps=steps, seed=seed)
    if loaded.game != "domain":
        raise ConfigError(f"--config {source} is a {loaded.game} game; integrate trains a domain game, "
                          "give a config with game: domain")
    raw = loaded.model_dump(mode="json")
    raw["data"] = {"table": str(table.resolve())}
    if not with_labels:
        raw["model"]["task"] = "decoder"
        raw["loss"]["critic_sees_class"] = False
    return config_from_dict(raw)


def _fit_batch_size(cfg: DomainConfig, cells: Cells) -> DomainConfig:
    """`cfg` with train.batch_size lowered, if needed, so each batch's equal share fits its smallest batch."""
    counts = [int((cells.batch == name).sum()) for name in cells.batch_names]
    most = len(counts) * min(counts)
    if cfg.train.batch_size <= most:
        return cfg
    return cfg.model_copy(update={"train": cfg.train.model_copy(update={"batch_size": most})})


def _labelled_batches(cells: Cells, requested: str | None) -> set[str]:
    """The batches whose labels train the classifier: `requested` (comma-separated names) or every batch."""
    if requested is None:
        return set(cells.batch_names) if cells.cell_type is not None else set()
    if cells.cell_type is None:
        raise ConfigError("--labelled-batches picks whose labels train; give --label too")
    names = {name.strip() for name in requested.split(",") if name.strip()}
    unknown = sorted(names - set(cells.batch_names))
    if unknown or not names:
        raise ConfigError(f"--labelled-batches {requested!r} names no batch of the data ({', '.join(unknown)}); "
                          f"batches: {', '.join(cells.batch_names)}")
    return names


def _codes(values: np.ndarray, names: list[str]) -> np.ndarray:
    index = {name: i for i, name in enumerate(names)}
    return np.array([index.get(v, -1) if v is not None else -1 for v in values], dtype=np.int64)


def _type_names(cells: Cells) -> list[str]:
    return sorted({t for t in cells.cell_type if t is not None}) if cells.cell_type is not None else []


def _write_table(path: Path, cells: Cells, inputs: np.ndarray, trained: set[str]) -> None:
    """The domain run's table: inputs, batch codes, training labels (−1 outside `trained`) and cell types."""
    type_names = _type_names(cells)
    cell_type = (_codes(cells.cell_type, type_names) if cells.cell_type is not None
                 else np.full(len(inputs), -1, dtype=np.int64))
    labels = np.where(np.isin(cells.batch, sorted(trained)), cell_type, -1)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda h: np.savez(
        h, x=inputs, batch=_codes(cells.batch, cells.batch_names), labels=labels, cell_type=cell_type,
        batch_names=np.array(cells.batch_names, dtype=str), type_names=np.array(type_names, dtype=str)))


def score_embedding(embedding: np.ndarray, cells: Cells, seed: int) -> dict[str, float]:
    """scIB's scores over the cells of known type (`integration_scores`), or iLISI alone without labels; and
    the batch probe (balanced accuracy of a linear probe telling the batches apart; lower is better mixed)."""
    from gankit.kinds.domain import domain_probe_accuracy

    codes = _codes(cells.batch, cells.batch_names)
    probe = domain_probe_accuracy([torch.from_numpy(embedding[codes == b]) for b in range(len(cells.batch_names))])
    if cells.cell_type is None:
        return {"ilisi": ilisi(embedding, codes), "batch_probe": probe}
    known = np.array([t is not None for t in cells.cell_type])
    types = _codes(cells.cell_type, _type_names(cells))
    return integration_scores(embedding[known], codes[known], types[known], seed=seed) | {"batch_probe": probe}


def format_scores(scores: dict[str, dict[str, float]]) -> str:
    """A Markdown table: one row per method, the columns of `TABLE_COLUMNS` that were scored."""
    columns = [c for c in TABLE_COLUMNS if c in next(iter(scores.values()))]
    lines = ["| method | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for method, row in scores.items():
        cells = [f"{row[c]:.1f}" if c == "seconds" else f"{row[c]:.3f}" for c in columns]
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _write_scores(out: Path, scores: dict[str, dict[str, float]], table: str) -> None:
    columns = list(next(iter(scores.values())))
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["method", *columns])
    for method, row in scores.items():
        writer.writerow([method, *(row[c] for c in columns)])
    atomic_write_text(out / "scores.csv", text.getvalue())
    atomic_write_text(out / "scores.md", table + "\n")


def _write_embeddings(out: Path, cells: Cells, embeddings: dict[str, np.ndarray]) -> None:
    """embedding.npz (every method), embedding.csv (gankit) and, for .h5ad input, integrated.h5ad."""
    gankit = embeddings["gankit"]
    atomic_write(out / "embedding.npz", lambda h: np.savez(
        h, embedding=gankit.astype(np.float32), cells=np.array(cells.cell_names, dtype=str),
        **{method: embeddings[method].astype(np.float32) for method in METHODS if method != "gankit"}))
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    labelled = cells.cell_type is not None
    writer.writerow(["cell", "batch", *(["cell_type"] if labelled else []), *(f"gankit_{i}" for i in range(gankit.shape[1]))])
    for i, row in enumerate(gankit):
        kind = [cells.cell_type[i] or ""] if labelled else []
        writer.writerow([cells.cell_names[i], cells.batch[i], *kind, *(f"{v:.6g}" for v in row)])
    atomic_write_text(out / "embedding.csv", text.getvalue())
    if cells.adata is not None:
        adata = cells.adata.copy()
        for method, key in OBSM_KEYS.items():
            adata.obsm[key] = embeddings[method].astype(np.float32)
        adata.write_h5ad(out / "integrated.h5ad")  # DIR is new: a failure removes it whole
