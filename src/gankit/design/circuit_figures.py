"""The figure of `gankit design` on a circuits run: new working circuits, each drawn as a graph beside the
simulated traces that earned its behaviour label."""

from __future__ import annotations

import math
from pathlib import Path

import torch
from torch import Tensor

from gankit.design.circuits import CircuitModel
from gankit.design.graphs import canonical_codes
from gankit.design.library import first_occurrences

__all__ = ["circuits_figure"]

SHOWN = 6  # distinct circuits drawn at most


def circuits_figure(model: CircuitModel, circuits: Tensor, behaviour: str, path: Path) -> None:
    """Up to SHOWN distinct circuits (one per isomorphism class): the graph (green arrows activate, red bars
    repress) and the genes' levels over time: from an asymmetric start for oscillation, from three random starts
    for bistability, after the input step that earned the label for adaptation. An empty set writes a figure that
    says so."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if len(circuits):
        circuits = circuits[first_occurrences(canonical_codes(circuits))[1].sort().values][:SHOWN]
    rows = max(len(circuits), 1)
    fig, axes = plt.subplots(rows, 2, figsize=(8, 2.4 * rows), squeeze=False,
                             gridspec_kw={"width_ratios": [1, 2.2]})
    if not len(circuits):
        axes[0][0].axis("off")
        axes[0][1].text(0.5, 0.5, f"no novel circuit showed {behaviour}", ha="center", va="center")
        axes[0][1].axis("off")
    for (graph_ax, trace_ax), circuit in zip(axes, circuits):
        _draw_graph(graph_ax, circuit)
        times, levels = _traces(model, circuit, behaviour)
        lines = trace_ax.plot(times, levels, lw=1)
        for line, curve in zip(lines, range(levels.shape[1])):
            line.set_color(f"C{curve % circuit.shape[-1]}")  # one colour per gene, whichever start
        trace_ax.legend(lines[: circuit.shape[-1]], [f"gene {i}" for i in range(circuit.shape[-1])], fontsize=7,
                        loc="upper right")
        trace_ax.set(xlabel="time (degradation times)", ylabel="level")
    fig.suptitle(f"new circuits that show {behaviour} (not isomorphic to a training circuit)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _traces(model: CircuitModel, circuit: Tensor, behaviour: str) -> tuple[Tensor, Tensor]:
    """(times (T,), levels (T, curves)) of the simulation behind the label."""
    n = circuit.shape[-1]
    weights = circuit[None]
    if behaviour == "oscillation":
        start = (0.1 + 0.5 * torch.arange(n, dtype=torch.float64)).view(1, 1, n)
        levels = model.simulate(weights, start)[:, 0, 0]
    elif behaviour == "bistability":
        start = 0.01 * torch.exp(torch.rand(1, 3, n, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
                                 * math.log(model.alpha / 0.01))
        levels = model.simulate(weights, start)[:, 0].flatten(1)
    else:  # the step the label found: settle at its input level, then multiply the input by input_step
        level = model.adaptation(weights)[0].view(1, 1)
        settled = model.simulate(weights, torch.full((1, 1, n), 0.5, dtype=torch.float64), signal=level)[-1]
        levels = model.simulate(weights, settled, signal=level * model.input_step)[:, 0, 0]
    return torch.arange(len(levels)) * model.dt, levels


def _draw_graph(ax: object, circuit: Tensor) -> None:
    n = circuit.shape[-1]
    angles = [math.pi / 2 - 2 * math.pi * i / n for i in range(n)]
    spots = [(math.cos(a), math.sin(a)) for a in angles]
    for i in range(n):
        for j in range(n):
            sign = int(circuit[i, j])
            if sign == 0:
                continue
            colour, head = ("tab:green", "-|>") if sign > 0 else ("tab:red", "-[")
            if i == j:
                x, y = spots[i]
                ax.annotate("", xy=(x * 1.12, y * 1.12 + 0.05), xytext=(x * 1.12, y * 1.12 - 0.05),
                            arrowprops={"arrowstyle": head, "color": colour, "connectionstyle": "arc3,rad=-2.5"})
            else:
                ax.annotate("", xy=spots[i], xytext=spots[j],
                            arrowprops={"arrowstyle": head, "color": colour, "shrinkA": 12, "shrinkB": 12,
                                        "connectionstyle": "arc3,rad=0.15"})
    for i, (x, y) in enumerate(spots):
        ax.text(x, y, str(i), ha="center", va="center", bbox={"boxstyle": "circle", "fc": "white"})
    ax.set(xlim=(-1.6, 1.6), ylim=(-1.6, 1.6), aspect="equal")
    ax.axis("off")
