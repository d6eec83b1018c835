"""The hyperparameter-sensitivity map: per grid cell, the mean of a final metric over seeds ± its spread."""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gankit.atomic import atomic_write

if TYPE_CHECKING:
    from gankit.sweep.scoring import Panel

__all__ = ["Cell", "cells", "save_heatmap"]


@dataclass(frozen=True)
class Cell:
    """One combination of grid values and its members' final numbers (one per seed)."""

    values: tuple[Any, ...]
    numbers: dict[str, list[float]]

    def mean(self, metric: str) -> float:
        return float(np.mean(self.numbers[metric]))

    def std(self, metric: str) -> float:
        """Sample standard deviation across seeds (ddof 1); 0 for a single seed, NaN where a value is infinite."""
        data = self.numbers[metric]
        with np.errstate(invalid="ignore"):  # an infinite reverse KL: inf - inf
            return float(np.std(data, ddof=1)) if len(data) > 1 else 0.0


def cells(rows: Sequence[Mapping[str, Any]], keys: Sequence[str], metrics: Sequence[str]) -> list[Cell]:
    """Group member rows by their values of `keys` (first-seen order); collect each metric per cell."""
    grouped: dict[tuple[Any, ...], dict[str, list[float]]] = {}
    for row in rows:
        numbers = grouped.setdefault(tuple(row[k] for k in keys), {m: [] for m in metrics})
        for metric in metrics:
            numbers[metric].append(float(row[metric]))
    return [Cell(values, numbers) for values, numbers in grouped.items()]


def _label(keys: Sequence[str], values: Sequence[Any]) -> str:
    return ", ".join(f"{k.rsplit('.', 1)[-1]}={_fmt(v)}" for k, v in zip(keys, values, strict=True)) or "all members"


def _fmt(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def save_heatmap(
    rows: Sequence[Mapping[str, Any]], keys: Sequence[str], path: str | Path, *, panels: Sequence[Panel],
    metrics: Sequence[str], title: str = "",
) -> list[Cell]:
    """Write a PNG with one heat map per panel: columns are the first grid key's values, rows the
    combinations of the other keys; each cell shows mean ± std over its seeds. Returns the cells of `metrics`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = cells(rows, keys, metrics)
    columns = list(dict.fromkeys(c.values[:1] for c in table))
    row_keys = list(dict.fromkeys(c.values[1:] for c in table))
    seeds = max(len(c.numbers[metrics[0]]) for c in table)
    width = min(14.0, 2.0 + 1.6 * len(columns) * len(panels))
    height = min(10.0, 1.6 + 0.7 * len(row_keys))
    fig, axes = plt.subplots(1, len(panels), figsize=(width, height), dpi=90, squeeze=False)
    for ax, panel in zip(axes[0], panels, strict=True):
        metric = panel.metric
        grid = np.full((len(row_keys), len(columns)), math.nan)
        for cell in table:
            i, j = row_keys.index(cell.values[1:]), columns.index(cell.values[:1])
            grid[i, j] = cell.mean(metric)
            text = f"{cell.mean(metric):.3g}\n± {cell.std(metric):.2g}"
            ax.text(j, i, text, ha="center", va="center", fontsize=8, color="black",
                    bbox={"facecolor": "white", "alpha": 0.6, "pad": 1, "edgecolor": "none"})
        cmap = "viridis_r" if panel.lower_is_better else "viridis"  # yellow is good either way
        image = ax.imshow(grid, cmap=cmap, vmin=panel.low, vmax=panel.high, aspect="auto")
        fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
        ax.set_xticks(range(len(columns)), [_label(keys[:1], c) for c in columns], fontsize=8)
        ax.set_yticks(range(len(row_keys)), [_label(keys[1:], r) for r in row_keys], fontsize=8)
        ax.set_title(f"{panel.title} (mean ± std, {seeds} seed{'s' if seeds > 1 else ''})", fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    atomic_write(path, lambda handle: handle.write(buffer.getvalue()))
    return table
