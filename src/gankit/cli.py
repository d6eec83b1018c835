"""`gankit train | sample | presets`: the command line. User mistakes print one line and exit 2."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import torch
import typer
from rich.console import Console
from rich.markup import escape

from gankit.config import config_to_yaml, load_config, preset_names
from gankit.errors import GankitError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="gankit: GANs as games.")
console = Console(stderr=True)


@app.command()
def train(
    source: Annotated[Optional[str], typer.Argument(help="preset name or config YAML file (default: mnist)")] = None,
    out: Annotated[Optional[Path], typer.Option(help="new run directory (default: runs/PRESET-TIME)")] = None,
    steps: Annotated[Optional[int], typer.Option(help="training steps (overrides train.steps)")] = None,
    seed: Annotated[Optional[int], typer.Option(help="random seed (overrides seed)")] = None,
    set_: Annotated[
        Optional[list[str]], typer.Option("--set", help="override a config key, e.g. --set optim.lr_d=1e-4")
    ] = None,
    progress: Annotated[bool, typer.Option(help="show a progress bar")] = True,
    tensorboard: Annotated[
        Optional[bool], typer.Option(help="write TensorBoard events to RUN/tb (default: train.tensorboard, on)")
    ] = None,
    resume: Annotated[Optional[Path], typer.Option(help="continue this run directory from its newest checkpoint")] = None,
    allow_config_change: Annotated[
        bool, typer.Option(help="with --resume: apply --set/--steps changes and record them in the run")
    ] = False,
) -> None:
    """Train a GAN and write a run directory with config, metrics, sample grids, checkpoints and report.html."""
    from gankit.train.run import train as run_training

    overrides = [*(set_ or []), *([f"train.tensorboard={str(tensorboard).lower()}"] if tensorboard is not None else [])]
    if resume is not None:
        from gankit.train.resume import resume_config

        if source is not None or out is not None:
            raise GankitError("--resume continues a run with its own saved config and directory; drop SOURCE/--out")
        config, changes = resume_config(resume, overrides, steps=steps, seed=seed, allow_change=allow_config_change)
        console.print(f"resuming [bold]{escape(str(resume))}[/] to step {config.train.steps}", highlight=False)
        run = run_training(config, resume, progress=progress, resume=True, changes=changes)
        console.print(f"done: report in {run.path / 'report.html'}", highlight=False)
        return
    config = load_config(source, overrides, steps=steps, seed=seed)
    name = Path(source).stem if source else "mnist"
    out = out or Path("runs") / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"
    console.print(f"training [bold]{name}[/] for {config.train.steps} steps into {out}")
    started = time.perf_counter()
    run = run_training(config, out, progress=progress)
    console.print(f"done in {time.perf_counter() - started:.0f} s: samples in {run.samples_dir}, metrics in "
                  f"{run.metrics_path}, report in {run.path / 'report.html'}")


@app.command()
def sample(
    run_dir: Annotated[Path, typer.Argument(help="a run directory written by gankit train")],
    n: Annotated[int, typer.Option("-n", help="number of samples")] = 64,
    out: Annotated[Path, typer.Option(help=".png grid or .npy array")] = Path("samples.png"),
    seed: Annotated[int, typer.Option(help="seed of the latent draws")] = 0,
    label: Annotated[Optional[int], typer.Option(help="class to draw (label-conditional runs)")] = None,
    condition: Annotated[
        Optional[str], typer.Option(help="condition vector to draw with, e.g. 0.3,1.2 (vector-conditional runs)")
    ] = None,
    traverse: Annotated[
        Optional[int], typer.Option(help="InfoGAN: grid sweeping continuous code N (rows: categories or z)")
    ] = None,
) -> None:
    """Draw samples from a trained run's latest checkpoint (EMA weights when kept).

    A label-conditional run draws one row per class unless --label picks one.
    """
    from gankit.train.run import sample_from_run, traverse_run

    if n < 1:
        raise GankitError(f"-n must be at least 1, got {n}")
    if label is not None and condition is not None:
        raise GankitError("give --label (class labels) or --condition (vectors), not both")
    if traverse is not None:
        traverse_run(run_dir, traverse, out, seed=seed)
        console.print(f"wrote a traversal of continuous code {traverse} to {out}")
        return
    conditions = None
    if label is not None:
        conditions = torch.tensor([label])
    elif condition is not None:
        conditions = torch.tensor([_parse_vector(condition)])
    samples = sample_from_run(run_dir, n, out, seed=seed, conditions=conditions)
    console.print(f"wrote {len(samples)} samples to {out}")


def _parse_vector(text: str) -> list[float]:
    try:
        return [float(part) for part in text.split(",")]
    except ValueError:
        raise GankitError(f"--condition {text!r} is not comma-separated numbers; write e.g. --condition 0.3,1.2") from None


@app.command("eval")
def evaluate(
    run_dir: Annotated[Path, typer.Argument(help="a run directory written by gankit train")],
    metrics: Annotated[str, typer.Option(
        help="comma-separated: fid,kid,is,prdc,modes,memorization,per_class,class_accuracy,code_accuracy"
    )] = "fid,kid,is,prdc,modes,memorization,per_class,class_accuracy,code_accuracy",
    n: Annotated[int, typer.Option("--n", help="samples per side (capped by the real data set's size)")] = 5000,
    seed: Annotated[int, typer.Option(help="seed of the latent draws")] = 0,
    inception_weights: Annotated[
        Optional[Path], typer.Option(help="FID Inception-v3 weights file (or set GANKIT_INCEPTION_WEIGHTS)")
    ] = None,
) -> None:
    """Score a run's latest checkpoint: every metric named by its protocol; writes RUN_DIR/eval.json."""
    from gankit.metrics.evaluate import write_evaluation

    chosen = [m.strip() for m in metrics.split(",") if m.strip()]
    results = write_evaluation(run_dir, chosen, n=n, seed=seed, inception_weights=inception_weights)
    width = max(map(len, results))
    for protocol, value in results.items():
        typer.echo(f"{protocol:<{width}}  {value:.6g}")
    console.print(f"wrote {run_dir / 'eval.json'}", highlight=False)


