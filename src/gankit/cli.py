"""`gankit train | sample | eval | ...`: the command line (the workflow commands are in cli_workflows.py).
User mistakes print one line and exit 2."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import torch
import typer
from rich.console import Console
from rich.markup import escape

from gankit.config import RunConfig, config_to_yaml, load_config, preset_names
from gankit.errors import GankitError
from gankit.cli_workflows import register as register_workflows
from gankit.metrics.names import FAMILIES

app = typer.Typer(add_completion=False, no_args_is_help=True, help="gankit: GANs as games.")
console = Console(stderr=True)
_ALL_METRICS = ",".join(FAMILIES)
_ARGUMENTS: list[str] = []  # this invocation's arguments, for --nproc to hand them to torchrun


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
    nproc: Annotated[
        Optional[int], typer.Option(help="data-parallel processes on this machine (starts torchrun; needs --out)")
    ] = None,
) -> None:
    """Train a GAN (or another game kind) into a run directory: config, metrics, sample grids, checkpoints, report.

    Under torchrun (or with --nproc N) each process trains its share of every batch; rank 0 writes the run.
    """
    from gankit.distributed import topology_from_env
    from gankit.train.run import train as run_training

    if nproc is not None:
        _relaunch_under_torchrun(nproc, out, resume)
        return
    topology = topology_from_env()
    if topology.distributed and out is None and resume is None:
        raise GankitError(f"under torchrun ({topology.world_size} processes) give --out, so every process uses "
                          "the same run directory")
    say = console.print if topology.is_main else (lambda *args, **kwargs: None)

    overrides = [*(set_ or []), *([f"train.tensorboard={str(tensorboard).lower()}"] if tensorboard is not None else [])]
    if resume is not None:
        from gankit.train.resume import resume_config

        if source is not None or out is not None:
            raise GankitError("--resume continues a run with its own saved config and directory; drop SOURCE/--out")
        config, changes = resume_config(resume, overrides, steps=steps, seed=seed, allow_change=allow_config_change)
        say(f"resuming [bold]{escape(str(resume))}[/] to step {config.train.steps}", highlight=False)
        run = run_training(config, resume, progress=progress, resume=True, changes=changes)
        say(f"done: report in {run.path / 'report.html'}", highlight=False)
        return
    config = load_config(source, overrides, steps=steps, seed=seed)
    name = Path(source).stem if source else "mnist"
    out = out or Path("runs") / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"
    say(f"training [bold]{name}[/]{_data_note(name, config)} for {config.train.steps} steps into {out}",
        soft_wrap=True)
    started = time.perf_counter()
    run = run_training(config, out, progress=progress)
    samples = f"samples in {run.samples_dir}, " if any(run.samples_dir.glob("*")) else ""
    say(f"done in {time.perf_counter() - started:.0f} s: {samples}metrics in {run.metrics_path}, report in "
        f"{run.path / 'report.html'}")


def _data_note(name: str, config: RunConfig) -> str:
    """The announcement's "(data: X)" when the config trains on data X that `name` does not name (a preset with
    --set data.name=X); nothing when it does, or when the kind's data has no `name`."""
    data = getattr(getattr(config, "data", None), "name", None)
    return f" (data: {data})" if isinstance(data, str) and data not in name else ""


def _relaunch_under_torchrun(nproc: int, out: Path | None, resume: Path | None) -> None:
    """`gankit train --nproc N ...` = `torchrun --standalone --nproc_per_node N -m gankit train ...` (this
    machine only; for several machines call torchrun with its rendezvous options, see docs/distributed.md)."""
    from torch.distributed.run import main as torchrun

    if nproc < 1:
        raise GankitError(f"--nproc must be at least 1, got {nproc}")
    if out is None and resume is None:
        raise GankitError("--nproc needs --out (or --resume), so every process uses the same run directory")
    args = _ARGUMENTS
    drop = {i for i, arg in enumerate(args) if arg == "--nproc" or arg.startswith("--nproc=")}
    drop |= {i + 1 for i in drop if args[i] == "--nproc"}
    rest = [arg for i, arg in enumerate(args) if i not in drop]
    from torch.distributed.elastic.multiprocessing.api import SignalException

    from gankit.train.interrupt import TrainingInterrupted

    try:
        torchrun(["--standalone", f"--nproc_per_node={nproc}", "-m", "gankit", *rest])
    except SignalException as err:  # torchrun passed the signal on; rank 0 wrote a checkpoint if training had begun
        raise TrainingInterrupted(
            f"stopped by {err.sigval.name}; continue with `gankit train --nproc {nproc} --resume {resume or out}`"
        ) from None
    except Exception as err:  # torchrun's ChildFailedError: the workers printed their own errors above
        raise GankitError(f"a training process failed ({type(err).__name__}); its error is printed above") from None


