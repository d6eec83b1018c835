"""`gankit compare`: several runs side by side: overlaid curves (compare.png) and final values (compare.md/.csv)."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from gankit.atomic import atomic_write, atomic_write_text
from gankit.errors import GankitError
from gankit.report.figures import group_columns, overlay_figure
from gankit.report.reading import RunData, read_run

__all__ = ["Comparison", "compare_runs", "final_values"]


@dataclass
class Comparison:
    """What `compare_runs` wrote: the table (one row per quantity, one value per run) and the files."""

    out: Path
    labels: list[str]
    table: list[tuple[str, list[float | None]]]
    shared: list[str]  # columns overlaid in compare.png
    markdown: str
    files: list[Path]
    problems: dict[str, list[str]]  # per run label: what was missing or damaged


def _labels(paths: Sequence[Path], runs: Sequence[RunData]) -> list[str]:
    """Run directory names; the paths as given where two names collide."""
    names = [run.name for run in runs]
    return [name if names.count(name) == 1 else str(path) for name, path in zip(names, paths)]


def final_values(runs: Sequence[RunData]) -> list[tuple[str, list[float | None]]]:
    """Quantities × runs: `step` and every column of each run's last readable metrics.csv row (None where
    the run lacks the column; NaN where the cell was empty), then `eval.json:<protocol>` for eval.json metrics."""
    seen: list[str] = []
    for run in runs:
        seen += [c for c in run.columns if c not in seen]
    columns = ["step"] + [c for _, cols, _ in group_columns(seen) for c in cols]
    table = [(c, [run.last_row.get(c) if run.rows else None for run in runs]) for c in columns]
    protocols: list[str] = []
    for run in runs:
        if run.evaluation is not None:
            protocols += [p for p in run.evaluation["metrics"] if p not in protocols]
    if protocols:
        table.append(("eval.json:step", [_eval_step(run) for run in runs]))
    for p in protocols:
        table.append((f"eval.json:{p}", [
            run.evaluation["metrics"].get(p) if run.evaluation is not None else None for run in runs
        ]))
    return table


def _eval_step(run: RunData) -> float | None:
    step = run.evaluation["step"] if run.evaluation is not None else None
    return float(step) if isinstance(step, (int, float)) else None


def _show(name: str, value: float | None, exact: bool) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if name.endswith("step") and value.is_integer():
        return str(int(value))
    return repr(value) if exact else f"{value:.6g}"


def to_markdown(table: list[tuple[str, list[float | None]]], labels: Sequence[str]) -> str:
    lines = ["| quantity | " + " | ".join(labels) + " |", "|---|" + "---:|" * len(labels)]
    for name, values in table:
        lines.append(f"| {name} | " + " | ".join(_show(name, v, exact=False) for v in values) + " |")
    return "\n".join(lines) + "\n"


def to_csv(table: list[tuple[str, list[float | None]]], labels: Sequence[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["quantity", *labels])
    for name, values in table:
        writer.writerow([name, *(_show(name, v, exact=True) for v in values)])
    return buffer.getvalue()


def compare_runs(run_dirs: Sequence[str | Path], out: str | Path) -> Comparison:
    """Read every run (a directory that is not a run, or one with nothing to compare, is an error naming it)
    and write OUT/compare.png, OUT/compare.md and OUT/compare.csv."""
    paths = [Path(d) for d in run_dirs]
    if len(paths) < 2:
        raise GankitError(f"give at least two run directories to compare, got {len(paths)}")
    runs = []
    for path in paths:
        run = read_run(path)  # NotARunError names the directory
        if not run.rows and run.evaluation is None:
            raise GankitError(f"{path} has no readable metrics.csv rows and no eval.json: nothing to compare")
        runs.append(run)
    labels = _labels(paths, runs)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise GankitError(f"--out {out} is a file; give a directory for the comparison")
    table = final_values(runs)
    png, shared = overlay_figure(runs, labels)
    markdown = to_markdown(table, labels)
    files = [out / "compare.png", out / "compare.md", out / "compare.csv"]
    try:
        out.mkdir(parents=True, exist_ok=True)
        atomic_write(files[0], lambda handle: handle.write(png))
        atomic_write_text(files[1], markdown)
        atomic_write_text(files[2], to_csv(table, labels))
    except OSError as err:
        raise GankitError(f"cannot write the comparison to {out} ({err.strerror or err}); choose another --out") from None
    problems = {label: [p for p in run.problems if _serious(p)] for label, run in zip(labels, runs)}
    return Comparison(out, labels, table, shared, markdown, files, problems)


def _serious(problem: str) -> bool:
    """Problems worth a line in `gankit compare` (absent optional files are not)."""
    return not problem.startswith(("no eval.json", "no samples", "no sample grids"))