@app.command()
def presets(
    name: Annotated[Optional[str], typer.Argument(help="print this preset's full config as YAML")] = None,
) -> None:
    """List the shipped presets, or print one resolved preset to copy and edit."""
    if name is None:
        for preset in preset_names():
            typer.echo(preset)
    else:
        typer.echo(config_to_yaml(load_config(name)), nl=False)


@app.command()
def dynamics(
    analysis: Annotated[str, typer.Argument(help="bilinear | dirac | landscape | ratio")],
    lr: Annotated[Optional[float], typer.Option(help="step size (default: the analysis' own)")] = None,
    steps: Annotated[Optional[int], typer.Option(help="steps, or for landscape the number of offsets")] = None,
    out: Annotated[Optional[Path], typer.Option(help="output directory (default: runs/dynamics-ANALYSIS)")] = None,
) -> None:
    """Toy analyses of training dynamics: write figures and tables (CSV + Markdown), print the tables."""
    from gankit.theory import run_analysis

    out = out or Path("runs") / f"dynamics-{analysis}"
    report = run_analysis(analysis, out, lr=lr, steps=steps)
    for stem, table in report.tables.items():
        typer.echo(f"{stem}\n{table.to_markdown()}")
    written = ", ".join(p.name for p in report.files)
    console.print(escape(f"{analysis} ({report.settings}): wrote {written} to {out}"), highlight=False,
                  soft_wrap=True)


