"""`gankit design RUN -n 500 --out DIR` on a circuits run: circuits from the trained graph GAN, each simulated and
labelled, beside random signed graphs of the training library's edge density and single-edge mutations of
training circuits, as many of each (gankit.design.circuit_scores).

    DIR/circuits.csv   the generator's proposals: the signed adjacency, valid, novel, shows the behaviour
    DIR/design.json    settings, the library's sizes and one row per method
    DIR/table.md       the same rows in Markdown
    DIR/circuits.png   new working circuits (novel, showing the behaviour) with their simulated traces
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from torch import Tensor

from gankit.atomic import atomic_write_text
from gankit.design.circuit_scores import Scored, score_circuits, timed
from gankit.design.graphs import edge_density, random_circuits, single_edge_mutations

__all__ = ["design_circuits"]


def design_circuits(run: Any, run_dir: str | Path, *, n: int, out: Path,
                    seed: int) -> tuple[list[dict[str, Any]], str]:
    """Propose `n` circuits with the run's generator and with each baseline, simulate them, write the outputs
    into `out` (created by the caller's guard); (the table's rows, the Markdown table)."""
    from gankit.design.circuit_figures import circuits_figure
    from gankit.kinds.circuits import circuit_model, propose_circuits, restore_library

    library = restore_library(run.config)
    model = circuit_model(run.config)
    density = edge_density(library.training)
    methods = {
        "gankit": lambda: propose_circuits(run.players["generator"], n, seed),
        "random_graphs": lambda: random_circuits(library.genes, n, density, seed),
        "single_edge_mutations": lambda: single_edge_mutations(library.training, n, seed),
    }
    rows, proposals = [], {}
    for method, make in methods.items():
        circuits, seconds = timed(make)
        scored = score_circuits(model, library, circuits, method, seconds)
        rows.append(scored.scores.as_dict() | {"proposals_per_second": n / max(seconds, 1e-9)})
        proposals[method] = (circuits, scored)
    circuits, scored = proposals["gankit"]
    _write_circuits(out / "circuits.csv", circuits, scored)
    table = _table(rows)
    settings = {"run": str(run_dir), "n": n, "seed": seed, "behaviour": library.behaviour, "genes": library.genes,
                "training_circuits": len(library.training), "training_classes": library.training_classes,
                "held_out_classes": len(library.held_out), "edge_density": density, "rows": rows}
    atomic_write_text(out / "design.json", json.dumps(settings, indent=2) + "\n")
    atomic_write_text(out / "table.md", table)
    circuits_figure(model, circuits[scored.novel & scored.working], library.behaviour, out / "circuits.png")
    return rows, table


def _write_circuits(path: Path, circuits: Tensor, scored: Scored) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["adjacency", "valid", "novel", "shows_behaviour"])
        for circuit, is_valid, is_novel, works in zip(circuits, scored.valid, scored.novel, scored.working):
            writer.writerow([str(circuit.tolist()), bool(is_valid), bool(is_novel), bool(works)])


def _table(rows: list[dict[str, Any]]) -> str:
    lines = ["| method | proposed | valid | unique (classes) | novel | novel that work | new working classes | "
             "proposals/s |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['method']} | {r['proposed']} | {r['valid']:.3f} | {r['unique']:.3f} ({r['classes']}) | "
              f"{r['novel']:.3f} | "
              f"{r['novel_working']:.3f} | {r['new_classes']} | {r['proposals_per_second']:.3g} |" for r in rows]
    return "\n".join(lines) + "\n"
