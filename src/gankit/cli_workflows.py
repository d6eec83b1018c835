"""The workflow commands `gankit rebalance | integrate | invert | design`: each trains or restores a run and writes a
directory of results. Registered on the app by gankit.cli; user mistakes raise GankitError, which it prints."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape

__all__ = ["register"]

console = Console(stderr=True)


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
    classifier: Annotated[
        Optional[str], typer.Option(help="logistic | cnn (images): the downstream classifier (default: cnn for "
                                         "phantoms, logistic otherwise)")
    ] = None,
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
        progress=progress, classifier=classifier,
    )
    counts = result.summary["counts"]
    added = sum(counts["synthetic"].values())
    typer.echo(f"{sum(counts['before'].values())} real + {added} synthetic rows: "
               + ", ".join(f"{name} {n}" for name, n in counts["after"].items()))
    if result.table:
        typer.echo(result.table)
    console.print(f"done in {result.summary['seconds']['total']:.0f} s: wrote {escape(str(out))}/rebalanced.npz "
                  "and rebalance.json", highlight=False)


def integrate(
    data: Annotated[str, typer.Argument(help="an .h5ad, .csv or .npz of cells x genes, or pbmc_batches | "
                                             "simulated_batches")],
    batch: Annotated[str, typer.Option(help="the column (obs column, CSV column or .npz array) naming each "
                                            "cell's batch")],
    label: Annotated[Optional[str], typer.Option(help="the column naming each cell's type: trains the classifier "
                                                      "and scores biology")] = None,
    out: Annotated[Optional[Path], typer.Option(help="new output directory (default: runs/integrate-DATA-TIME)")] = None,
    labelled_batches: Annotated[
        Optional[str], typer.Option(help="comma-separated batches whose labels train (semi-supervised); the "
                                         "others' labels only score")
    ] = None,
    values: Annotated[str, typer.Option(help="auto | counts | log: what the matrix holds (auto: counts when every "
                                             "value is a non-negative whole number)")] = "auto",
    layer: Annotated[Optional[str], typer.Option(help=".h5ad: read this layer instead of X")] = None,
    config: Annotated[Optional[str], typer.Option(help="a domain-game YAML instead of the default")] = None,
    steps: Annotated[Optional[int], typer.Option(help="training steps (overrides train.steps)")] = None,
    seed: Annotated[int, typer.Option(help="seed of the PCA, the training, the baselines and the scores")] = 0,
    set_: Annotated[
        Optional[list[str]], typer.Option("--set", help="override a config key, e.g. --set loss.weight=0.5")
    ] = None,
    plot: Annotated[str, typer.Option(help="tsne | pca: how embeddings.png draws each embedding in 2-d")] = "tsne",
    progress: Annotated[bool, typer.Option(help="show a progress bar while the encoder trains")] = True,
) -> None:
    """Remove batch effects from single-cell data: a domain-adversarial encoder against uncorrected PCA, ComBat and
    Harmony, all scored with scIB's metrics in one run.

    Writes OUT/embedding.npz and OUT/embedding.csv (one row per input cell, in input order), OUT/integrated.h5ad
    for .h5ad input (obsm X_gankit and the baselines), OUT/scores.csv and scores.md, OUT/embeddings.png and
    OUT/integration.json; the training run is in OUT/run.
    """
    from gankit.integrate import integrate as run_integrate

    out = out or Path("runs") / f"integrate-{Path(data).stem}-{time.strftime('%Y%m%d-%H%M%S')}"
    console.print(f"integrating [bold]{escape(data)}[/] into {escape(str(out))}", highlight=False)
    result = run_integrate(data, batch=batch, label=label, out=out, labelled_batches=labelled_batches, values=values,
                           layer=layer, config=config, steps=steps, seed=seed, overrides=set_ or [], progress=progress,
                           plot=plot)
    typer.echo(result.table)
    console.print(f"wrote {escape(str(out))}/embedding.npz, embedding.csv, scores.csv and embeddings.png",
                  highlight=False)


def invert(
    run_dir: Annotated[Path, typer.Argument(help="a finished unconditional image GAN run (gankit train)")],
    operator: Annotated[str, typer.Option(help="gaussian | dct | fourier | inpaint | blur | radon: the measurement "
                                               "operator")] = "gaussian",
    m: Annotated[str, typer.Option("--m", help="comma-separated measurement counts")] = "10,25,50,100,200",
    views: Annotated[str, typer.Option(help="radon: comma-separated numbers of views over [0, 180)")] = "8,16,32",
    factors: Annotated[str, typer.Option(help="blur: comma-separated downsampling factors")] = "2,4",
    noise: Annotated[float, typer.Option(help="std of the Gaussian noise added to each measurement")] = 0.1,
    images: Annotated[int, typer.Option(help="real images to reconstruct (the run's held-out ones if it has "
                                             "data.held_out)")] = 20,
    restarts: Annotated[int, typer.Option(help="CSGM random restarts per image (Bora et al.: 10)")] = 5,
    steps: Annotated[int, typer.Option(help="Adam steps of CSGM and TV (Bora et al.: 1000)")] = 300,
    lr: Annotated[float, typer.Option(help="Adam learning rate of CSGM and TV")] = 0.01,
    prior_weight: Annotated[float, typer.Option(help="CSGM's weight on ||z||^2")] = 0.1,
    sparse_basis: Annotated[str, typer.Option(help="pixel | dct: the basis of Sparse-Gen's deviations")] = "pixel",
    sparse_weight: Annotated[float, typer.Option(help="Sparse-Gen's L1 weight on the deviations")] = 0.1,
    lasso_alpha: Annotated[float, typer.Option(help="scikit-learn Lasso's alpha")] = 0.1,
    tv_weight: Annotated[float, typer.Option(help="TV least squares' weight on the total variation")] = 0.05,
    tune: Annotated[bool, typer.Option(help="choose Lasso's alpha, TV's and Sparse-Gen's weights per m on 8 validation "
                                            "images (disjoint from the test images) instead")] = False,
    tune_prior: Annotated[bool, typer.Option(help="with --tune, choose CSGM's prior weight too")] = False,
    seed: Annotated[int, typer.Option(help="seed of the images, operators, noise and restarts")] = 0,
    out: Annotated[Optional[Path], typer.Option(help="new output directory (default: runs/invert-TIME)")] = None,
    measurements: Annotated[Optional[Path], typer.Option(help="your own measurements: a .npy of shape (m,) or "
                                                              "(k, m)")] = None,
    operator_file: Annotated[Optional[Path], typer.Option(help="your own operator: an (m, n) .npy, n the "
                                                               "generator's output size")] = None,
) -> None:
    """Reconstruct images from few linear measurements with the run's generator as prior (CSGM, Sparse-Gen),
    against Lasso, TV and (radon) FBP.

    Writes OUT/invert.json, table.md, reconstructions.png and error_vs_m.png; with --measurements and
    --operator-file, OUT/reconstruction.npy (solvers, k, C, H, W) and reconstruction.png.
    """
    from gankit.inverse.workflow import SolverSettings, invert as run_invert, sweep_key

    out = out or Path("runs") / f"invert-{time.strftime('%Y%m%d-%H%M%S')}"
    sizes = {"views": views, "factor": factors, "m": m}[sweep_key(operator)]
    solver = SolverSettings(restarts=restarts, steps=steps, lr=lr, prior_weight=prior_weight,
                            sparse_basis=sparse_basis, sparse_weight=sparse_weight, lasso_alpha=lasso_alpha,
                            tv_weight=tv_weight, tune=tune, tune_prior=tune_prior,
                            seed=seed)
    result = run_invert(run_dir, out=out, operator=operator, sizes=sizes, noise=noise, images=images, solver=solver,
                        measurements=measurements, operator_file=operator_file)
    if result.table:
        typer.echo(result.table, nl=False)
    console.print(f"wrote {escape(str(out))}", highlight=False)


def design(
    run_dir: Annotated[Path, typer.Argument(help="a finished design run (gankit train friction_design or circuits)")],
    target: Annotated[Optional[str], typer.Option(help="texture runs: comma-separated target friction coefficients, "
                                                       "e.g. 0.2,0.35")] = None,
    n: Annotated[int, typer.Option("-n", help="designs proposed per target, or circuits (and evaluations per "
                                              "baseline)")] = 1000,
    tolerance: Annotated[Optional[float], typer.Option(help="|μ − μ*| of a hit (default: the run's "
                                                            "design.tolerance)")] = None,
    seed: Annotated[int, typer.Option(help="seed of the proposals and of the baselines' draws")] = 0,
    out: Annotated[Optional[Path], typer.Option(help="new output directory (default: runs/design-TIME)")] = None,
) -> None:
    """Textures of each target friction from a design run, checked with the contact model; only feasible ones are
    returned, beside random search and gradient descent with the same number of physics evaluations. From a
    circuits run: circuits, each simulated, beside random graphs and single-edge mutations.

    Writes OUT/designs.csv (circuits: circuits.csv), design.json, table.md and designs.png (circuits.png).
    """
    from gankit.design.workflow import design as run_design

    out = out or Path("runs") / f"design-{time.strftime('%Y%m%d-%H%M%S')}"
    result = run_design(run_dir, targets=target, n=n, out=out, seed=seed, tolerance=tolerance)
    typer.echo(result.table, nl=False)
    console.print(f"wrote {escape(str(out))}", highlight=False)


def fields(
    run_dir: Annotated[Path, typer.Argument(help="a finished fields run (e.g. gankit train fields_blobs)")],
    n: Annotated[int, typer.Option("-n", help="fields per set: generated, training, independent")] = 200,
    seed: Annotated[int, typer.Option(help="seed of the latent draws")] = 0,
    out: Annotated[Optional[Path], typer.Option(help="new output directory (default: runs/fields-TIME)")] = None,
) -> None:
    """Judge a fields run: porosity, S2, lineal path, variogram, percolation and specific surface of generated
    fields vs training images vs independent realizations; fields 4× the training size; porosity and hard-data
    conditioning. Writes OUT/table.md, fields.json, samples.png, curves.png, large.png, conditioned.png, wells.csv.
    """
    from gankit.fields.workflow import fields_report

    out = out or Path("runs") / f"fields-{time.strftime('%Y%m%d-%H%M%S')}"
    _, table = fields_report(run_dir, out=out, n=n, seed=seed)
    typer.echo(table, nl=False)
    console.print(f"wrote {escape(str(out))}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the workflow commands to `app`."""
    for command in (rebalance, integrate, invert, design, fields):
        app.command()(command)
