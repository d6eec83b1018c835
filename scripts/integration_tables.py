"""The tables of docs/integration.md from finished `gankit integrate` runs: mean ± std over seeds of every
method's scores, and per seed whether gankit reached the goal (overall ≥ the better Harmony's, biology ≥
uncorrected − 0.02).

    python scripts/integration_tables.py "supervised=runs/pbmc_sup_s*" "semi-supervised=runs/pbmc_semi_s*"

Each argument is LABEL=GLOB of integrate output directories (one per seed, same data set). The baselines are
read from the first group (every run computes them; on the same seed they are the same numbers).
"""

from __future__ import annotations

import glob
import json
import sys
from pathlib import Path

from image2image_table import cell

COLUMNS = ("overall", "batch_correction", "bio_conservation", "ilisi", "batch_asw", "graph_connectivity", "clisi",
           "celltype_asw", "nmi", "ari", "batch_probe", "seconds")
BASELINES = ("uncorrected", "combat", "harmony", "harmony_20")


def _runs(pattern: str) -> list[dict]:
    runs = [json.loads((Path(d) / "integration.json").read_text()) for d in sorted(glob.glob(pattern))
            if (Path(d) / "integration.json").is_file()]
    if not runs:
        raise SystemExit(f"no integrate runs match {pattern}")
    return runs


def _cell(scores: list[dict[str, float]], column: str) -> str:
    values = [s[column] for s in scores if s.get(column) is not None]
    return cell(values, 1 if column == "seconds" else 3) if values else "–"


def _row(label: str, scores: list[dict[str, float]]) -> str:
    return f"| {label} | " + " | ".join(_cell(scores, c) for c in COLUMNS) + " |"


def main(arguments: list[str]) -> None:
    groups = [(label, _runs(pattern)) for label, _, pattern in (a.partition("=") for a in arguments)]
    print("| method | " + " | ".join(COLUMNS) + " |")
    print("|---" * (len(COLUMNS) + 1) + "|")
    first = groups[0][1]
    for method in BASELINES:
        print(_row(f"{method} ({len(first)} seeds)", [run["scores"][method] for run in first]))
    for label, runs in groups:
        print(_row(f"gankit, {label} ({len(runs)} seeds)", [run["scores"]["gankit"] for run in runs]))
    print()
    for label, runs in groups:
        verdicts = []
        for run in runs:
            s = run["scores"]
            best_harmony = max(s[m]["overall"] for m in ("harmony", "harmony_20") if m in s)
            reached = (s["gankit"]["overall"] >= best_harmony
                       and s["gankit"]["bio_conservation"] >= s["uncorrected"]["bio_conservation"] - 0.02)
            verdicts.append(f"seed {run['seed']}: {'yes' if reached else 'no'} "
                            f"({s['gankit']['overall']:.3f} vs Harmony {best_harmony:.3f}, "
                            f"ComBat {s['combat']['overall']:.3f})")
        print(f"- {label}: " + "; ".join(verdicts))


if __name__ == "__main__":
    main(sys.argv[1:])
