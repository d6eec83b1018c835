"""Training steps per second of gankit's Trainer vs. a hand-written PyTorch loop (DCGAN, MNIST shape).

Both sides train the `mnist` preset's DCGAN (1x28x28, non-saturating loss, Adam, alternating
updates with d_steps=1) in one process from the same seed, on the same batches:

1. gankit: `Trainer` driving the experiment's game, dynamics and optimizers, no callbacks;
2. plain: fresh `DCGANGenerator`/`DCGANDiscriminator`, the loss written inline with F.softplus,
   mirroring `GANGame.losses` + `Alternating.step` op for op.

First both run a few steps from identical weights and RNG state and the largest parameter
difference is printed (should be ~0). Then both warm up and are timed in alternating repeats;
the median steps/s per side, their ratio (target >= 0.95, reported, never fatal), and the
gankit step's achieved GFLOP/s against a measured float32 matmul peak are printed.

Speed options (docs/training.md, "Performance") apply to both sides alike: --precision bf16|fp16
(autocast; fp16 with a GradScaler), --compile (torch.compile of G and D), --channels-last. With
any of them a third side, gankit with the defaults (fp32, eager, contiguous), is timed too and
the option's speed-up over it is printed. The script applies the options itself, so it also
measures what a run would refuse (bf16 on a CPU without native bfloat16).

    .venv/bin/python benchmarks/bench_step.py [--steps N] [--device cpu|cuda] [--width 64] [--batch-size 64]
        [--precision fp32|bf16|fp16] [--compile] [--channels-last]
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.flop_counter import FlopCounterMode

from gankit.config import GANConfig, load_config
from gankit.dynamics import Precision
from gankit.experiment import build_experiment
from gankit.nn import DCGANDiscriminator, DCGANGenerator
from gankit.train.trainer import Trainer
from timing import alternating_medians, machine_line, print_rates, print_ratio

TARGET_RATIO = 0.95


@dataclass(frozen=True)
class Options:
    """The speed options one side runs with."""

    precision: str = "fp32"
    compile: bool = False
    channels_last: bool = False

    @property
    def is_default(self) -> bool:
        return self.precision == "fp32" and not self.compile and not self.channels_last

    def describe(self) -> str:
        parts = [self.precision, "compiled" if self.compile else "eager"]
        return ", ".join(parts + (["channels_last"] if self.channels_last else []))


DEFAULTS = Options()


def with_options(cfg: GANConfig, options: Options) -> GANConfig:
    """`cfg` with train.compile / train.channels_last set (precision is applied to the dynamics directly)."""
    train = cfg.train.model_copy(update={"compile": options.compile, "channels_last": options.channels_last})
    return cfg.model_copy(update={"train": train})


class GankitRunner:
    """The mnist experiment driven by gankit's Trainer, extended `n` steps at a time."""

    def __init__(self, cfg: GANConfig, options: Options = DEFAULTS) -> None:
        exp = build_experiment(with_options(cfg, options))
        # Set directly rather than through train.precision, which a CPU without native bf16 refuses.
        exp.dynamics.precision = Precision(options.precision, exp.device.type)
        self.samples = exp.data.real.samples
        self.generator = exp.game.generator
        self.discriminator = exp.game.discriminator
        self.trainer = Trainer(exp.game, exp.dynamics, exp.optimizers, exp.batches, steps=0)

    def run(self, n: int) -> None:
        self.trainer.total_steps += n
        self.trainer.fit()


def plain_batches(data: Tensor, batch_size: int, seed: int, device: torch.device) -> Iterator[Tensor]:
    """Shuffled full batches forever, a fresh permutation per epoch (the order InfiniteBatches yields)."""
    data = data.to(device)
    order = torch.Generator().manual_seed(seed)
    while True:
        perm = torch.randperm(len(data), generator=order)
        for start in range(0, len(data) - batch_size + 1, batch_size):
            yield data[perm[start : start + batch_size].to(device)]


