"""Mode collapse, shown: the same players on grid25 trained with each dynamics.

For every dynamics and seed, trains the `grid25` preset's MLP players (R1 off,
so the dynamics alone decide) and scores 2,500 samples: modes captured out of
25, % high-quality samples (within 3σ of a mode) and the reverse KL of the mode
histogram (REFERENCE.md protocol). Prints a Markdown table (mean ± std over
seeds) and writes it with a CSV of every run and the sample scatters to --out.

    python benchmarks/dynamics_modes.py [--steps 3000] [--seeds 0 1 2] [--out runs/dynamics-modes]
"""

from __future__ import annotations

import argparse
import csv
import shutil
import statistics
import time
from pathlib import Path

from gankit.config import load_config
from gankit.data import grid25
from gankit.metrics import mixture_mode_stats
from gankit.train.run import sample_from_run, train

VARIANTS: dict[str, list[str]] = {
    "simultaneous": ["dynamics.name=simultaneous"],
    "alternating k=1": ["dynamics.name=alternating", "dynamics.d_steps=1"],
    "alternating k=5": ["dynamics.name=alternating", "dynamics.d_steps=5"],
    "extragradient": ["dynamics.name=extragradient"],
    "optimistic": ["dynamics.name=optimistic"],
    "unrolled K=5": ["dynamics.name=unrolled", "dynamics.unroll_steps=5"],
}


def run_one(name: str, seed: int, steps: int, width: int, out: Path) -> dict[str, object]:
    """Train one variant with one seed; return its scores and wall time."""
    overrides = [*VARIANTS[name], "loss.r1_gamma=0", f"model.g_width={width}", f"model.d_width={width}",
                 f"train.sample_every={steps}", f"train.checkpoint_every={steps}"]
    config = load_config("grid25", overrides, steps=steps, seed=seed)
    run_dir = out / f"{name.replace(' ', '_').replace('=', '')}-seed{seed}"
    shutil.rmtree(run_dir, ignore_errors=True)
    started = time.perf_counter()
    run = train(config, run_dir, progress=False)
    seconds = time.perf_counter() - started
    mixture = grid25()
    samples = sample_from_run(run.path, 2500, run_dir / "samples_2500.png", seed=seed)
    stats = mixture_mode_stats(samples, mixture.means, mixture.std)
    return {"dynamics": name, "seed": seed, "modes": stats.captured, "hq_percent": 100 * stats.hq_fraction,
            "reverse_kl": stats.reverse_kl, "seconds": seconds}


def summarize(rows: list[dict[str, object]]) -> str:
    """Markdown table: mean ± std over seeds per dynamics."""
    lines = ["| dynamics | modes (of 25) | % HQ | reverse KL | s per run |", "|---|---|---|---|---|"]
    for name in VARIANTS:
        mine = [r for r in rows if r["dynamics"] == name]
        if not mine:
            continue
        cells = [name]
        for key, fmt in (("modes", ".1f"), ("hq_percent", ".1f"), ("reverse_kl", ".2f"), ("seconds", ".0f")):
            values = [float(r[key]) for r in mine]
            spread = statistics.stdev(values) if len(values) > 1 else 0.0
            cells.append(f"{statistics.mean(values):{fmt}} ± {spread:{fmt}}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--only", nargs="*", default=list(VARIANTS), help="subset of dynamics names")
    parser.add_argument("--out", type=Path, default=Path("runs/dynamics-modes"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for name in args.only:
        for seed in args.seeds:
            rows.append(run_one(name, seed, args.steps, args.width, args.out))
            print({k: round(v, 3) if isinstance(v, float) else v for k, v in rows[-1].items()}, flush=True)
    with (args.out / "runs.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    table = summarize(rows)
    (args.out / "table.md").write_text(table + "\n")
    print(f"\ngrid25, {args.steps} steps, MLP width {args.width}, seeds {args.seeds}\n{table}")


if __name__ == "__main__":
    main()
