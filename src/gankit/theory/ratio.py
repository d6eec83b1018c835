"""The optimal discriminator is a density-ratio estimator: D*/(1 − D*) = p_data/p_g.

A discriminator trained to convergence with the minimax/non-saturating D loss (binary cross-entropy)
on fresh samples of p_data = N(0, 1) and p_g = N(1, 1.5²) has logit ≈ log p_data − log p_g, and its
value V(D, G) = E_data[log D] + E_g[log(1 − D)] ≈ −log 4 + 2·JS(p_data ‖ p_g) (Goodfellow et al. 2014).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure
from torch import Tensor

from gankit import losses
from gankit.nn import MLPDiscriminator
from gankit.theory.divergences import gaussian_log_pdf, js_divergence
from gankit.theory.table import Table, save_figure

__all__ = ["DATA", "DEFAULT_LR", "DEFAULT_STEPS", "GENERATED", "REGION_DENSITY", "RatioResult", "analyze",
           "central_region", "optimal_value", "ratio_experiment", "train_discriminator", "true_log_ratio"]

DATA = (0.0, 1.0)  # (mean, std) of p_data
GENERATED = (1.0, 1.5)  # (mean, std) of p_g
DEFAULT_LR = 3e-3
DEFAULT_STEPS = 2000
REGION_DENSITY = 0.01  # the log ratio is scored where both densities are at least this
_PLOT_RANGE = (-4.0, 5.5)


def true_log_ratio(x: np.ndarray) -> np.ndarray:
    """log p_data(x) − log p_g(x)."""
    return gaussian_log_pdf(*DATA)(x) - gaussian_log_pdf(*GENERATED)(x)


def central_region(points: int = 1001) -> np.ndarray:
    """An even grid over the interval where both densities are ≥ REGION_DENSITY."""
    x = np.linspace(*_PLOT_RANGE, 100_001)
    both = np.minimum(np.exp(gaussian_log_pdf(*DATA)(x)), np.exp(gaussian_log_pdf(*GENERATED)(x)))
    inside = x[both >= REGION_DENSITY]
    return np.linspace(inside[0], inside[-1], points)


def optimal_value() -> tuple[float, float]:
    """(JS(p_data ‖ p_g) by quadrature, V(D*, G) = −log 4 + 2·JS)."""
    (m1, s1), (m2, s2) = DATA, GENERATED
    lo, hi = min(m1 - 14 * s1, m2 - 14 * s2), max(m1 + 14 * s1, m2 + 14 * s2)
    js = js_divergence(gaussian_log_pdf(*DATA), gaussian_log_pdf(*GENERATED), lo, hi)
    return js, -math.log(4.0) + 2.0 * js


def _samples(n: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    data = DATA[0] + DATA[1] * torch.randn(n, 1, generator=generator)
    generated = GENERATED[0] + GENERATED[1] * torch.randn(n, 1, generator=generator)
    return data, generated


@contextmanager
def _one_thread() -> Iterator[None]:
    """Run torch on one CPU thread inside the block: layers this small gain nothing from more, and
    waiting threads slow them down several times over when the cores are shared."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def train_discriminator(steps: int = DEFAULT_STEPS, lr: float = DEFAULT_LR, batch: int = 1024, hidden: int = 32,
                        depth: int = 2, seed: int = 0) -> MLPDiscriminator:
    """An MLPDiscriminator trained with Adam (cosine-decayed lr) on the BCE D loss, fresh samples every step.

    Seeded: the same arguments give the same network; torch's global RNG is left as it was.
    """
    with _one_thread():
        return _train(steps, lr, batch, hidden, depth, seed)


