"""Dirac-GAN analysis: phase portraits with simultaneous/alternating trajectories, and the Jacobian table."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure

from gankit import losses
from gankit.dynamics import Alternating, Simultaneous
from gankit.theory.dirac import (
    closed_form_eigenvalues,
    coupling,
    dirac_game,
    eigenvalue_error,
    field_on_grid,
    jacobian,
    read_point,
    real_batch,
)
from gankit.theory.table import Table, save_figure
from gankit.theory.trajectory import Trajectory, run_trajectory

__all__ = ["DEFAULT_LR", "DEFAULT_STEPS", "REGULARIZERS", "START", "TABLE_GAMMAS", "Regularizer", "analyze",
           "jacobian_table", "trajectory"]

DEFAULT_LR = 0.1
DEFAULT_STEPS = 500
START = (1.0, 1.0)  # (θ, ψ) where every trajectory begins
TABLE_GAMMAS = (0.0, 0.5, 1.0, 3.0)
_SPAN = 2.0  # portraits cover [−_SPAN, _SPAN]²
_GRID = 21


@dataclass(frozen=True)
class Regularizer:
    """A label and the discriminator's R1 weight γ / WGAN-GP weight."""

    label: str
    r1_gamma: float = 0.0
    gp_weight: float = 0.0


REGULARIZERS = (Regularizer("none"), Regularizer("R1 γ=1", r1_gamma=1.0), Regularizer("GP λ=1", gp_weight=1.0))
_DYNAMICS = {"simultaneous": Simultaneous, "alternating": Alternating}


def trajectory(loss: str, regularizer: Regularizer, dynamics: str, lr: float, steps: int) -> Trajectory:
    """Run the real dynamics class with SGD(lr) on the Dirac-GAN from START."""
    game = dirac_game(loss, *START, r1_gamma=regularizer.r1_gamma, gp_weight=regularizer.gp_weight)
    optimizers = {p: torch.optim.SGD(game.parameters(p), lr=lr) for p in game.players}
    return run_trajectory(game, _DYNAMICS[dynamics](), optimizers, real_batch(), steps, lambda: read_point(game))


def jacobian_table(gammas: tuple[float, ...] = TABLE_GAMMAS) -> Table:
    """Eigenvalues of the autograd Jacobian at (0, 0) vs the closed form, per loss and R1 weight γ."""
    table = Table(["loss", "R1 gamma", "c = -g'(0)h'(0)", "lambda1 (autograd)", "lambda2 (autograd)",
                   "lambda1 (closed form)", "lambda2 (closed form)", "max abs error", "locally convergent"])
    for loss in losses.names():
        for gamma in gammas:
            measured = np.linalg.eigvals(jacobian(dirac_game(loss, r1_gamma=gamma)))
            measured = sorted(measured, key=lambda z: (-z.real, -z.imag))
            expected = closed_form_eigenvalues(loss, gamma)
            converges = "yes" if max(e.real for e in expected) < 0 else "no"
            table.add(loss, gamma, coupling(loss), complex(measured[0]), complex(measured[1]), *expected,
                      eigenvalue_error(np.array(measured), expected), converges)
    return table


def _portraits(lr: float, steps: int) -> tuple[Figure, Table]:
    grid = np.linspace(-_SPAN, _SPAN, _GRID)
    names = losses.names()
    fig = Figure(figsize=(3.4 * len(REGULARIZERS), 3.2 * len(names)))
    axes = fig.subplots(len(names), len(REGULARIZERS), squeeze=False)
    table = Table(["loss", "regularizer", "dynamics", "steps run", "final theta", "final psi",
                   "final distance to (0,0)", "note"])
    for row, loss in enumerate(names):
        for col, reg in enumerate(REGULARIZERS):
            ax = axes[row][col]
            u, v = field_on_grid(dirac_game(loss, r1_gamma=reg.r1_gamma, gp_weight=reg.gp_weight), grid, grid)
            ax.streamplot(grid, grid, u, v, color="0.6", density=0.5, linewidth=0.7)
            for name, color in (("simultaneous", "tab:red"), ("alternating", "tab:blue")):
                path = trajectory(loss, reg, name, lr, steps)
                ax.plot(path.points[:, 0], path.points[:, 1], color=color, linewidth=1.0, label=name)
                table.add(loss, reg.label, name, path.steps_done, *map(float, path.points[-1]),
                          float(path.distances[-1]), path.note())
            ax.plot(*START, "o", color="black", markersize=4)
            ax.plot(0, 0, "*", color="gold", markeredgecolor="black", markersize=12)
            ax.set(xlim=(-_SPAN, _SPAN), ylim=(-_SPAN, _SPAN), title=f"{loss}, {reg.label}")
            ax.set_xlabel("θ (generator)", fontsize=8)
            ax.set_ylabel("ψ (discriminator)", fontsize=8)
    axes[0][0].legend(fontsize=7, loc="lower left")
    fig.suptitle(f"Dirac-GAN gradient fields, SGD lr={lr}, {steps} steps from (θ, ψ) = {START}; ★ equilibrium",
                 y=1.0)
    fig.tight_layout()
    return fig, table


def analyze(out_dir: Path, lr: float = DEFAULT_LR, steps: int = DEFAULT_STEPS) -> tuple[dict[str, Table], list[Path]]:
    """Write dirac_portraits.png, dirac_jacobian.{csv,md} and dirac_trajectories.{csv,md} into `out_dir`."""
    fig, trajectories = _portraits(lr, steps)
    files = [save_figure(fig, out_dir / "dirac_portraits.png")]
    tables = {"dirac_jacobian": jacobian_table(), "dirac_trajectories": trajectories}
    for stem, table in tables.items():
        files += table.write(out_dir, stem)
    return tables, files
