"""Cost of each dynamics: seconds per DCGAN step relative to simultaneous, and time to converge on the bilinear game.

1. DCGAN (the `mnist` preset's players, width --width) on MNIST-shaped data:
   median seconds per step of every dynamics, divided by simultaneous's. The
   expected ratios are the gradient evaluations per step: simultaneous 1,
   alternating 1 (two half-games), extragradient 2, optimistic 1, unrolled K+1
   (for the discriminator; the second-order generator gradient costs more).
2. The bilinear game min_x max_y xy with SGD step --lr from (1, 0): steps and
   wall time until ‖(x, y)‖ < 1e-3 (or "never" within --max-steps).

    python benchmarks/bench_dynamics.py [--steps 5] [--repeats 5] [--width 32] [--lr 0.3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch

from gankit.config import load_config
from gankit.dynamics import Alternating, BilinearGame, Dynamics, Extragradient, Optimistic, Simultaneous, Unrolled
from gankit.experiment import build_experiment
from gankit.optim import Extrapolation

DYNAMICS: dict[str, list[str]] = {
    "simultaneous": ["dynamics.name=simultaneous"],
    "alternating": ["dynamics.name=alternating"],
    "extragradient": ["dynamics.name=extragradient"],
    "optimistic": ["dynamics.name=optimistic"],
    "unrolled K=5": ["dynamics.name=unrolled", "dynamics.unroll_steps=5"],
}
BILINEAR: dict[str, Callable[[], Dynamics]] = {
    "simultaneous": Simultaneous,
    "alternating": Alternating,
    "extragradient": Extragradient,
    "optimistic": Optimistic,
    "unrolled K=5": lambda: Unrolled(unroll_steps=5, leader="x", follower="y"),
}
EXPECTED = {"simultaneous": 1, "alternating": 1, "extragradient": 2, "optimistic": 1, "unrolled K=5": 6}


def seconds_per_step(overrides: list[str], width: int, steps: int, repeats: int) -> float:
    """Median wall time of one step of the mnist DCGAN under `overrides`."""
    config = load_config("mnist", [*overrides, f"model.g_width={width}", f"model.d_width={width}"])
    exp = build_experiment(config)

    def run(n: int, start: int) -> None:
        for t in range(start, start + n):
            exp.dynamics.step(exp.game, exp.optimizers, lambda: next(exp.batches), t)

    run(2, 0)
    times = []
    for r in range(repeats):
        began = time.perf_counter()
        run(steps, 2 + r * steps)
        times.append((time.perf_counter() - began) / steps)
    return statistics.median(times)


def bilinear_time_to_converge(name: str, lr: float, max_steps: int) -> tuple[int | None, float]:
    """Steps and seconds until ‖(x, y)‖ < 1e-3 on min_x max_y xy, or (None, seconds) if never."""
    game = BilinearGame(torch.tensor([1.0]), torch.tensor([0.0]))
    optimizers = {p: torch.optim.SGD(game.parameters(p), lr=lr) for p in game.players}
    dynamics = BILINEAR[name]()
    if isinstance(dynamics, Extragradient):
        optimizers = {p: Extrapolation(opt) for p, opt in optimizers.items()}
    began = time.perf_counter()
    for t in range(max_steps):
        dynamics.step(game, optimizers, lambda: None, t)
        distance = game.distance()
        if distance < 1e-3:
            return t + 1, time.perf_counter() - began
        if distance > 1e6:
            break
    return None, time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.3)
    parser.add_argument("--max-steps", type=int, default=20_000)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU")
    print(f"\nDCGAN (mnist preset, width {args.width}): seconds per step relative to simultaneous")
    print("| dynamics | ms/step | ratio | expected (gradient evaluations) |\n|---|---|---|---|")
    base = None
    for name, overrides in DYNAMICS.items():
        seconds = seconds_per_step(overrides, args.width, args.steps, args.repeats)
        base = base or seconds
        print(f"| {name} | {1000 * seconds:.1f} | {seconds / base:.2f} | {EXPECTED[name]} |", flush=True)
    print(f"\nbilinear game min_x max_y xy, SGD lr {args.lr}, from (1, 0): time to reach distance 1e-3")
    print("| dynamics | steps | wall time |\n|---|---|---|")
    for name in DYNAMICS:
        steps, seconds = bilinear_time_to_converge(name, args.lr, args.max_steps)
        shown = "never" if steps is None else str(steps)
        print(f"| {name} | {shown} | {seconds * 1000:.0f} ms |")


if __name__ == "__main__":
    main()