@app.command()
def sweep(
    source: Annotated[str, typer.Argument(help="preset name or config YAML file (e.g. grid25)")],
    seeds: Annotated[int, typer.Option(help="seeds per grid cell: seed, seed+1, ... (seed from the config/--seed)")] = 1,
    grid: Annotated[
        Optional[list[str]], typer.Option("--grid", help="a swept key and its values, e.g. --grid optim.lr_d=1e-4,4e-4")
    ] = None,
    steps: Annotated[Optional[int], typer.Option(help="training steps of every member (overrides train.steps)")] = None,
    seed: Annotated[Optional[int], typer.Option(help="first seed (overrides seed)")] = None,
    set_: Annotated[
        Optional[list[str]], typer.Option("--set", help="override a config key of every member, e.g. --set train.batch_size=128")
    ] = None,
    out: Annotated[Optional[Path], typer.Option(help="new sweep directory (default: runs/sweep-SOURCE-TIME)")] = None,
    eval_every: Annotated[
        Optional[int], typer.Option(help="score members every N steps (default: train.sample_every) and at the end")
    ] = None,
    eval_n: Annotated[int, typer.Option(help="image sweeps: samples per member for FID and precision/recall")] = 1000,
    progress: Annotated[bool, typer.Option(help="print the scores as the sweep goes")] = True,
) -> None:
    """Train many small GANs (seeds x grid) as one batched computation; write a sensitivity heat map."""
    from gankit.sweep import expand_members, parse_grid, run_sweep

    if eval_every is not None and eval_every < 1:
        raise GankitError(f"--eval-every must be at least 1, got {eval_every}")
    if eval_n < 2:
        raise GankitError(f"--eval-n must be at least 2, got {eval_n}")
    axes = parse_grid(grid or [])
    members = expand_members(source, axes, seeds, set_ or [], steps=steps, seed=seed)
    out = out or Path("runs") / f"sweep-{Path(source).stem}-{time.strftime('%Y%m%d-%H%M%S')}"
    console.print(f"sweeping [bold]{escape(source)}[/]: {len(members)} members for {members[0].config.train.steps} "
                  f"steps into {escape(str(out))}", highlight=False)
    notify = (lambda line: console.print(escape(line), highlight=False)) if progress else None
    result = run_sweep(members, out, axes, eval_every=eval_every, eval_n=eval_n, notify=notify)
    typer.echo(f"scores ({result.scoring.protocol}), mean ± std over seeds:")
    for cell in result.cells:
        label = ", ".join(f"{a.key}={v}" for a, v in zip(axes, cell.values, strict=True)) or "all members"
        scores = ", ".join(f"{p.metric} {cell.mean(p.metric):.3g} ± {cell.std(p.metric):.2g}"
                           for p in result.scoring.panels)
        typer.echo(f"{label}: {scores}")
    console.print(f"done in {result.train_seconds:.0f} s ({result.member_steps_per_second:.1f} member-steps/s): "
                  f"{escape(str(out / 'sweep.csv'))}, {escape(str(out / 'sweep_heatmap.png'))}", highlight=False,
                  soft_wrap=True)


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
    checkpoint: Annotated[
        str, typer.Option(help="which checkpoint: latest, best (train.best_metric) or a step number")
    ] = "latest",
    size: Annotated[Optional[int], typer.Option(help="fields runs: cells per axis (a multiple of the stride)")] = None,
    porosity: Annotated[Optional[float], typer.Option(help="fields runs: target share of phase 1, in (0, 1)")] = None,
    points: Annotated[
        Optional[Path], typer.Option(help="fields runs: CSV of observed cells, header y,x,phase (3-D: z,y,x,phase)")
    ] = None,
) -> None:
    """Draw samples from a trained run's latest checkpoint (EMA weights when kept).

    A label-conditional run draws one row per class unless --label picks one. A fields run draws fields of
    --size cells per axis, honouring --porosity and the observed cells of --points (latent optimization).
    """
    from gankit.runs import sample_from_run, traverse_run

    if n < 1:
        raise GankitError(f"-n must be at least 1, got {n}")
    if label is not None and condition is not None:
        raise GankitError("give --label (class labels) or --condition (vectors), not both")
    if traverse is not None:
        traverse_run(run_dir, traverse, out, seed=seed, checkpoint=checkpoint)
        console.print(f"wrote a traversal of continuous code {traverse} to {out}")
        return
    conditions = None
    if label is not None:
        conditions = torch.tensor([label])
    elif condition is not None:
        conditions = torch.tensor([_parse_vector(condition)])
    samples = sample_from_run(run_dir, n, out, seed=seed, conditions=conditions, checkpoint=checkpoint, size=size,
                              porosity=porosity, points=points)
    console.print(f"wrote {len(samples)} samples to {out}")


