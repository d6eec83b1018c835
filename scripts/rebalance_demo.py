"""The two rebalancing runs of docs/rebalancing.md, their tables, timings and figures.

    python scripts/rebalance_demo.py                 # both (about 5 min on 2 CPU cores)
    python scripts/rebalance_demo.py --only tabular  # breast_cancer alone (under a minute)

(i) the MNIST sample with digits 3 and 5 cut to 2% of their training rows, conditional DCGAN
(`gankit rebalance mnist --imbalance 3=0.02,5=0.02`); (ii) breast_cancer with the malignant class
cut to 10%, conditional MLP GAN (the `tabular` preset). Each writes a run under --out; the tables
go to stdout and OUT/tables.md, pictures of synthetic minority samples to docs/figures/.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import time
from pathlib import Path

import numpy as np
import torch

from gankit.atomic import atomic_write_text
from gankit.rebalance import rebalance
from gankit.viz import save_image_grid

DEMOS = {
    "mnist": dict(source="mnist", imbalance="3=0.02,5=0.02", steps=2000),
    "tabular": dict(source="breast_cancer", imbalance="malignant=0.1", steps=3000),
}


def command_line(source: str, imbalance: str, steps: int, out: Path, seed: int) -> str:
    args = ["gankit", "rebalance", source, "--imbalance", imbalance, "--steps", str(steps), "--seed", str(seed),
            "--out", str(out)]
    return shlex.join(args)


def mnist_figure(out: Path, path: Path, columns: int = 12) -> None:
    """Rows: the real training 3s, synthetic 3s, the real training 5s, synthetic 5s (blank where none)."""
    saved = np.load(out / "rebalanced.npz")
    x, y, synthetic = saved["x"], saved["y"], saved["synthetic"]
    rows = []
    for digit in (3, 5):
        for fake in (False, True):
            picked = x[(y == digit) & (synthetic == fake)][:columns]
            row = np.full((columns, *x.shape[1:]), -1.0, dtype=np.float32)
            row[: len(picked)] = picked
            rows.append(row)
    save_image_grid(torch.from_numpy(np.concatenate(rows)), path, nrow=columns, scale=3)


def tabular_figure(out: Path, path: Path) -> None:
    """Two features of breast_cancer: real benign, real malignant (training part) and synthetic malignant."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.datasets import load_breast_cancer

    names = list(load_breast_cancer().feature_names)
    saved = np.load(out / "rebalanced.npz")
    x, y, synthetic = saved["x"], saved["y"], saved["synthetic"]
    a, b = names.index("worst radius"), names.index("worst concave points")
    fig, ax = plt.subplots(figsize=(5.5, 4.5), dpi=100)
    groups = [((y == 1) & ~synthetic, "real benign", "tab:blue", "o", 8),
              ((y == 0) & synthetic, "synthetic malignant", "tab:orange", "x", 14),
              ((y == 0) & ~synthetic, "real malignant (all the GAN saw)", "tab:red", "o", 40)]
    for mask, label, color, marker, size in groups:
        ax.scatter(x[mask, a], x[mask, b], s=size, c=color, marker=marker, alpha=0.7, label=label)
    ax.set_xlabel(names[a])
    ax.set_ylabel(names[b])
    ax.legend(fontsize=8)
    ax.set_title("breast_cancer training part, rebalanced")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)


def seed_table(results: list[tuple[int, dict]]) -> str:
    """Balanced accuracy and minority recall of (a)/(b)/(c) per seed, and their mean."""
    keys = [("real", "a"), ("real+synthetic", "b"), ("synthetic", "c"), ("real+oversampled", "d")]
    header = "| seed | " + " | ".join(f"bal. acc. ({k})" for _, k in keys) + " | " + \
        " | ".join(f"minority recall ({k})" for _, k in keys) + " |"
    lines = [header, "|" + "---|" * (1 + 2 * len(keys))]
    table = []
    for seed, evaluation in results:
        sets = evaluation["sets"]
        row = [sets[s]["balanced_accuracy"] for s, _ in keys] + [sets[s]["minority_recall"] for s, _ in keys]
        table.append(row)
        lines.append(f"| {seed} | " + " | ".join(f"{v:.3f}" for v in row) + " |")
    lines.append("| mean | " + " | ".join(f"**{v:.3f}**" for v in np.mean(table, axis=0)) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(DEMOS), help="run one of the two demos")
    parser.add_argument("--out", type=Path, default=Path("runs/rebalance-demo"))
    parser.add_argument("--figures", type=Path, default=Path("docs/figures"))
    parser.add_argument("--seeds", type=int, default=1, help="repeat each demo with seeds 0..N-1 (figures: seed 0)")
    args = parser.parse_args()
    machine = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__} "
               f"({torch.get_num_threads()} threads), device auto = {'cuda' if torch.cuda.is_available() else 'cpu'}")
    for name, demo in DEMOS.items():
        if args.only and name != args.only:
            continue
        report, results = [f"machine: {machine}", ""], []
        for seed in range(args.seeds):
            out = args.out / (name if seed == 0 else f"{name}-seed{seed}")
            line = command_line(demo["source"], demo["imbalance"], demo["steps"], out, seed)
            print(f"$ {line}", flush=True)
            started = time.perf_counter()
            result = rebalance(demo["source"], out=out, imbalance=demo["imbalance"], steps=demo["steps"], seed=seed,
                               progress=True)
            wall = time.perf_counter() - started
            summary = result.summary
            results.append((seed, summary["evaluation"]))
            part = [f"    {line}", "", f"before: {summary['counts']['before']}",
                    f"after:  {summary['counts']['after']}", "", result.table, "",
                    f"wall time {wall:.0f} s (GAN training {summary['seconds']['gan_training']:.0f} s)", ""]
            print("\n".join(part), flush=True)
            report += part
            if seed == 0 and name == "mnist":
                mnist_figure(out, args.figures / "rebalance_mnist_minority.png")
            elif seed == 0:
                tabular_figure(out, args.figures / "rebalance_breast_cancer.png")
        if len(results) > 1:
            report.append(seed_table(results))
            print(report[-1])
        args.out.mkdir(parents=True, exist_ok=True)
        atomic_write_text(args.out / f"tables-{name}.md", "\n".join(report) + "\n")
        print(f"wrote {args.out / f'tables-{name}.md'}", flush=True)


if __name__ == "__main__":
    main()
