"""The toy analyses by name, with their defaults, behind one checked entry point (used by `gankit dynamics`)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gankit.errors import ConfigError
from gankit.theory import bilinear, dirac_report, landscape, moments_report, ratio
from gankit.theory.table import Table

__all__ = ["ANALYSES", "MAX_LR", "Analysis", "Report", "run_analysis"]

MAX_LR = 1e3


@dataclass(frozen=True)
class Analysis:
    """One analysis: what it shows, its default step size (None: it has none) and steps, and how to run it."""

    summary: str
    default_lr: float | None
    default_steps: int
    steps_mean: str
    run: Callable[[Path, float | None, int], tuple[dict[str, Table], list[Path]]]


@dataclass
class Report:
    """What one run of an analysis wrote: its tables by file stem, every path, and the settings used."""

    tables: dict[str, Table]
    files: list[Path]
    settings: str


ANALYSES: dict[str, Analysis] = {
    "bilinear": Analysis("min_x max_y xy under every dynamics: measured vs closed-form rates",
                         bilinear.DEFAULT_LR, bilinear.DEFAULT_STEPS, "steps of each dynamics",
                         lambda out, lr, steps: bilinear.analyze(out, lr, steps)),
    "dirac": Analysis("Dirac-GAN phase portraits per loss and regularizer; Jacobian eigenvalues vs closed forms",
                      dirac_report.DEFAULT_LR, dirac_report.DEFAULT_STEPS, "steps of each trajectory",
                      lambda out, lr, steps: dirac_report.analyze(out, lr, steps)),
    "landscape": Analysis("JS, W1 and W2 and their gradients as a point mass moves away from the data",
                          None, landscape.DEFAULT_POINTS, "offsets in [-2, 2]",
                          lambda out, lr, steps: landscape.analyze(out, steps)),
    "moments": Analysis("GAN as GMM: a linear critic's estimator = SMM; logistic location vs MLE and the mean",
                        moments_report.DEFAULT_LR, moments_report.DEFAULT_STEPS,
                        "steps of the classifier-critic game",
                        lambda out, lr, steps: moments_report.analyze(out, lr, steps)),
    "ratio": Analysis("a trained discriminator vs the true density ratio and -log 4 + 2 JS",
                      ratio.DEFAULT_LR, ratio.DEFAULT_STEPS, "Adam steps of the discriminator",
                      lambda out, lr, steps: ratio.analyze(out, lr, steps)),
}


def run_analysis(name: str, out_dir: Path, *, lr: float | None = None, steps: int | None = None) -> Report:
    """Check the arguments, then run analysis `name`, writing its figures and tables into `out_dir`.

    `lr` and `steps` default to the analysis' own. Bad arguments (an `out_dir` that cannot be created
    included) raise a ConfigError before anything is computed or written. An `lr` beyond the stable
    range is allowed (up to MAX_LR): trajectories stop once ‖z‖ > 1e6.
    """
    if name not in ANALYSES:
        raise ConfigError(f"unknown analysis {name!r}; valid analyses: {', '.join(ANALYSES)}")
    analysis = ANALYSES[name]
    if lr is not None:
        if analysis.default_lr is None:
            raise ConfigError(f"the {name} analysis has no step size; drop --lr")
        if not (lr > 0 and math.isfinite(lr)):
            raise ConfigError(f"--lr must be a positive number, got {lr}")
        if lr > MAX_LR:
            raise ConfigError(f"--lr {lr:g} is above {MAX_LR:g}: trajectories overflow within a step or two "
                              "there; use a smaller one")
    if steps is not None and steps < 1:
        raise ConfigError(f"--steps must be at least 1, got {steps}")
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"--out {out_dir} is a file; give a directory")
    try:  # now, not after a long run: a file in the path or a read-only parent is the user's to fix
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        reason = err.strerror or err
        raise ConfigError(f"--out {out_dir} cannot be created ({reason}); give another directory") from None
    lr = analysis.default_lr if lr is None else lr
    steps = analysis.default_steps if steps is None else steps
    tables, files = analysis.run(out_dir, lr, steps)
    settings = f"{steps} {analysis.steps_mean}" + ("" if lr is None else f", lr {lr:g}")
    return Report(tables, files, settings)
