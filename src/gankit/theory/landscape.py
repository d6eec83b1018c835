"""Why Wasserstein helps: the generator's gradient under an optimal critic, as the fake mass moves away.

Data N(0, σ²), generated N(a, σ²) with small σ (nearly point masses at 0 and a). Normalizations:
JS in nats (at most ln 2; the standard GAN's generator loss under the optimal D is 2·JS − ln 4,
so its gradient is 2·dJS/da); W1 = |a|, so dW1/da = sign(a); and ½W2² = ½a², so d(½W2²)/da = a.
Everything is computed numerically (JS by quadrature, W_p from quantile functions, derivatives
by central differences), and compared with those closed forms in the table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from gankit.theory.divergences import (
    central_difference,
    gaussian_log_pdf,
    gaussian_quantile,
    js_divergence,
    wasserstein,
)
from gankit.theory.table import Table, save_figure

__all__ = ["DEFAULT_POINTS", "TABLE_OFFSETS", "Landscape", "js", "w1", "half_w2_squared", "landscape", "analyze"]

DEFAULT_POINTS = 401
TABLE_OFFSETS = (0.01, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0)
_SPAN = 2.0  # the figure's offsets run over [-_SPAN, _SPAN]


def js(a: float, sigma: float) -> float:
    """JS(N(0, σ²) ‖ N(a, σ²)) in nats, by quadrature over both supports ± 12σ."""
    lo, hi = min(0.0, a) - 12 * sigma, max(0.0, a) + 12 * sigma
    points = max(40_001, int(200 * (hi - lo) / sigma))  # at least 200 points per σ
    return js_divergence(gaussian_log_pdf(0.0, sigma), gaussian_log_pdf(a, sigma), lo, hi, points)


def w1(a: float, sigma: float) -> float:
    """W1(N(0, σ²), N(a, σ²)) from the quantile functions."""
    return wasserstein(gaussian_quantile(0.0, sigma), gaussian_quantile(a, sigma), order=1)


def half_w2_squared(a: float, sigma: float) -> float:
    """½·W2(N(0, σ²), N(a, σ²))² from the quantile functions."""
    return 0.5 * wasserstein(gaussian_quantile(0.0, sigma), gaussian_quantile(a, sigma), order=2) ** 2


@dataclass
class Landscape:
    """Each divergence and its derivative in a, at the offsets `a`."""

    a: np.ndarray
    values: dict[str, np.ndarray]
    gradients: dict[str, np.ndarray]


_DIVERGENCES = {"JS": js, "W1": w1, "½W2²": half_w2_squared}


def landscape(a_values: np.ndarray, sigma: float = 0.05) -> Landscape:
    """Evaluate JS, W1 and ½W2² and their central-difference derivatives (step 10⁻³σ) at each offset."""
    if sigma <= 0:
        raise ValueError(f"sigma must be > 0, got {sigma}")
    h = 1e-3 * sigma
    a_values = np.asarray(a_values, dtype=np.float64)
    values = {name: np.array([f(a, sigma) for a in a_values]) for name, f in _DIVERGENCES.items()}
    gradients = {
        name: np.array([central_difference(lambda b, f=f: f(b, sigma), a, h) for a in a_values])
        for name, f in _DIVERGENCES.items()
    }
    return Landscape(a_values, values, gradients)


def _table(sigma: float) -> Table:
    curves = landscape(np.array(TABLE_OFFSETS), sigma)
    table = Table(["a", "a/sigma", "JS", "ln2 - JS", "dJS/da", "W1", "dW1/da", "1/2 W2^2", "d(1/2 W2^2)/da",
                   "max rel. error vs closed form (W)"])
    for i, a in enumerate(curves.a):
        v, g = ({k: arr[i] for k, arr in d.items()} for d in (curves.values, curves.gradients))
        errors = [abs(v["W1"] - a) / a, abs(g["W1"] - 1.0), abs(v["½W2²"] - 0.5 * a * a) / (0.5 * a * a),
                  abs(g["½W2²"] - a) / a]
        table.add(float(a), float(a / sigma), v["JS"], math.log(2) - v["JS"], g["JS"], v["W1"], g["W1"],
                  v["½W2²"], g["½W2²"], max(errors))
    return table


def _figure(curves: Landscape, sigma: float) -> Figure:
    fig = Figure(figsize=(11, 4.2))
    left, right = fig.subplots(1, 2)
    for name, color in zip(_DIVERGENCES, ("tab:red", "tab:blue", "tab:green"), strict=True):
        left.plot(curves.a, curves.values[name], color=color, label=name)
        right.plot(curves.a, np.maximum(np.abs(curves.gradients[name]), 1e-16), color=color, label=f"|d {name}/da|")
    right.text(0.0, 3e-12, "below ~1e-11: finite-difference round-off", ha="center", fontsize=7, color="0.4")
    left.axhline(math.log(2), color="tab:red", linestyle=":", linewidth=1, label="ln 2")
    left.set(xlabel="offset a of the generated mass", ylabel="divergence", ylim=(0, 2.2),
             title=f"data N(0, σ²), generated N(a, σ²), σ = {sigma}")
    right.set(xlabel="offset a", ylabel="|gradient| for the generator", yscale="log", ylim=(1e-12, 1e2),
              title="the JS gradient vanishes once |a| ≫ σ")
    for ax in (left, right):
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    return fig


def analyze(out_dir: Path, points: int = DEFAULT_POINTS, sigma: float = 0.05) -> tuple[dict[str, Table], list[Path]]:
    """Write the figure `landscape.png` over `points` offsets in [−2, 2] and the table at TABLE_OFFSETS."""
    curves = landscape(np.linspace(-_SPAN, _SPAN, points), sigma)
    figure = save_figure(_figure(curves, sigma), out_dir / "landscape.png")
    table = _table(sigma)
    return {"landscape": table}, [figure, *table.write(out_dir, "landscape")]