@app.command()
def rebalance(
    data: Annotated[str, typer.Argument(help="mnist | digits | breast_cancer | wine, an .npy array or a .csv table")],
    labels: Annotated[
        Optional[str], typer.Option(help=".npy: a labels .npy (one integer per row); .csv: the label column's name")
    ] = None,
    target: Annotated[
        str, typer.Option(help="'balanced' (every class up to the largest) or a .json of {class: count}")
    ] = "balanced",
    out: Annotated[Optional[Path], typer.Option(help="new output directory (default: runs/rebalance-DATA-TIME)")] = None,
    imbalance: Annotated[
        Optional[str], typer.Option(help="keep only this fraction of classes in the training part, e.g. 3=0.02,5=0.02")
    ] = None,
    test_fraction: Annotated[float, typer.Option(help="share of each class held out as the real test set")] = 0.2,
    generator: Annotated[
        Optional[Path], typer.Option(help="reuse this label-conditional run instead of training one")
    ] = None,
    config: Annotated[
        Optional[str], typer.Option(help="GAN preset or YAML (default: mnist/digits for images, tabular for vectors)")
    ] = None,
    steps: Annotated[Optional[int], typer.Option(help="GAN training steps (overrides train.steps)")] = None,
    seed: Annotated[int, typer.Option(help="seed of the split, the cut, the GAN and the draws")] = 0,
    set_: Annotated[
        Optional[list[str]], typer.Option("--set", help="override a GAN config key, e.g. --set optim.lr_d=1e-4")
    ] = None,
    evaluate: Annotated[bool, typer.Option(help="score a classifier on real / real+synthetic / synthetic data")] = True,
    progress: Annotated[bool, typer.Option(help="show a progress bar while the GAN trains")] = True,
) -> None:
    """Fill up the small classes of a labelled data set with a conditional GAN's samples, and test whether it helps.

    Holds out a stratified real test set, trains a label-conditional GAN on the rest (or reuses
    --generator), and writes OUT/rebalanced.npz (x, y, synthetic), OUT/rebalanced.csv for CSV input
    and OUT/rebalance.json with the counts and the evaluation.
    """
    from gankit.rebalance import rebalance as run_rebalance

    out = out or Path("runs") / f"rebalance-{Path(data).stem}-{time.strftime('%Y%m%d-%H%M%S')}"
    console.print(f"rebalancing [bold]{escape(data)}[/] into {escape(str(out))}", highlight=False)
    result = run_rebalance(
        data, out=out, labels=labels, target=target, imbalance=imbalance, test_fraction=test_fraction,
        generator=generator, config=config, steps=steps, seed=seed, overrides=set_ or [], evaluate=evaluate,
        progress=progress,
    )
    counts = result.summary["counts"]
    added = sum(counts["synthetic"].values())
    typer.echo(f"{sum(counts['before'].values())} real + {added} synthetic rows: "
               + ", ".join(f"{name} {n}" for name, n in counts["after"].items()))
    if result.table:
        typer.echo(result.table)
    console.print(f"done in {result.summary['seconds']['total']:.0f} s: wrote {escape(str(out))}/rebalanced.npz "
                  "and rebalance.json", highlight=False)


@app.command()
def report(
    run_dir: Annotated[Path, typer.Argument(help="a run directory written by gankit train")],
    out: Annotated[Optional[Path], typer.Option(help="HTML file to write (default: RUN_DIR/report.html)")] = None,
) -> None:
    """Write one self-contained HTML page: config, curves, sample grids, evaluation, alarms, what is missing."""
    from gankit.report import write_report

    started = time.perf_counter()
    summary = write_report(run_dir, out)
    for problem in summary.problems:
        console.print(f"note: {escape(problem)}", highlight=False, soft_wrap=True)
    console.print(escape(f"wrote {summary.path} ({summary.figures} curve figures, {summary.samples} sample grids) "
                         f"in {time.perf_counter() - started:.1f} s"), highlight=False, soft_wrap=True)


@app.command()
def compare(
    run_dirs: Annotated[list[Path], typer.Argument(help="two or more run directories written by gankit train")],
    out: Annotated[Optional[Path], typer.Option(help="output directory (default: runs/compare-TIME)")] = None,
) -> None:
    """Overlay the metric curves of several runs (compare.png) and tabulate their final values (compare.md/.csv)."""
    from gankit.report import compare_runs

    out = out or Path("runs") / f"compare-{time.strftime('%Y%m%d-%H%M%S')}"
    result = compare_runs(run_dirs, out)
    typer.echo(result.markdown, nl=False)
    for label, problems in result.problems.items():
        for problem in problems:
            console.print(escape(f"note: {label}: {problem}"), highlight=False, soft_wrap=True)
    console.print(escape(f"wrote compare.png ({len(result.shared)} shared columns), compare.md and compare.csv "
                         f"to {out}"), highlight=False, soft_wrap=True)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app, turning user mistakes into one line on stderr and exit status 2."""
    from gankit.train.interrupt import TrainingInterrupted

    try:
        code = app(args=argv, standalone_mode=False)
    except TrainingInterrupted as err:
        console.print(f"[bold]interrupted:[/] {escape(str(err))}", highlight=False, soft_wrap=True)
        sys.exit(130)
    except GankitError as err:
        console.print(f"[bold red]error:[/] {escape(str(err))}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except typer.TyperException as err:  # usage errors: unknown option, bad argument type
        if err.format_message():  # empty when `gankit` alone printed the help
            console.print(f"[bold red]error:[/] {escape(err.format_message())} (see gankit --help)",
                          highlight=False, soft_wrap=True)
        sys.exit(2)
    except (KeyboardInterrupt, typer.Abort):
        console.print("interrupted: checkpoints and samples written so far are kept")
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
