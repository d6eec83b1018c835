"""Tolerant reading of a run directory, shared by `gankit report` and `gankit compare`.

Whatever can be read is returned; what is missing or damaged is described in plain words in
`RunData.problems`, so a killed run (a metrics.csv cut mid-row, a half-written file) still gives
a report. Only a directory that is not a run at all (no config.yaml and no metrics.csv) is an error.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from gankit.errors import GankitError

__all__ = ["Alarm", "RunData", "SampleGrid", "read_run", "NotARunError"]

_SAMPLE_NAME = re.compile(r"^step_(\d+)\.png$")


class NotARunError(GankitError):
    """The directory does not exist or holds neither config.yaml nor metrics.csv."""


@dataclass
class SampleGrid:
    """One PNG under RUN/samples; `step` is None when the name is not step_XXXXXX.png."""

    path: Path
    step: int | None
    data: bytes


@dataclass
class Alarm:
    """One line of RUN/alarms.jsonl."""

    step: int | None
    alarm: str
    message: str
    advice: str


@dataclass
class RunData:
    """Everything readable in one run directory, plus a list of what was missing or damaged."""

    path: Path
    config_text: str | None = None
    columns: list[str] = field(default_factory=list)  # metric columns, without "step"
    rows: list[dict[str, float]] = field(default_factory=list)  # "step" and every column (NaN where empty)
    samples: list[SampleGrid] = field(default_factory=list)
    evaluation: dict | None = None  # {"step", "seed", "metrics": {protocol: float | None}}
    alarms: list[Alarm] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.path.resolve().name or str(self.path)

    def series(self, column: str) -> tuple[list[float], list[float]]:
        """(steps, values) of one column, finite values only."""
        pairs = [(r["step"], r.get(column, math.nan)) for r in self.rows]
        kept = [(s, v) for s, v in pairs if math.isfinite(v)]
        return [s for s, _ in kept], [v for _, v in kept]

    @property
    def last_row(self) -> dict[str, float]:
        return self.rows[-1] if self.rows else {}


def read_run(path: str | Path) -> RunData:
    """Read a run directory tolerantly; raise NotARunError only when it is not a run at all."""
    path = Path(path)
    if not path.is_dir():
        raise NotARunError(f"{path} is not a directory; give the run directory written by gankit train")
    config, metrics = path / "config.yaml", path / "metrics.csv"
    if not config.is_file() and not metrics.is_file():
        raise NotARunError(
            f"{path} is not a gankit run directory (neither config.yaml nor metrics.csv); "
            "give the --out directory of a gankit train run"
        )
    run = RunData(path)
    if config.is_file():
        run.config_text = _read_text(config, run)
    else:
        run.problems.append("config.yaml is missing: the settings of this run are unknown")
    if metrics.is_file():
        _read_metrics(metrics, run)
    else:
        run.problems.append("metrics.csv is missing: no curves")
    _read_samples(path / "samples", run)
    _read_eval(path / "eval.json", run)
    _read_alarms(path / "alarms.jsonl", run)
    return run


def _read_text(path: Path, run: RunData) -> str | None:
    try:
        return path.read_bytes().decode("utf-8", errors="replace")
    except OSError as err:
        run.problems.append(f"{path.name} could not be read ({err.strerror or err})")
        return None


def _read_metrics(path: Path, run: RunData) -> None:
    """Parse metrics.csv row by row; a row with the wrong number of cells, a bad step or a non-numeric cell
    is skipped and counted. A last line without a line ending was cut by a kill and is skipped too."""
    text = _read_text(path, run)
    if text is None:
        return
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        run.problems.append("metrics.csv is empty: no curves")
        return
    cut_last = not text.endswith(("\n", "\r"))
    header = _split(lines[0])
    if header is None or not header or header[0] != "step":
        run.problems.append("metrics.csv has no valid header (first line must start with 'step'): no curves")
        return
    run.columns = header[1:]
    damaged: list[int] = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        cells = _split(line)
        row = _parse_row(header, cells) if cells is not None and not (cut_last and number == len(lines)) else None
        if row is None:
            damaged.append(number)
        else:
            run.rows.append(row)
    if damaged:
        shown = ", ".join(map(str, damaged[:10])) + (", ..." if len(damaged) > 10 else "")
        run.problems.append(f"metrics.csv: {len(damaged)} damaged row(s) skipped (line {shown})")
    if not run.rows:
        run.problems.append("metrics.csv holds no readable rows: no curves")


def _split(line: str) -> list[str] | None:
    try:
        return next(csv.reader([line.replace("\0", "")]))
    except (csv.Error, StopIteration):
        return None


def _parse_row(header: list[str], cells: list[str]) -> dict[str, float] | None:
    if len(cells) != len(header):
        return None
    try:
        step = int(cells[0])
        values = {name: (float(cell) if cell.strip() else math.nan) for name, cell in zip(header[1:], cells[1:])}
    except ValueError:
        return None
    return {"step": float(step), **values}


def _read_samples(folder: Path, run: RunData) -> None:
    if not folder.is_dir():
        run.problems.append("no samples/ folder: no sample grids")
        return
    from PIL import Image

    found = []
    for png in sorted(folder.glob("*.png")):
        match = _SAMPLE_NAME.match(png.name)
        try:
            data = png.read_bytes()
            with Image.open(io.BytesIO(data)) as image:
                image.load()  # a truncated PNG fails here rather than as a broken image in the page
        except Exception:  # any unreadable or damaged image: note it, keep the rest
            run.problems.append(f"samples/{png.name} is damaged or unreadable: left out")
            continue
        found.append(SampleGrid(png, int(match.group(1)) if match else None, data))
    found.sort(key=lambda g: (g.step is None, g.step or 0, g.path.name))
    run.samples = found
    if not found:
        run.problems.append("no sample grids in samples/")


def _read_eval(path: Path, run: RunData) -> None:
    if not path.is_file():
        run.problems.append("no eval.json: no evaluation numbers (run gankit eval RUN_DIR)")
        return
    text = _read_text(path, run)
    try:
        data = json.loads(text or "")
        metrics = data["metrics"]
        if not isinstance(metrics, dict):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        run.problems.append("eval.json is damaged (not JSON with a 'metrics' object): no evaluation numbers")
        return
    clean = {}
    for name, value in metrics.items():
        clean[str(name)] = float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    run.evaluation = {"step": data.get("step"), "seed": data.get("seed"), "metrics": clean}


def _read_alarms(path: Path, run: RunData) -> None:
    if not path.is_file():  # written at the first alarm: absent when none fired
        return
    text = _read_text(path, run) or ""
    bad = 0
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            step = item.get("step")
            run.alarms.append(Alarm(
                step if isinstance(step, int) and not isinstance(step, bool) else None,
                str(item.get("alarm", "?")), str(item.get("message", "")), str(item.get("advice", "")),
            ))
        except (ValueError, AttributeError):
            bad += 1
    if bad:
        run.problems.append(f"alarms.jsonl: {bad} damaged line(s) skipped")
