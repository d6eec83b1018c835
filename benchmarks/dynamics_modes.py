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
import math
import shutil
import statistics
import time
from pathlib import Path

import torch

from gankit.config import load_config
from gankit.data import grid25
from gankit.metrics import mixture_mode_stats
from gankit.experiment import eval_forward
from gankit.runs import load_generator, sample_from_run
from gankit.train.run import train

VARIANTS: dict[str, list[str]] = {
    "simultaneous": ["dynamics.name=simultaneous"],
    "alternating k=1": ["dynamics.name=alternating", "dynamics.d_steps=1"],
    "alternating k=5": ["dynamics.name=alternating", "dynamics.d_steps=5"],
    "extragradient": ["dynamics.name=extragradient"],
    "optimistic": ["dynamics.name=optimistic"],
    "unrolled K=5": ["dynamics.name=unrolled", "dynamics.unroll_steps=5"],
}


def run_dir(out: Path, name: str, seed: int) -> Path:
    return out / f"{name.replace(' ', '_').replace('=', '')}-seed{seed}"


def run_one(name: str, seed: int, steps: int, width: int, out: Path) -> dict[str, object]:
    """Train one variant with one seed; return its scores and wall time."""
    overrides = [*VARIANTS[name], "loss.r1_gamma=0", f"model.g_width={width}", f"model.d_width={width}",
                 f"train.sample_every={steps}", f"train.checkpoint_every={steps}"]
    config = load_config("grid25", overrides, steps=steps, seed=seed)
    target = run_dir(out, name, seed)
    shutil.rmtree(target, ignore_errors=True)
    started = time.perf_counter()
    run = train(config, target, progress=False)
    seconds = time.perf_counter() - started
    mixture = grid25()
    samples = sample_from_run(run.path, 2500, target / "samples_2500.png", seed=seed)
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
            finite = [v for v in values if math.isfinite(v)]
            spread = statistics.stdev(finite) if len(finite) > 1 else 0.0
            cell = f"{statistics.mean(finite):{fmt}} ± {spread:{fmt}}" if finite else "∞"
            if 0 < len(finite) < len(values):
                cell += f" (∞ in {len(values) - len(finite)} run: no HQ sample)"
            cells.append(cell)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot_runs(out: Path, seed: int, path: Path) -> None:
    """One scatter per dynamics (the given seed's run), titled with its scores."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    mixture = grid25()
    fig, axes = plt.subplots(2, 3, figsize=(12, 8.4), dpi=90)
    for ax, name in zip(axes.flat, VARIANTS):
        generator, config, _ = load_generator(run_dir(out, name, seed))
        z = torch.randn(2500, config.model.latent_dim, generator=torch.Generator().manual_seed(seed))
        points = eval_forward(generator, z).numpy()
        stats = mixture_mode_stats(points, mixture.means, mixture.std)
        ax.scatter(points[:, 0], points[:, 1], s=2, alpha=0.4)
        ax.scatter(mixture.means[:, 0], mixture.means[:, 1], s=30, marker="x", color="tab:red")
        ax.set(xlim=(-6, 6), ylim=(-6, 6), aspect="equal",
               title=f"{name}: {stats.captured}/25 modes, {100 * stats.hq_fraction:.0f}% HQ")
    fig.suptitle(f"grid25, same players and steps, R1 off (seed {seed})")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


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
    if set(args.only) == set(VARIANTS):
        plot_runs(args.out, args.seeds[0], args.out / "scatter.png")


if __name__ == "__main__":
    main()
