"""The figures of `gankit fields`: generated fields beside training images, statistic curves inside the band of
independent realizations, a field several times the training size beside a real one, and fields conditioned on
observed cells (wells) beside the realization the cells were read from. 2-D fields; 3-D ones by their middle slice.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gankit.fields.protocols import SPREAD, curves

__all__ = ["conditioned_figure", "curves_figure", "large_figure", "samples_figure"]

LABELS = {"s2": "two-point correlation S2(r)", "lineal_path": "lineal path L(r)", "variogram": "variogram γ(r)"}


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _slice(field: np.ndarray) -> np.ndarray:
    return field[field.shape[0] // 2] if field.ndim == 3 else field


def _show(ax, field: np.ndarray, title: str | None = None) -> None:
    ax.imshow(_slice(field), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=8)


def samples_figure(training: np.ndarray, generated: np.ndarray, path: Path, columns: int = 6) -> None:
    """Two rows: training images, then generated fields (phase 1 white), porosity in each title."""
    plt = _plt()
    fig, axes = plt.subplots(2, columns, figsize=(1.6 * columns, 3.6))
    for row, (name, fields) in enumerate((("training", training), ("generated", generated))):
        for column in range(columns):
            _show(axes[row][column], fields[column], f"{name} φ={fields[column].mean():.3f}")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def curves_figure(training: np.ndarray, independent: np.ndarray, generated: np.ndarray, max_lag: int,
                  path: Path) -> None:
    """Each curve statistic: the independent realizations' 5–95% band, the training mean and the generated mean."""
    plt = _plt()
    fig, axes = plt.subplots(1, len(LABELS), figsize=(4.2 * len(LABELS), 3.2))
    lags = np.arange(max_lag + 1)
    for ax, (statistic, label) in zip(axes, LABELS.items()):
        band = np.percentile(curves(independent, statistic, max_lag), SPREAD, axis=0)
        ax.fill_between(lags, band[0], band[1], color="0.85", label="independent realizations, 5–95%")
        ax.plot(lags, curves(training, statistic, max_lag).mean(0), "k-", label="training mean")
        ax.plot(lags, curves(generated, statistic, max_lag).mean(0), "C3--", label="generated mean")
        ax.set_xlabel("lag r (cells)")
        ax.set_title(label, fontsize=9)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def large_figure(large: np.ndarray, reference: np.ndarray, training_size: int, ratio: np.ndarray,
                 path: Path) -> None:
    """A generated field several training sizes wide (training size marked by a grid of thin lines, where tiles
    would meet) beside a real field of that size, and the ratio of their radially averaged power spectra."""
    plt = _plt()
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.4), gridspec_kw={"width_ratios": [1, 1, 1.1]})
    _show(axes[0], large, f"generated, {large.shape[-1]} cells (trained on {training_size})")
    for edge in range(training_size, large.shape[-1], training_size):
        for line in (axes[0].axvline, axes[0].axhline):
            line(edge - 0.5, color="C0", lw=0.4, alpha=0.6)
    _show(axes[1], reference, f"a real realization, {reference.shape[-1]} cells")
    shells = np.arange(1, len(ratio) + 1)
    axes[2].semilogy(shells, ratio, "C3-")
    for harmonic in range(large.shape[-1] // training_size, len(ratio) + 1, large.shape[-1] // training_size):
        axes[2].axvline(harmonic, color="0.8", lw=0.6)
    axes[2].axhline(1, color="k", lw=0.8)
    axes[2].set_xlabel("|k| (cycles per field); grey: harmonics of the training size")
    axes[2].set_title("power spectrum, generated / real", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def conditioned_figure(truth: np.ndarray, cells: np.ndarray, phases: np.ndarray, conditioned: np.ndarray,
                       path: Path) -> None:
    """The realization observed at `cells`, conditioned fields honouring them (red: phase 1 observed, blue: 0),
    and the share of conditioned fields in phase 1 at every cell (the uncertainty away from the data)."""
    plt = _plt()
    shown = min(len(conditioned), 3)
    fig, axes = plt.subplots(1, shown + 2, figsize=(2.6 * (shown + 2), 2.9))
    panels = [(truth, "observed realization")]
    panels += [(field, f"conditioned #{i + 1}") for i, field in enumerate(conditioned[:shown])]
    for ax, (field, title) in zip(axes, panels):
        _show(ax, field, title)
    probability = axes[-1].imshow(_slice(conditioned.mean(0)), cmap="viridis", vmin=0, vmax=1)
    axes[-1].set_title(f"P(phase 1) over {len(conditioned)} draws", fontsize=8)
    axes[-1].set_xticks([])
    axes[-1].set_yticks([])
    fig.colorbar(probability, ax=axes[-1], fraction=0.046)
    for ax in axes:
        ax.scatter(cells[:, -1], cells[:, -2], c=np.where(phases == 1, "red", "dodgerblue"), s=6,
                   edgecolors="white", linewidths=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
