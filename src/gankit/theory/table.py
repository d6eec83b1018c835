"""Result tables (CSV + Markdown) and figure files shared by the toy analyses."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from pathlib import Path

from matplotlib.figure import Figure

from gankit.atomic import atomic_write, atomic_write_text

__all__ = ["Table", "format_value", "save_figure"]

Cell = str | int | float | complex | None


def format_value(value: Cell, precise: bool = False) -> str:
    """A cell as text: numbers with 6 significant digits (`precise`: all 17), complex as a±bi, None as ""."""
    spec = ".17g" if precise else ".6g"
    if value is None:
        return ""
    if isinstance(value, complex):
        value = complex(value.real + 0.0, value.imag + 0.0)  # no "-0"
        sign = "-" if math.copysign(1.0, value.imag) < 0 else "+"
        return f"{value.real:{spec}}{sign}{abs(value.imag):{spec}}i"
    if isinstance(value, float):
        return f"{value + 0.0:{spec}}"
    return str(value)


@dataclass
class Table:
    """Named columns and rows of cells, written as CSV and as a Markdown table."""

    columns: list[str]
    rows: list[list[Cell]] = field(default_factory=list)

    def add(self, *cells: Cell) -> None:
        """Append one row; it must have one cell per column."""
        if len(cells) != len(self.columns):
            raise ValueError(f"row has {len(cells)} cells for {len(self.columns)} columns")
        self.rows.append(list(cells))

    def column(self, name: str) -> list[Cell]:
        """All cells of one column, in row order."""
        index = self.columns.index(name)
        return [row[index] for row in self.rows]

    def to_csv(self) -> str:
        """CSV with every digit of each number."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(self.columns)
        writer.writerows([format_value(cell, precise=True) for cell in row] for row in self.rows)
        return buffer.getvalue()

    def to_markdown(self) -> str:
        """A Markdown table with 6 significant digits."""
        lines = ["| " + " | ".join(self.columns) + " |", "|" + "---|" * len(self.columns)]
        for row in self.rows:
            lines.append("| " + " | ".join(format_value(cell).replace("|", "\\|") for cell in row) + " |")
        return "\n".join(lines) + "\n"

    def write(self, out_dir: Path, stem: str) -> list[Path]:
        """Write `stem`.csv and `stem`.md into `out_dir`; return both paths."""
        paths = [out_dir / f"{stem}.csv", out_dir / f"{stem}.md"]
        atomic_write_text(paths[0], self.to_csv())
        atomic_write_text(paths[1], self.to_markdown())
        return paths


def save_figure(fig: Figure, path: Path) -> Path:
    """Save a matplotlib Figure (no pyplot, no global backend) as PNG, atomically."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    atomic_write(path, lambda handle: handle.write(buffer.getvalue()))
    return path
