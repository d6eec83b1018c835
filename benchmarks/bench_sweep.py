"""Throughput of a vectorized sweep vs the same members trained one after another (grid25 MLP preset).

Both sides train M members of the `grid25` preset (or `--preset digits`, the small DCGAN; seeds
0..M-1, optionally with a grid of discriminator learning rates), in one process:

1. sequential: each member's own `build_experiment` + `Trainer` (no callbacks), one after another;
2. vectorized: `gankit.sweep.StackedGAN`, all members as one batched computation.

The process keeps freed memory for reuse (`gankit.sweep.memory`, as `gankit sweep` does), which
applies to both sides. Both warm up, then are timed in alternating repeats (each repeat: every member advances `--steps`
steps); the median member-steps/s per side and their ratio (target >= 1.8 for grid25) are printed.
Both sides end after the same number of steps from the same initial weights, data order and latent
draws, so the largest weight difference between each member's two versions is printed last (0: bit
for bit, as for MLPs; DCGAN members agree up to the rounding of grouped convolutions).

    .venv/bin/python benchmarks/bench_sweep.py [--preset grid25|digits] [--members 8] [--steps 20] [--repeats 3]
        [--lrs 5e-4,2e-4]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from functools import partial

import torch

from gankit.config import GANConfig, load_config
from gankit.experiment import build_experiment
from gankit.sweep import StackedGAN
from gankit.sweep.memory import retain_freed_memory
from gankit.train.trainer import Trainer
from timing import alternating_medians, machine_line, print_rates, print_ratio

TARGET_RATIO = 1.8


class Sequential:
    """The members as `gankit train` runs them, each with its own Trainer, advanced one after another."""

    def __init__(self, configs: list[GANConfig]) -> None:
        self.trainers, self.rng_states = [], []
        for config in configs:
            exp = build_experiment(config)
            self.trainers.append(Trainer(exp.game, exp.dynamics, exp.optimizers, exp.batches, steps=0))
            self.rng_states.append(torch.get_rng_state())  # the member's latent stream starts here

    def run(self, n: int) -> None:
        for m, trainer in enumerate(self.trainers):
            torch.set_rng_state(self.rng_states[m])  # continue the member's own latent stream
            trainer.total_steps += n
            trainer.fit()
            self.rng_states[m] = torch.get_rng_state()

    def weights(self, m: int) -> dict[str, dict[str, torch.Tensor]]:
        return {name: module.state_dict() for name, module in self.trainers[m].game.players.items()}


class Vectorized:
    def __init__(self, configs: list[GANConfig]) -> None:
        self.engine = StackedGAN(configs)
        self.step = 0

    def run(self, n: int) -> None:
        for _ in range(n):
            self.engine.step(self.step)
            self.step += 1

    def weights(self, m: int) -> dict[str, dict[str, torch.Tensor]]:
        return self.engine.member_players(m)


def member_steps_per_second(run: Callable[[int], None], steps: int, members: int) -> float:
    start = time.perf_counter()
    run(steps)
    return steps * members / (time.perf_counter() - start)


def print_header(args: argparse.Namespace, configs: list[GANConfig]) -> None:
    print(f"torch {torch.__version__} | device cpu | torch threads {torch.get_num_threads()}")
    print(machine_line())
    model = configs[0].model
    depth = f"depth {model.depth}" if model.arch == "mlp" else f"{configs[0].data.image_size} px"
    print(f"{args.preset} preset: {model.arch} width {model.g_width}/{model.d_width}, {depth}, batch "
          f"{configs[0].train.batch_size}, {configs[0].dynamics.name} dynamics, R1 gamma {configs[0].loss.r1_gamma}; "
          f"{len(configs)} members (lr_d {','.join(f'{c.optim.lr_d:g}' for c in configs[:4])}...)")
    print(f"{args.repeats} x {args.steps} timed steps per member per side after {args.warmup} warm-up steps")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=("grid25", "digits"), default="grid25",
                        help="grid25 (MLP, the issue's target) or digits (small DCGAN)")
    parser.add_argument("--members", type=int, default=8, help="members (seeds 0..M-1; default 8)")
    parser.add_argument("--steps", type=int, default=20, help="timed steps per member per repeat (default 20)")
    parser.add_argument("--repeats", type=int, default=3, help="alternating timed repeats per side (default 3)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps per side first (default 3)")
    parser.add_argument("--lrs", default="5e-4", help="discriminator learning rates cycled over members (default 5e-4)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], help="config override for all members")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    retained = retain_freed_memory()  # process-wide, so both sides run with it (gankit sweep sets it too)
    lrs = args.lrs.split(",")
    configs = [load_config(args.preset, [*args.overrides, f"optim.lr_d={lrs[m % len(lrs)]}", "device=cpu"], seed=m)
               for m in range(args.members)]
    print_header(args, configs)
    print(f"malloc keeps freed blocks (as gankit sweep sets it), both sides: {'yes' if retained else 'no'}")
    sides = {"sequential": Sequential(configs), "vectorized": Vectorized(configs)}
    for side in sides.values():
        side.run(args.warmup)
    rates, median = alternating_medians(
        {name: partial(member_steps_per_second, side.run, args.steps, args.members) for name, side in sides.items()},
        args.repeats,
    )
    print_rates(rates, median, "member-steps/s", digits=1)
    target = TARGET_RATIO if args.preset == "grid25" else None  # the target is for the MLP preset
    print_ratio("vectorized/sequential", median["vectorized"] / median["sequential"], target, digits=2)
    best = max(rates["vectorized"]) / max(rates["sequential"])
    print(f"ratio of the best repeats: {best:.2f} (less sensitive to other load on a shared machine)")
    total = args.warmup + args.repeats * args.steps
    diffs = []
    for m in range(args.members):
        a, b = sides["sequential"].weights(m), sides["vectorized"].weights(m)
        diffs.append(max((a[p][k] - b[p][k]).abs().max().item() for p in a for k in a[p]))
    print(f"max |weight difference| per member after {total} steps: {max(diffs):.2e} (largest), "
          f"{statistics.median(diffs):.2e} (median); 0 means bit for bit")


if __name__ == "__main__":
    main()
