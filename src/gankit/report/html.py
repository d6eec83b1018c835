"""`gankit report`: one self-contained HTML page for a run (images as data URIs, no network, no external files)."""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass
from html import escape
from pathlib import Path

import yaml

from gankit.atomic import atomic_write_text
from gankit.errors import GankitError
from gankit.report.figures import curve_figures
from gankit.report.reading import RunData, read_run

__all__ = ["ReportSummary", "render_report", "write_report"]

_STYLE = """
body { font-family: sans-serif; margin: 2em; max-width: 1200px; color: #222; }
h1 { font-size: 1.5em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; }
pre { background: #f5f5f5; padding: 1em; overflow-x: auto; max-height: 30em; }
table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: .3em .6em; text-align: left; }
td.num { text-align: right; font-family: monospace; }
.samples { display: flex; flex-wrap: wrap; gap: 1em; }
.samples figure { margin: 0; } .samples img { max-width: 360px; image-rendering: pixelated; }
#missing { background: #fff4e5; border: 1px solid #f0b060; padding: .5em 1em; }
"""

# Counts the images that really decoded, for the headless-browser test (data-images-loaded == data-images-total).
_SCRIPT = """
window.addEventListener("load", function () {
  var images = document.images, loaded = 0;
  for (var i = 0; i < images.length; i++) {
    if (images[i].complete && images[i].naturalWidth > 0) { loaded++; }
  }
  document.body.dataset.imagesLoaded = String(loaded);
  document.body.dataset.imagesTotal = String(images.length);
});
"""


@dataclass
class ReportSummary:
    """What went into a written report."""

    path: Path
    figures: int
    samples: int
    problems: list[str]


def _img(png: bytes, alt: str, css_class: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img class="{css_class}" alt="{escape(alt)}" src="data:image/png;base64,{data}">'


def _number(value: float | None) -> str:
    if value is None:
        return "null (not finite)"
    return f"{value:.6g}" if math.isfinite(value) else str(value)


def _config_section(run: RunData) -> str:
    if run.config_text is None:
        return '<section id="config"><h2>Config</h2><p>config.yaml is missing.</p></section>'
    return f'<section id="config"><h2>Config</h2><pre>{escape(run.config_text)}</pre></section>'


def _curves_section(images: list[str]) -> str:
    body = "\n".join(images) if images else "<p>No curves: metrics.csv has no readable values.</p>"
    return f'<section id="curves"><h2>Curves (metrics.csv)</h2>\n{body}\n</section>'


def _samples_section(run: RunData) -> str:
    if not run.samples:
        return '<section id="samples"><h2>Samples over time</h2><p>No sample grids.</p></section>'
    items = []
    for grid in run.samples:
        caption = f"step {grid.step}" if grid.step is not None else grid.path.name
        items.append(f"<figure>{_img(grid.data, caption, 'sample')}<figcaption>{escape(caption)}</figcaption></figure>")
    return '<section id="samples"><h2>Samples over time</h2><div class="samples">' + "".join(items) + "</div></section>"


def _eval_section(run: RunData) -> str:
    if run.evaluation is None:
        return '<section id="eval"><h2>Evaluation (eval.json)</h2><p>No eval.json.</p></section>'
    ev = run.evaluation
    rows = "".join(
        f'<tr><td>{escape(name)}</td><td class="num">{escape(_number(value))}</td></tr>'
        for name, value in ev["metrics"].items()
    )
    return (
        '<section id="eval"><h2>Evaluation (eval.json)</h2>'
        f"<p>checkpoint step {escape(str(ev['step']))}, seed {escape(str(ev['seed']))}</p>"
        f'<table id="eval-table"><tr><th>protocol</th><th>value</th></tr>{rows}</table></section>'
    )


def _alarms_section(run: RunData) -> str:
    if not run.alarms:
        return f'<section id="alarms"><h2>Alarms</h2><p>{_no_alarms(run)}</p></section>'
    by_name: dict[str, list] = {}
    for alarm in run.alarms:
        by_name.setdefault(alarm.alarm, []).append(alarm)
    rows = []
    for name, fired in by_name.items():
        steps = ", ".join(str(a.step) if a.step is not None else "?" for a in fired)
        last = fired[-1]
        rows.append(
            f"<tr><td>{escape(name)}</td><td>{len(fired)}</td><td>{escape(steps)}</td>"
            f"<td>{escape(last.message)}</td><td>{escape(last.advice)}</td></tr>"
        )
    return (
        '<section id="alarms"><h2>Alarms</h2><table id="alarms-table"><tr><th>alarm</th><th>times</th>'
        "<th>steps</th><th>message (last)</th><th>advice</th></tr>" + "".join(rows) + "</table></section>"
    )


def _no_alarms(run: RunData) -> str:
    """Why the alarms table is empty: alarms.jsonl is written at the first alarm, so its absence means none fired."""
    if any(problem.startswith("alarms.jsonl") for problem in run.problems):
        return "No readable alarms: alarms.jsonl is damaged (see Missing or damaged)."
    try:
        diagnostics = (yaml.safe_load(run.config_text or "") or {}).get("train", {}).get("diagnostics", True)
    except (yaml.YAMLError, AttributeError):  # a damaged or odd config.yaml: the config section shows it
        diagnostics = True
    if diagnostics is False:
        return "No alarms fired; train.diagnostics was off, so only a NaN rollback could have raised one."
    return "No alarms fired."


def _missing_section(run: RunData) -> str:
    if not run.problems:
        return '<section id="missing"><h2>Missing or damaged</h2><p>Nothing: every file was read.</p></section>'
    items = "".join(f"<li>{escape(p)}</li>" for p in run.problems)
    return f'<section id="missing"><h2>Missing or damaged</h2><ul>{items}</ul></section>'


def render_report(run: RunData) -> tuple[str, int]:
    """The report's HTML and the number of curve figures in it."""
    figures = curve_figures(run)
    curve_images = [_img(f.png, f"{f.title}: {', '.join(f.columns)}", "curve") for f in figures]
    total = len(curve_images) + len(run.samples)
    steps = f"{len(run.rows)} logged rows, last step {int(run.rows[-1]['step'])}" if run.rows else "no logged rows"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>gankit report: {escape(run.name)}</title><style>{_STYLE}</style></head>",
        f'<body data-images-total="{total}">',
        f"<h1>gankit run report: {escape(run.name)}</h1>",
        f"<p>{escape(str(run.path))} &middot; {escape(steps)}</p>",
        _missing_section(run),
        _config_section(run),
        _curves_section(curve_images),
        _samples_section(run),
        _eval_section(run),
        _alarms_section(run),
        f"<script>{_SCRIPT}</script>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n", len(figures)


def write_report(run_dir: str | Path, out: str | Path | None = None) -> ReportSummary:
    """Read `run_dir` tolerantly and write its report (default RUN_DIR/report.html) atomically."""
    run = read_run(run_dir)
    path = Path(out) if out is not None else run.path / "report.html"
    if path.is_dir():
        path = path / "report.html"
    text, n_figures = render_report(run)
    try:
        atomic_write_text(path, text)
    except OSError as err:
        raise GankitError(f"cannot write the report to {path} ({err.strerror or err}); choose another --out") from None
    return ReportSummary(path, n_figures, len(run.samples), list(run.problems))