class PlainRunner:
    """The same training written by hand: two modules, two Adams, one loop."""

    def __init__(self, cfg: GANConfig, samples: Tensor, device: torch.device, options: Options = DEFAULTS) -> None:
        torch.manual_seed(cfg.seed)
        model, optim = cfg.model, cfg.optim
        size = samples.shape[-1]
        self.g = DCGANGenerator(model.latent_dim, channels=1, image_size=size, width=model.g_width).to(device)
        self.d = DCGANDiscriminator(channels=1, image_size=size, width=model.d_width).to(device)
        for module in (self.g, self.d):
            if options.channels_last:
                module.to(memory_format=torch.channels_last)
            if options.compile:
                module.compile()
        dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(options.precision)
        self.autocast = (lambda: torch.autocast(device.type, dtype=dtype)) if dtype else contextlib.nullcontext
        self.scaler = torch.amp.GradScaler(device.type) if options.precision == "fp16" else None
        betas = (optim.beta1, optim.beta2)
        self.opt_g = torch.optim.Adam(self.g.parameters(), lr=optim.lr_g, betas=betas)
        self.opt_d = torch.optim.Adam(self.d.parameters(), lr=optim.lr_d, betas=betas)
        self.g_params = list(self.g.parameters())
        self.latent_dim = model.latent_dim
        self.device = device
        self.batches = plain_batches(samples, cfg.train.batch_size, cfg.seed, device)

    def step(self) -> None:
        # D update: G under no_grad, D(fake) then D(real) as separate forwards (BatchNorm sees each alone).
        real = next(self.batches)
        z = torch.randn(real.shape[0], self.latent_dim, device=self.device)
        with self.autocast():
            with torch.no_grad():
                fake = self.g(z)
            fake_logits = self.d(fake)
            real_logits = self.d(real)
            loss_d = F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()
        self.opt_d.zero_grad(set_to_none=True)
        self._update(loss_d, self.opt_d)
        # G update: Alternating draws a fresh real batch (only its size is used) and a fresh z.
        real = next(self.batches)
        z = torch.randn(real.shape[0], self.latent_dim, device=self.device)
        with self.autocast():
            loss_g = F.softplus(-self.d(self.g(z))).mean()
        self.opt_g.zero_grad(set_to_none=True)
        self._update(loss_g, self.opt_g, inputs=self.g_params)  # G's gradient only, as gankit's autograd.grad

    def _update(self, loss: Tensor, optimizer: torch.optim.Optimizer, inputs: list[Tensor] | None = None) -> None:
        if self.scaler is None:
            loss.backward(inputs=inputs)
            optimizer.step()
        else:
            self.scaler.scale(loss).backward(inputs=inputs)
            self.scaler.step(optimizer)
            self.scaler.update()

    def run(self, n: int) -> None:
        for _ in range(n):
            self.step()


def max_abs_diff(a: nn.Module, b: nn.Module) -> float:
    return max((x - y).abs().max().item() for x, y in zip(a.parameters(), b.parameters(), strict=True))


def check_equivalence(cfg: GANConfig, device: torch.device, options: Options = DEFAULTS, steps: int = 3) -> None:
    """Train both loops `steps` steps from the same weights and RNG state; print how far apart they end.

    Not bit-exact: the inline softplus(-x) rounds differently from gankit's BCE-with-logits, and
    Adam's first steps (≈ lr·sign(grad)) amplify that on near-zero gradients. A real difference in
    the computation (batches, z, loss) moves parameters apart by O(lr), like the steps themselves.
    """
    ours = GankitRunner(cfg, options)
    plain = PlainRunner(cfg, ours.samples, device, options)
    initial = max(max_abs_diff(ours.generator, plain.g), max_abs_diff(ours.discriminator, plain.d))
    g_start = [p.detach().clone() for p in ours.generator.parameters()]
    for runner in (ours, plain):
        torch.manual_seed(cfg.seed + 1)
        runner.run(steps)
    moved = max((p - p0).abs().max().item() for p, p0 in zip(ours.generator.parameters(), g_start, strict=True))
    g_diff, d_diff = max_abs_diff(ours.generator, plain.g), max_abs_diff(ours.discriminator, plain.d)
    verdict = "OK" if max(g_diff, d_diff) < max(1e-5, 0.05 * moved) else "MISMATCH"
    print(f"equivalence ({steps} steps, same init + RNG): init diff {initial:.1e}, max |dG| {g_diff:.2e}, "
          f"max |dD| {d_diff:.2e} (G moved up to {moved:.2e}) -> {verdict}")


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def steps_per_second(run: Callable[[int], None], steps: int, device: torch.device) -> float:
    sync(device)
    start = time.perf_counter()
    run(steps)
    sync(device)
    return steps / (time.perf_counter() - start)


def count_flops(run: Callable[[int], None]) -> int:
    """FLOPs (matmul/conv, forward + backward, both players) of one training step."""
    with FlopCounterMode(display=False) as counter:
        run(1)
    return counter.get_total_flops()


def matmul_peak(device: torch.device, repeats: int = 10, dtype: torch.dtype = torch.float32) -> float:
    """Best torch.mm FLOP/s of `dtype` on `device` over a few sizes (2n³ FLOPs per n×n product).

    A CPU without native bf16/fp16 emulates them some 50x slower than float32: smaller products there.
    """
    if device.type == "cuda":
        sizes = (4096, 8192)
    elif dtype == torch.float32:
        sizes = (1024, 2048)
    else:
        sizes, repeats = (512, 1024), 3
    return max(_matmul_rate(n, device, repeats, dtype) for n in sizes)


