"""The tables of docs/image2image.md from finished paired runs: mean ± std over seeds of the last evaluation.

    python scripts/image2image_table.py "GAN=runs/sr_gan_*" "L1 only=runs/sr_l1_*"

Each argument is LABEL=GLOB of run directories (one per seed) trained with the same config but their seed.
Rows: the baseline (read from the first group: it is the same images in every run of one seed) and each
group's network; columns: PSNR, SSIM and, on digit data, FID in the shipped classifier's features.
"""

from __future__ import annotations

import csv
import glob
import json
import statistics
import sys
from pathlib import Path

import yaml


def last_evaluation(run: Path) -> dict[str, float] | None:
    """The scores of RUN/eval.json (`gankit eval RUN`) when it scored the last step, else the `eval/*` values of
    RUN/metrics.csv at the run's last step, without the prefix; None if the run has not finished."""
    steps = yaml.safe_load((run / "config.yaml").read_text())["train"]["steps"]
    if (run / "eval.json").is_file():
        report = json.loads((run / "eval.json").read_text())
        if report["step"] == steps:
            return {k: v for k, v in report["metrics"].items() if v is not None}
    with (run / "metrics.csv").open() as handle:
        rows = [row for row in csv.DictReader(handle) if any(k.startswith("eval/") and v for k, v in row.items())]
    if not rows or int(rows[-1]["step"]) != steps:
        return None
    return {k.removeprefix("eval/"): float(v) for k, v in rows[-1].items() if k.startswith("eval/") and v}


def cell(values: list[float], digits: int) -> str:
    mean = statistics.fmean(values)
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{mean:.{digits}f} ± {spread:.{digits}f}"


def row(label: str, scores: list[dict[str, float]], prefix: str) -> str:
    cells = []
    for metric, digits in (("psnr", 2), ("ssim", 3), ("fid", 2)):
        values = [v for s in scores for k, v in s.items()
                  if k.startswith(f"{metric}_{prefix}") and not k.endswith("_std")
                  and (prefix or not any(k.startswith(f"{metric}_{b}_") for b in ("bicubic", "input")))]
        cells.append(cell(values, digits) if values else "–")
    return f"| {label} | " + " | ".join(cells) + " |"


def run_groups(arguments: list[str]) -> list[tuple[str, list[dict[str, float]]]]:
    """(label, the last evaluation of each finished run) for every LABEL=GLOB argument."""
    groups = []
    for argument in arguments:
        label, _, pattern = argument.partition("=")
        runs = sorted(Path(p) for p in glob.glob(pattern) if Path(p).is_dir())
        scores = [s for s in map(last_evaluation, runs) if s is not None]
        if not scores:
            sys.exit(f"no finished run directory matches {pattern!r}")
        if len(scores) < len(runs):
            print(f"note: {len(runs) - len(scores)} run(s) of {label!r} have not finished", file=sys.stderr)
        groups.append((label, scores))
    return groups


def main(arguments: list[str]) -> None:
    groups = run_groups(arguments)
    first = groups[0][1]
    baseline = "bicubic" if any(k.startswith("psnr_bicubic_") for k in first[0]) else "input"
    print(f"| | PSNR (dB) | SSIM | FID |\n|---|---|---|---|")
    print(row(f"{baseline} (baseline)", first, f"{baseline}_"))
    for label, scores in groups:
        print(row(f"{label} ({len(scores)} seed{'s' if len(scores) > 1 else ''})", scores, ""))


if __name__ == "__main__":
    main(sys.argv[1:])
