"""The figure of `gankit design`: each method's returned textures in the (λ, A) plane over the target's feasible
solutions."""

from __future__ import annotations

from pathlib import Path

from torch import Tensor

from gankit.design.space import DesignSpace

__all__ = ["designs_figure"]

COLOURS = {"gankit": "tab:red", "random_search": "tab:blue", "gradient_descent": "tab:green"}


def designs_figure(space: DesignSpace, shown: dict[tuple[float, str], tuple[Tensor, Tensor]], tolerance: float,
                   path: Path) -> None:
    """One panel per target: the dense grid's feasible textures within `tolerance` of it (grey), and the returned
    designs (A, λ) of each method (`shown[(target, method)]`), log axes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    targets = list(dict.fromkeys(target for target, _ in shown))
    fig, axes = plt.subplots(1, len(targets), figsize=(4 * len(targets), 3.6), squeeze=False)
    amplitude, wavelength = space.grid(200)
    feasible = space.model.feasible(amplitude, wavelength)
    friction = space.model.friction(amplitude, wavelength)
    for ax, target in zip(axes[0], targets):
        solutions = feasible & ((friction - target).abs() <= tolerance)
        ax.scatter(wavelength[solutions], amplitude[solutions], s=2, c="0.8", label="feasible solutions")
        for (t, method), (a, w) in shown.items():
            if t == target:
                ax.scatter(w[:300], a[:300], s=5, c=COLOURS.get(method, "k"), alpha=0.6, label=method)
        ax.set(xscale="log", yscale="log", xlabel="wavelength λ (μm)", ylabel="amplitude A (μm)",
               title=f"target μ* = {target:.3g}")
        ax.xaxis.set_minor_formatter(NullFormatter())  # the labels of log minor ticks overlap
        ax.yaxis.set_minor_formatter(NullFormatter())
    axes[0][0].legend(fontsize=7, markerscale=3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