def _matmul_rate(n: int, device: torch.device, repeats: int, dtype: torch.dtype) -> float:
    a, b = torch.randn(n, n, device=device, dtype=dtype), torch.randn(n, n, device=device, dtype=dtype)
    out = torch.empty(n, n, device=device, dtype=dtype)
    torch.mm(a, b, out=out)
    best = float("inf")
    for _ in range(repeats):
        sync(device)
        start = time.perf_counter()
        torch.mm(a, b, out=out)
        sync(device)
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best


def print_header(args: argparse.Namespace, device: torch.device) -> None:
    gpu = f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else ""
    print(f"torch {torch.__version__} | device {device}{gpu} | torch threads {torch.get_num_threads()}")
    print(machine_line())
    if device.type == "cuda":
        print(f"cudnn.benchmark {torch.backends.cudnn.benchmark} | cudnn.allow_tf32 {torch.backends.cudnn.allow_tf32} "
              f"| matmul.allow_tf32 {torch.backends.cuda.matmul.allow_tf32}")
    print(
        f"DCGAN mnist preset, 1x28x28, width {args.width}, batch {args.batch_size}; "
        f"{args.repeats} x {args.steps} timed steps per side after {args.warmup} warm-up steps; "
        f"options: {args.options.describe()}"
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, help="timed steps per repeat (default 5 on CPU, 200 on CUDA)")
    parser.add_argument("--repeats", type=int, default=5, help="alternating timed repeats per side (default 5)")
    parser.add_argument("--warmup", type=int, help="untimed steps per side first (default 3 on CPU, 20 on CUDA)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--width", type=int, default=64, help="g_width = d_width (default 64)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--precision", choices=["fp32", "bf16", "fp16"], default="fp32",
                        help="autocast dtype of forward passes and losses (fp16 adds a GradScaler)")
    parser.add_argument("--compile", action="store_true", help="torch.compile G and D (both sides)")
    parser.add_argument("--channels-last", action="store_true", help="channels_last conv weights (both sides)")
    args = parser.parse_args()
    args.options = Options(precision=args.precision, compile=args.compile, channels_last=args.channels_last)
    on_cuda = torch.device(args.device).type == "cuda"
    args.steps = args.steps or (200 if on_cuda else 5)
    args.warmup = args.warmup if args.warmup is not None else (20 if on_cuda else 3)
    return args


def main() -> None:
    args = parse_args()
    overrides = [f"device={args.device}", f"model.g_width={args.width}", f"model.d_width={args.width}"]
    cfg = load_config("mnist", [*overrides, f"train.batch_size={args.batch_size}"])
    device = torch.device(args.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # as a run does (train.cudnn_benchmark); set before any conv
    options = args.options
    print_header(args, device)

    if options.compile:
        print("equivalence: skipped with --compile (it would compile two more pairs of models)")
    else:
        check_equivalence(cfg, device, options)

    ours = GankitRunner(cfg, options)
    plain = PlainRunner(cfg, ours.samples, device, options)
    sides: dict[str, Callable[[int], None]] = {"gankit": ours.run, "plain": plain.run}
    if not options.is_default:
        sides["default"] = GankitRunner(cfg).run  # gankit with fp32, eager, contiguous
    started = time.perf_counter()
    for run in sides.values():
        run(args.warmup)
    if options.compile:
        print(f"warm-up including compilation: {time.perf_counter() - started:.1f} s")
    if options.is_default:
        flops = {name: count_flops(run) for name, run in sides.items()}
    else:  # the eager float32 step does the same work; a compiled graph would hide its ops from the counter
        flops = dict.fromkeys(("gankit", "plain"), count_flops(sides["default"]))
    rates, median = alternating_medians(
        {name: partial(steps_per_second, run, args.steps, device) for name, run in sides.items()}, args.repeats
    )

    print_rates(rates, median, "steps/s")
    print_ratio("gankit/plain", median["gankit"] / median["plain"], TARGET_RATIO)
    if "default" in median:
        print(f"speed-up of {options.describe()} over the defaults (fp32, eager, contiguous): "
              f"{median['gankit'] / median['default']:.3f}x")

    achieved = flops["gankit"] * median["gankit"]
    peak = matmul_peak(device)
    print(f"FLOPs per step: gankit {flops['gankit'] / 1e9:.3f} G, plain {flops['plain'] / 1e9:.3f} G")
    print(f"gankit achieved {achieved / 1e9:.1f} GFLOP/s; float32 mm peak {peak / 1e9:.1f} GFLOP/s "
          f"-> {achieved / peak:.1%} of peak")
    if options.precision != "fp32":
        dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}[options.precision]
        low = matmul_peak(device, dtype=dtype)
        print(f"{options.precision} mm peak {low / 1e9:.1f} GFLOP/s -> {achieved / low:.1%} of that peak")


if __name__ == "__main__":
    main()
