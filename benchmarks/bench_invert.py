"""CSGM throughput: images × restarts reconstructed per second, all problems as one batch vs a loop over them.

A DCGAN generator of the `mnist` preset's shape (untrained: the cost does not depend on the weights), a Gaussian
operator with m measurements, `--images` images × `--restarts` restarts of `--steps` Adam steps each. The
batched side is `gankit.inverse.csgm` on every problem at once; the loop side calls it on one image with one
restart at a time (the same starting points, so the same work). Prints problems per second of each and the ratio.

    python benchmarks/bench_invert.py [--images 20] [--restarts 5] [--steps 20] [--m 100] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time

import torch

from gankit.config import load_config
from gankit.experiment import build_experiment
from gankit.inverse import GaussianOperator, csgm, latent_starts
from timing import alternating_medians, machine_line, print_rates, print_ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--restarts", type=int, default=5)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--m", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    config = load_config("mnist")
    generator = build_experiment(config).game.generator.eval()
    latent = config.model.latent_dim
    operator = GaussianOperator((1, 28, 28), args.m, seed=0)
    y = torch.randn(args.images, args.m)
    starts = latent_starts(0, args.images, args.restarts, latent)
    problems = args.images * args.restarts

    def batched() -> float:
        tick = time.perf_counter()
        csgm(generator, operator, y, latent, restarts=args.restarts, steps=args.steps, starts=starts)
        return problems / (time.perf_counter() - tick)

    def loop() -> float:
        tick = time.perf_counter()
        for b in range(args.images):
            for r in range(args.restarts):
                csgm(generator, operator, y[b:b + 1], latent, restarts=1, steps=args.steps,
                     starts=starts[b:b + 1, r:r + 1])
        return problems / (time.perf_counter() - tick)

    print(machine_line())
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads | DCGAN generator (mnist preset), "
          f"Gaussian A {args.m} x 784 | {args.images} images x {args.restarts} restarts, {args.steps} Adam steps")
    rates, median = alternating_medians({"batched": batched, "loop": loop}, args.repeats)
    print_rates(rates, median, "problems/s")
    print_ratio("batched/loop", median["batched"] / median["loop"], None)


if __name__ == "__main__":
    main()
