"""The figures of `gankit invert`: reconstructions beside the truth, error against the number of measurements,
and a user's reconstructions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from torch import Tensor

__all__ = ["error_figure", "reconstruction_figure", "user_figure"]

FIGURE_COLUMNS = 4


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _show(ax: Any, image: Tensor, title: str = "") -> None:
    picture = image.clamp(0, 1).permute(1, 2, 0).numpy()
    ax.imshow(picture[..., 0] if picture.shape[2] == 1 else picture, cmap="gray", vmin=0, vmax=1)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=7)


def reconstruction_figure(truth: Tensor, shown: dict[tuple[str, int], Tensor], key: str, path: Path) -> None:
    """Rows: truth, then each solver; columns: the first images at the smallest m, then at the largest."""
    plt = _pyplot()
    solvers = list(dict.fromkeys(name for name, _ in shown))
    sizes = list(dict.fromkeys(size for _, size in shown))
    k = len(truth)
    fig, axes = plt.subplots(1 + len(solvers), k * len(sizes), figsize=(0.9 * k * len(sizes), 0.9 * (1 + len(solvers))),
                             squeeze=False)
    for j, size in enumerate(sizes):
        for i in range(k):
            column = j * k + i
            _show(axes[0, column], truth[i], f"{key}={size}" if i == 0 else "")
            for r, name in enumerate(solvers, 1):
                _show(axes[r, column], shown[(name, size)][i])
    for r, name in enumerate(["truth", *solvers]):
        axes[r, 0].set_ylabel(name, fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def error_figure(rows: list[dict[str, Any]], key: str, path: Path) -> None:
    """Per-pixel MSE against m (or views, or factor) for each solver, log y, 95% interval bars."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for name in dict.fromkeys(row["solver"] for row in rows):
        mine = [row for row in rows if row["solver"] == name]
        ax.errorbar([r[key] for r in mine], [r["mse"] for r in mine], yerr=[r["mse_ci95"] for r in mine], marker="o",
                    capsize=2, label=name)
    ax.set(xlabel=key, ylabel="per-pixel MSE", yscale="log")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def user_figure(x: Tensor, solvers: tuple[str, ...], path: Path) -> None:
    """Rows: each solver; columns: the first measurement vectors' reconstructions."""
    plt = _pyplot()
    k = min(x.shape[1], 8)
    fig, axes = plt.subplots(len(solvers), k, figsize=(0.9 * k + 0.6, 0.9 * len(solvers)), squeeze=False)
    for r, name in enumerate(solvers):
        for i in range(k):
            _show(axes[r, i], x[r, i])
        axes[r, 0].set_ylabel(name, fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
