"""Overhead of observability: training steps per second with diagnostics, alarms, NaN recovery and
TensorBoard on versus all off (target: ≤ 5% slower), measured in one process, runs interleaved.

Both arms write metrics.csv, sample grids and checkpoints as a normal run does; only the
`train.diagnostics`, `train.tensorboard` and `train.nan_retries` switches differ.

    python benchmarks/bench_overhead.py [--presets ring8,digits] [--steps 400] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from gankit.config import load_config
from gankit.train.run import train

ARMS = {
    "off": ["train.diagnostics=false", "train.tensorboard=false", "train.nan_retries=0"],
    "on": ["train.diagnostics=true", "train.tensorboard=true", "train.nan_retries=3"],
}


def seconds(preset: str, arm: str, steps: int, folder: Path) -> float:
    config = load_config(preset, ARMS[arm], steps=steps)
    started = time.perf_counter()
    train(config, folder / f"{preset}-{arm}-{time.monotonic_ns()}", progress=False)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", default="ring8,digits")
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print("| preset | steps | off: steps/s | on: steps/s | overhead (on/off time − 1) |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for preset in args.presets.split(","):
            times: dict[str, list[float]] = {arm: [] for arm in ARMS}
            for _ in range(args.repeats):
                for arm in ARMS:  # interleaved, so drift in machine load hits both arms
                    times[arm].append(seconds(preset, arm, args.steps, Path(tmp)))
            off, on = statistics.median(times["off"]), statistics.median(times["on"])
            print(f"| {preset} | {args.steps} | {args.steps / off:.1f} | {args.steps / on:.1f} | {on / off - 1:+.1%} |")


if __name__ == "__main__":
    main()
