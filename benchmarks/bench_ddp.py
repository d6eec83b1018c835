"""Data-parallel training with 2 processes (torchrun, gloo) vs 1 process on the same global batch.

Trains the same config (default: the `grid25` MLP preset, global batch 512, no sampling or evaluation
during the run) four times: 1 process and 2 processes, each for `--short` and `--long` steps. The
per-step time is (wall(long) - wall(short)) / (long - short), so start-up (imports, process group,
data) cancels. Prints steps/s for each, their ratio, and the largest weight difference between the
1-process and 2-process runs at `--long` steps (float rounding only; see gankit.distributed).

    .venv/bin/python benchmarks/bench_ddp.py [--preset grid25] [--short 50] [--long 450] [--threads 1]
        [--set KEY=VALUE ...]

`--threads` is each process's OMP_NUM_THREADS; on 2 cores, 1 process with 2 threads is the fair
single-process baseline (`--single-threads 2`, the default).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from gankit.train.checkpoint import load_checkpoint


def _run(out: Path, preset: str, steps: int, nproc: int, threads: int, settings: list[str]) -> float:
    """Wall seconds of one `gankit train` (with --nproc when nproc > 1)."""
    args = [sys.executable, "-m", "gankit", "train", preset, "--steps", str(steps), "--no-progress", "--out", str(out),
            *[a for s in settings for a in ("--set", s)]]
    if nproc > 1:
        args += ["--nproc", str(nproc)]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    started = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"gankit train failed:\n{done.stderr[-3000:]}")
    return elapsed


def _max_difference(a: Path, b: Path, steps: int) -> float:
    one = load_checkpoint(a / "checkpoints" / f"step_{steps:06d}.pt")["players"]
    two = load_checkpoint(b / "checkpoints" / f"step_{steps:06d}.pt")["players"]
    return max(float((one[p][k] - two[p][k]).abs().max()) for p in one for k in one[p] if one[p][k].is_floating_point())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="grid25")
    parser.add_argument("--short", type=int, default=50)
    parser.add_argument("--long", type=int, default=450)
    parser.add_argument("--threads", type=int, default=1, help="OMP_NUM_THREADS of each of the 2 processes")
    parser.add_argument("--single-threads", type=int, default=2, help="OMP_NUM_THREADS of the 1-process run")
    parser.add_argument("--set", dest="settings", action="append", default=[])
    args = parser.parse_args()
    settings = ["train.batch_size=512", "train.sample_every=100000", "train.checkpoint_every=100000",
                "train.tensorboard=false", "train.diagnostics=false", *args.settings]
    print(f"torch {torch.__version__}, {platform.processor() or platform.machine()}, nproc {os.cpu_count()}, "
          f"preset {args.preset}, settings {' '.join(settings)}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        times = {}
        for nproc, threads in ((1, args.single_threads), (2, args.threads)):
            for steps in (args.short, args.long):
                times[nproc, steps] = _run(root / f"p{nproc}_s{steps}", args.preset, steps, nproc, threads, settings)
        rates = {n: (args.long - args.short) / (times[n, args.long] - times[n, args.short]) for n in (1, 2)}
        difference = _max_difference(root / f"p1_s{args.long}", root / f"p2_s{args.long}", args.long)
    print(f"1 process  ({args.single_threads} thread(s)): {rates[1]:8.1f} steps/s")
    print(f"2 processes ({args.threads} thread(s) each, gloo): {rates[2]:8.1f} steps/s")
    print(f"ratio 2-process / 1-process: {rates[2] / rates[1]:.2f}")
    print(f"largest weight difference after {args.long} steps: {difference:.2e}")


if __name__ == "__main__":
    main()