def _parse_vector(text: str) -> list[float]:
    try:
        return [float(part) for part in text.split(",")]
    except ValueError:
        raise GankitError(f"--condition {text!r} is not comma-separated numbers; write e.g. --condition 0.3,1.2") from None


@app.command("apply")
def apply_(
    run_dir: Annotated[Path, typer.Argument(help="an image-to-image run directory (game: paired or unpaired)")],
    source: Annotated[Path, typer.Argument(help="an image file, a folder of images, or a .npy of (N, C, H, W) images")],
    out: Annotated[Path, typer.Option(help="OUT.png for an image, a new folder for a folder, OUT.npy for a .npy")],
    checkpoint: Annotated[
        str, typer.Option(help="which checkpoint: latest, best (train.best_metric) or a step number")
    ] = "latest",
    reverse: Annotated[bool, typer.Option(help="unpaired runs: translate B → A (default A → B)")] = False,
) -> None:
    """Run a trained image-to-image generator (EMA weights when kept) on new images of any size it takes."""
    from gankit.runs import apply_run

    count = apply_run(run_dir, source, out, checkpoint=checkpoint, reverse=reverse)
    console.print(escape(f"wrote {count} image{'s' if count != 1 else ''} to {out}"), highlight=False)


@app.command("eval")
def evaluate(
    run_dir: Annotated[Path, typer.Argument(help="a run directory written by gankit train")],
    metrics: Annotated[str, typer.Option(help=f"comma-separated: {_ALL_METRICS}")] = _ALL_METRICS,
    n: Annotated[int, typer.Option("--n", help="samples per side (capped by the real data set's size)")] = 5000,
    seed: Annotated[int, typer.Option(help="seed of the latent draws")] = 0,
    inception_weights: Annotated[
        Optional[Path], typer.Option(help="FID Inception-v3 weights file (or set GANKIT_INCEPTION_WEIGHTS)")
    ] = None,
    quantize: Annotated[
        bool, typer.Option(help="round images to 8 bits before feature extraction, as image files hold them "
                                "(protocols named ..._q8_...)")
    ] = False,
    checkpoint: Annotated[
        str, typer.Option(help="which checkpoint: latest, best (train.best_metric) or a step number")
    ] = "latest",
) -> None:
    """Score a run's checkpoint (default: latest): every metric named by its protocol; writes RUN_DIR/eval.json."""
    from gankit.metrics.evaluate import FeatureOptions
    from gankit.runs import write_evaluation

    chosen = [m.strip() for m in metrics.split(",") if m.strip()]
    results = write_evaluation(run_dir, chosen, n=n, seed=seed, checkpoint=checkpoint,
                               features=FeatureOptions(inception_weights, quantize))
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
    analysis: Annotated[str, typer.Argument(help="bilinear | dirac | landscape | moments | ratio")],
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


register_workflows(app)  # rebalance, integrate, invert (cli_workflows.py)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app, turning user mistakes into one line on stderr and exit status 2."""
    from gankit.train.interrupt import TrainingInterrupted

    _ARGUMENTS[:] = sys.argv[1:] if argv is None else list(argv)
    try:
        code = app(args=argv, standalone_mode=False)
    except TrainingInterrupted as err:
        from gankit.distributed import topology_from_env

        if topology_from_env().is_main:  # under torchrun, rank 0 speaks for all
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
