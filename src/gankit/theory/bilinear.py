"""The bilinear game min_x max_y xy under every dynamics: trajectories and measured vs closed-form rates."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure

from gankit.dynamics import (
    Alternating,
    BilinearGame,
    Dynamics,
    Extragradient,
    Optimistic,
    Simultaneous,
    Unrolled,
    bilinear_spectral_radius,
    bilinear_step_matrix,
)
from gankit.dynamics.toy import BILINEAR_DYNAMICS
from gankit.optim import Extrapolation
from gankit.theory.table import Table, save_figure
from gankit.theory.trajectory import Trajectory, run_trajectory

__all__ = ["DEFAULT_LR", "DEFAULT_STEPS", "DYNAMICS", "UNROLL_STEPS", "analyze", "closed_form_rate",
           "measured_rate", "rate_table", "trajectory"]

DEFAULT_LR = 0.2
DEFAULT_STEPS = 200
UNROLL_STEPS = 5
DYNAMICS = BILINEAR_DYNAMICS  # every dynamics with a closed form on this game
_COLORS = dict(zip(DYNAMICS, ("tab:red", "tab:blue", "tab:green", "tab:purple", "tab:orange"), strict=True))


def _dynamics(name: str) -> Dynamics:
    factories = {
        "simultaneous": Simultaneous,
        "alternating": Alternating,
        "extragradient": Extragradient,
        "optimistic": Optimistic,
        "unrolled": lambda: Unrolled(unroll_steps=UNROLL_STEPS, leader="x", follower="y"),
    }
    return factories[name]()


def trajectory(name: str, lr: float, steps: int) -> Trajectory:
    """Run the real dynamics class `name` with SGD(lr) (wrapped in Extrapolation for extragradient) from (1, 0)."""
    game = BilinearGame(torch.tensor([1.0]), torch.tensor([0.0]))
    optimizers = {}
    for player in game.players:
        sgd = torch.optim.SGD(game.parameters(player), lr=lr)
        optimizers[player] = Extrapolation(sgd) if name == "extragradient" else sgd
    return run_trajectory(game, _dynamics(name), optimizers, None, steps,
                          lambda: (game.x.value.item(), game.y.value.item()))


def measured_rate(path: Trajectory) -> float:
    """Geometric mean of ‖z_{t+1}‖/‖z_t‖ over the second half of the steps run."""
    distances, n = path.distances, path.steps_done
    half = n // 2
    return float((distances[n] / distances[half]) ** (1.0 / (n - half)))


def closed_form_rate(name: str, lr: float) -> tuple[float, str]:
    """ρ from `bilinear_spectral_radius`, or, where it has none (alternating, lr ≥ 2), the largest
    |eigenvalue| of `bilinear_step_matrix`; with the name of the source."""
    try:
        return bilinear_spectral_radius(name, lr, unroll_steps=UNROLL_STEPS), "bilinear_spectral_radius"
    except ValueError:
        matrix = bilinear_step_matrix(name, lr, unroll_steps=UNROLL_STEPS)
        return float(np.abs(np.linalg.eigvals(matrix)).max()), "eig(bilinear_step_matrix)"


def rate_table(paths: dict[str, Trajectory], lr: float) -> Table:
    """Per dynamics: measured rate vs closed form, relative error, and where the run stopped."""
    table = Table(["dynamics", "lr", "steps run", "measured rate", "closed-form rate", "relative error",
                   "final distance", "closed form from", "note"])
    for name, path in paths.items():
        rho, source = closed_form_rate(name, lr)
        rate = measured_rate(path)
        table.add(name, lr, path.steps_done, rate, rho, abs(rate - rho) / rho, float(path.distances[-1]), source,
                  path.note())
    return table


def _figure(paths: dict[str, Trajectory], lr: float) -> Figure:
    fig = Figure(figsize=(13, 8.2))
    axes = fig.subplots(2, 3).ravel()
    for ax, (name, path) in zip(axes, paths.items()):
        ax.plot(path.points[:, 0], path.points[:, 1], color=_COLORS[name], linewidth=0.9)
        ax.plot(*path.points[0], "o", color="black", markersize=4, label="start (1, 0)")
        ax.plot(0, 0, "*", color="gold", markeredgecolor="black", markersize=13, label="equilibrium")
        ax.set_aspect("equal", adjustable="datalim")
        title = f"unrolled (K={UNROLL_STEPS}, leader x)" if name == "unrolled" else name
        ax.set(title=title, xlabel="x (minimizes xy)", ylabel="y (maximizes xy)")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8, loc="lower left")
    ax = axes[len(paths)]
    for name, path in paths.items():
        rho, _ = closed_form_rate(name, lr)
        t = np.arange(path.steps_done + 1)
        half = path.steps_done // 2
        ax.plot(t, path.distances, color=_COLORS[name], label=f"{name}  ρ={rho:.4f}")
        ax.plot(t, path.distances[half] * rho ** (t - half), color="black", linestyle="--", linewidth=0.8)
    ax.set(yscale="log", xlabel="step t", ylabel="‖(x, y)‖", title="distance to equilibrium (dashed: closed-form ρ^t)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.suptitle(f"min_x max_y xy, SGD step η = {lr}")
    fig.tight_layout()
    return fig


def analyze(out_dir: Path, lr: float = DEFAULT_LR, steps: int = DEFAULT_STEPS) -> tuple[dict[str, Table], list[Path]]:
    """Write bilinear.png and bilinear.{csv,md} into `out_dir`."""
    paths = {name: trajectory(name, lr, steps) for name in DYNAMICS}
    table = rate_table(paths, lr)
    files = [save_figure(_figure(paths, lr), out_dir / "bilinear.png"), *table.write(out_dir, "bilinear")]
    return {"bilinear": table}, files
