"""Matplotlib figures of metrics.csv columns, returned as PNG bytes (no file, no display)."""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from gankit.report.reading import RunData

__all__ = ["Figure", "GROUPS", "group_columns", "curve_figures", "overlay_figure"]

# (title, predicate, overlaid on one axes?) in the order the report shows them; the last one takes the rest.
GROUPS: list[tuple[str, Callable[[str], bool], bool]] = [
    ("Losses", lambda c: c.startswith("loss_"), True),
    ("D outputs", lambda c: c.startswith("d_"), True),
    ("Gradient norms", lambda c: c.startswith("grad_norm_"), True),
    ("Diagnostics", lambda c: c.startswith("diag/"), False),
    ("Evaluation", lambda c: c.startswith("eval/"), False),
    ("Other", lambda c: True, False),
]


@dataclass
class Figure:
    title: str
    columns: list[str]
    png: bytes


def group_columns(columns: Sequence[str]) -> list[tuple[str, list[str], bool]]:
    """Split columns into the report's groups (each column in the first group that takes it); empty groups dropped."""
    left = list(columns)
    groups = []
    for title, takes, overlay in GROUPS:
        mine = [c for c in left if takes(c)]
        left = [c for c in left if c not in mine]
        if mine:
            groups.append((title, mine, overlay))
    return groups


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    _pyplot().close(fig)
    return buffer.getvalue()


def _plot(ax, steps: list[float], values: list[float], label: str) -> None:
    marker = "o" if len(steps) <= 30 else None  # sparse columns (evaluation) stay visible as dots
    ax.plot(steps, values, label=label, marker=marker, markersize=3, linewidth=1)


def curve_figures(run: RunData) -> list[Figure]:
    """One figure per column group that has at least one finite value."""
    plt = _pyplot()
    figures = []
    for title, columns, overlay in group_columns(run.columns):
        series = {c: run.series(c) for c in columns}
        columns = [c for c in columns if series[c][0]]
        if not columns:
            continue
        if overlay:
            fig, ax = plt.subplots(figsize=(7, 3.2))
            for c in columns:
                _plot(ax, *series[c], c)
            ax.set_xlabel("step")
            ax.legend(fontsize=8)
            ax.grid(alpha=0.3)
            ax.set_title(title)
        else:
            fig, axes = _grid(plt, len(columns))
            for ax, c in zip(axes, columns):
                _plot(ax, *series[c], c)
                ax.set_title(c, fontsize=9)
                ax.set_xlabel("step")
                ax.grid(alpha=0.3)
            fig.suptitle(title)
            fig.tight_layout()
        figures.append(Figure(title, columns, _png(fig)))
    return figures


def _grid(plt, n: int):
    ncols = min(3, n)
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.6 * ncols, 2.8 * nrows), squeeze=False)
    flat = list(axes.flat)
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def overlay_figure(runs: Sequence[RunData], labels: Sequence[str]) -> tuple[bytes, list[str]]:
    """Curves of several runs overlaid: one subplot per column present in at least two runs.

    Returns the PNG and the columns shown (empty: the figure says there is nothing in common).
    """
    plt = _pyplot()
    counts: dict[str, int] = {}
    for run in runs:
        for c in run.columns:
            if run.series(c)[0]:
                counts[c] = counts.get(c, 0) + 1
    order = [c for _, cols, _ in group_columns(list(counts)) for c in cols]
    shared = [c for c in order if counts[c] >= 2]
    if not shared:
        fig, ax = plt.subplots(figsize=(6, 2))
        ax.axis("off")
        ax.text(0.5, 0.5, "no metric column has values in two or more of these runs", ha="center", va="center")
        return _png(fig), []
    fig, axes = _grid(plt, len(shared))
    for ax, c in zip(axes, shared):
        for run, label in zip(runs, labels):
            steps, values = run.series(c)
            if steps:
                _plot(ax, steps, values, label)
        ax.set_title(c, fontsize=9)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    return _png(fig), shared