def _train(steps: int, lr: float, batch: int, hidden: int, depth: int, seed: int) -> MLPDiscriminator:
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        disc = MLPDiscriminator(1, hidden=hidden, depth=depth)
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(disc.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    for _ in range(steps):
        data, generated = _samples(batch, generator)
        loss = losses.minimax.discriminator(real_logits=disc(data), fake_logits=disc(generated))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
    return disc


@dataclass
class RatioResult:
    """The learned vs true log ratio on the central region, and V(D, G) vs its optimum."""

    x: np.ndarray
    learned_log_ratio: np.ndarray
    log_ratio_mae: float
    value: float
    js: float
    optimal_value: float
    seconds: float
    plot_x: np.ndarray
    plot_learned: np.ndarray


def ratio_experiment(steps: int = DEFAULT_STEPS, lr: float = DEFAULT_LR, *, batch: int = 1024, hidden: int = 32,
                     eval_samples: int = 200_000, seed: int = 0) -> RatioResult:
    """Train D, then score its logit against log p_data/p_g and V(D, G) (on fresh samples) against −log 4 + 2·JS."""
    started = time.perf_counter()
    disc = train_discriminator(steps, lr, batch, hidden=hidden, seed=seed)
    seconds = time.perf_counter() - started
    x, plot_x = central_region(), np.linspace(*_PLOT_RANGE, 501)
    with torch.no_grad():
        logit = disc(torch.as_tensor(x, dtype=torch.float32)[:, None]).double().numpy()
        plot_learned = disc(torch.as_tensor(plot_x, dtype=torch.float32)[:, None]).double().numpy()
        data, generated = _samples(eval_samples, torch.Generator().manual_seed(seed + 1))
        value = -losses.minimax.discriminator(real_logits=disc(data), fake_logits=disc(generated)).item()
    js, best = optimal_value()
    mae = float(np.mean(np.abs(logit - true_log_ratio(x))))
    return RatioResult(x, logit, mae, value, js, best, seconds, plot_x, plot_learned)


def _figure(result: RatioResult) -> Figure:
    fig = Figure(figsize=(11, 4.2))
    left, right = fig.subplots(1, 2)
    x = result.plot_x
    left.plot(x, np.exp(gaussian_log_pdf(*DATA)(x)), color="tab:blue", label="p_data = N(0, 1)")
    left.plot(x, np.exp(gaussian_log_pdf(*GENERATED)(x)), color="tab:red", label="p_g = N(1, 1.5²)")
    right.plot(x, true_log_ratio(x), color="black", label="log p_data/p_g (true)")
    right.plot(x, result.plot_learned, color="tab:green", linestyle="--", label="logit of trained D")
    for ax in (left, right):
        ax.axvspan(result.x[0], result.x[-1], color="grey", alpha=0.12, label="scored region")
        ax.set_xlabel("x")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    left.set(ylabel="density", title="the two distributions")
    right.set(ylabel="log ratio", ylim=(-6, 3),
              title=f"log D/(1−D) vs true: MAE {result.log_ratio_mae:.3g} on the scored region")
    return fig


def analyze(out_dir: Path, lr: float = DEFAULT_LR, steps: int = DEFAULT_STEPS) -> tuple[dict[str, Table], list[Path]]:
    """Write ratio.png and ratio.{csv,md} into `out_dir`."""
    result = ratio_experiment(steps, lr)
    table = Table(["quantity", "trained D", "theory", "abs error"])
    region = f"[{result.x[0]:.2f}, {result.x[-1]:.2f}]"
    table.add(f"log D/(1-D) vs log p_data/p_g, mean abs error on {region}", result.log_ratio_mae, 0.0,
              result.log_ratio_mae)
    table.add("V(D, G) = E_data log D + E_g log(1-D) vs -log 4 + 2 JS", result.value, result.optimal_value,
              abs(result.value - result.optimal_value))
    table.add("JS(p_data ‖ p_g), nats (quadrature)", None, result.js, None)
    table.add(f"training: {steps} Adam steps, lr {lr}, batch 1024, seconds", result.seconds, None, None)
    files = [save_figure(_figure(result), out_dir / "ratio.png"), *table.write(out_dir, "ratio")]
    return {"ratio": table}, files
