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
) -> None:
    """Train a GAN and write a run directory with config, metrics, sample grids and checkpoints."""
    from gankit.train.run import train as run_training

    config = load_config(source, set_ or [], steps=steps, seed=seed)
    name = Path(source).stem if source else "mnist"
    out = out or Path("runs") / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"
    console.print(f"training [bold]{name}[/] for {config.train.steps} steps into {out}")
    started = time.perf_counter()
    run = run_training(config, out, progress=progress)
    console.print(f"done in {time.perf_counter() - started:.0f} s: samples in {run.samples_dir}, metrics in {run.metrics_path}")


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


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app, turning user mistakes into one line on stderr and exit status 2."""
    try:
        code = app(args=argv, standalone_mode=False)
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
