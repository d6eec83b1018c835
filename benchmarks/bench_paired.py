"""Training steps per second of gankit's paired (image-to-image) step vs. a hand-written PyTorch loop.

Both sides train the `mnist_sr4` preset's players (SRResNet x4 generator, PatchGAN critic, L1 content +
1e-3 x non-saturating adversarial loss, Adam, alternating updates: critic then generator) in one process
from the same weights, on the same batches:

1. gankit: `Trainer` driving the experiment's `PairedGame`, dynamics and optimizers, no callbacks;
2. plain: copies of the same two modules and the losses written inline, mirroring `GANGame.losses` +
   `Alternating.step` op for op.

First both run a few steps from identical weights and the largest parameter difference is printed (should
be ~0). Then both are timed in alternating repeats; the median steps/s per side and their ratio are printed
(target >= 0.95, reported, never fatal: the machines are shared and noisy).

    .venv/bin/python benchmarks/bench_paired.py [--steps 20] [--repeats 5]
"""

from __future__ import annotations

import argparse
import copy
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gankit.config import load_config
from gankit.experiment import build_experiment
from gankit.train.trainer import Trainer
from timing import alternating_medians, machine_line, print_rates, print_ratio

TARGET_RATIO = 0.95


def plain_step(generator: nn.Module, critic: nn.Module, optimizers: dict[str, torch.optim.Optimizer],
               batches: Callable[[], dict[str, Tensor]], weight: float) -> None:
    """One alternating step written out: the critic on a batch, then the generator on the next batch."""
    batch = batches()
    with torch.no_grad():
        fake = generator(batch["inputs"])
    fake_logits = critic(fake)  # fake first, then real: the game's order (BatchNorm statistics follow it)
    loss_d = F.softplus(-critic(batch["targets"])).mean() + F.softplus(fake_logits).mean()
    optimizers["discriminator"].zero_grad(set_to_none=True)
    loss_d.backward()
    optimizers["discriminator"].step()
    batch = batches()
    fake = generator(batch["inputs"])
    loss_g = weight * F.softplus(-critic(fake)).mean() + (fake - batch["targets"]).abs().mean()
    grads = torch.autograd.grad(loss_g, list(generator.parameters()))
    for param, grad in zip(generator.parameters(), grads, strict=True):
        param.grad = grad
    optimizers["generator"].step()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    config = load_config("mnist_sr4")
    exp = build_experiment(config)
    generator, critic = copy.deepcopy(exp.game.generator), copy.deepcopy(exp.game.discriminator)
    betas = (config.optim.beta1, config.optim.beta2)
    plain_optimizers = {"generator": torch.optim.Adam(generator.parameters(), config.optim.lr_g, betas=betas),
                        "discriminator": torch.optim.Adam(critic.parameters(), config.optim.lr_d, betas=betas)}
    batches = [next(exp.batches) for _ in range(2 * args.steps)]
    trainer = Trainer(exp.game, exp.dynamics, exp.optimizers, iter(batches), steps=0)

    def gankit_rate() -> float:
        trainer.batches = iter(batches)
        trainer.step, trainer.total_steps = 0, args.steps
        started = time.perf_counter()
        trainer.fit()
        return args.steps / (time.perf_counter() - started)

    def plain_rate() -> float:
        feed = iter(batches)
        generator.train(), critic.train()
        started = time.perf_counter()
        for _ in range(args.steps):
            plain_step(generator, critic, plain_optimizers, lambda: next(feed), config.loss.adversarial_weight)
        return args.steps / (time.perf_counter() - started)

    print(machine_line())
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; mnist_sr4 players, batch "
          f"{config.train.batch_size}, {args.steps} steps per repeat")
    gankit_rate(), plain_rate()  # the same steps from the same weights: the two must agree
    difference = max((a - b).abs().max().item() for a, b in zip(
        [*exp.game.generator.parameters(), *exp.game.discriminator.parameters()],
        [*generator.parameters(), *critic.parameters()], strict=True))
    print(f"largest parameter difference after {args.steps} identical steps: {difference:.2e}")
    rates, median = alternating_medians({"gankit": gankit_rate, "plain": plain_rate}, args.repeats)
    print_rates(rates, median, "steps/s")
    print_ratio("gankit/plain", median["gankit"] / median["plain"], TARGET_RATIO)


if __name__ == "__main__":
    main()
