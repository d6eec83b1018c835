"""`gankit invert`: reconstruct images from a few linear measurements with a GAN run's generator as the prior
(CSGM and Sparse-Gen), beside Lasso, TV least squares and, for Radon, filtered back-projection.

    DIR/invert.json          settings, the table rows (per solver and m: per-pixel MSE mean, standard error and
                             95% interval, PSNR, SSIM), the prior summary (gankit.inverse.summary) and, for a run
                             with held-out images, the memorization check
    DIR/table.md             the same table in Markdown, and the summary in words
    DIR/reconstructions.png  rows: truth, each solver; columns: a few images at the smallest and the largest m
    DIR/error_vs_m.png       MSE against m per solver (log y, 95% intervals)

With a user's own `measurements` and `operator_file` there is no truth: DIR/reconstruction.npy holds
(solvers, k, C, H, W) in [0, 1] and DIR/reconstruction.png shows it. Images live in [0, 1] as in Bora et al.:
the generator's [-1, 1] output x is read as (x + 1) / 2. Everything the user gives is checked before DIR is
created; a failure after that removes DIR again.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from gankit.atomic import atomic_write_text
from gankit.errors import ConfigError, DataError
from gankit.inverse.operators import LinearOperator, Radon, load_operator_file, make_operator
from gankit.inverse.figures import FIGURE_COLUMNS, error_figure, reconstruction_figure, user_figure
from gankit.inverse.solvers import SPARSE_BASES, csgm, lasso, tv_least_squares
from gankit.inverse.summary import memorization_check, prior_summary
from gankit.inverse.tuning import GRIDS, TUNE_RESTARTS, choose_weights
from gankit.metrics.image_quality import ssim
from gankit.output_dir import check_output_dir, removed_on_failure

__all__ = ["InvertResult", "SolverSettings", "UnitGenerator", "invert", "load_prior", "measure", "parse_counts",
           "sweep_key", "truth_images", "validation_images"]

USER_SOLVERS = ("csgm", "csgm_sparse", "lasso")
LASSO_DCT_MAX_PIXELS = 4096  # the DCT-basis Lasso builds an n × n synthesis matrix: only for small images
MEMORIZATION_SAMPLES = 2000  # generator samples compared with the training set
VALIDATION_IMAGES = 8  # images the baselines' weights are tuned on (--tune), disjoint from the test images


class UnitGenerator(nn.Module):
    """A generator read in [0, 1]: z ↦ (G(z) + 1) / 2."""

    def __init__(self, generator: nn.Module) -> None:
        super().__init__()
        self.generator = generator

    def forward(self, z: Tensor) -> Tensor:
        return (self.generator(z) + 1) / 2


@dataclass(frozen=True)
class SolverSettings:
    """The solvers' knobs. Defaults are Bora et al.'s MNIST protocol (their mnist_reconstruction.sh): Adam lr
    0.01 for 1,000 steps, 10 restarts, prior weight 0.1, Lasso alpha 0.1; Sparse-Gen's weight and basis and TV's
    weight are this project's choices."""

    restarts: int = 10
    steps: int = 1000
    lr: float = 0.01
    prior_weight: float = 0.1
    sparse_basis: str = "pixel"
    sparse_weight: float = 0.1
    lasso_alpha: float = 0.1
    tv_weight: float = 0.05
    tune: bool = False  # choose lasso_alpha, tv_weight and sparse_weight per size on VALIDATION_IMAGES (tuning.py)
    tune_prior: bool = False  # with tune, CSGM's prior_weight too (first; Sparse-Gen then uses the chosen one)
    seed: int = 0

    def check(self) -> None:
        """ConfigError naming the option for a value no solver can use."""
        for value, option in ((self.restarts, "--restarts"), (self.steps, "--steps")):
            if value < 1:
                raise ConfigError(f"{option} {value}; choose a positive integer")
        for value, option in ((self.lr, "--lr"), (self.lasso_alpha, "--lasso-alpha")):
            if not value > 0:
                raise ConfigError(f"{option} {value}; choose a number > 0")
        for value, option in ((self.prior_weight, "--prior-weight"), (self.sparse_weight, "--sparse-weight"),
                              (self.tv_weight, "--tv-weight")):
            if not value >= 0:
                raise ConfigError(f"{option} {value}; choose a number >= 0")
        if self.tune_prior and not self.tune:
            raise ConfigError("--tune-prior chooses CSGM's prior weight with the other weights; add --tune")
        if self.sparse_basis not in SPARSE_BASES:
            raise ConfigError(f"--sparse-basis {self.sparse_basis!r}; choose one of {', '.join(SPARSE_BASES)}")


@dataclass
class InvertResult:
    """Where the outputs went, the table rows (empty for user data) and the Markdown table."""

    out: Path
    rows: list[dict[str, Any]]
    table: str


def parse_counts(text: str, option: str) -> list[int]:
    """'10,25,50' -> [10, 25, 50]; ConfigError unless a comma list of positive integers."""
    parts = [part.strip() for part in text.split(",")]
    if not all(part.isdigit() and int(part) > 0 for part in parts):
        raise ConfigError(f"{option} {text!r} is not a comma-separated list of positive integers, e.g. 10,25,50")
    return [int(part) for part in parts]


def load_prior(run_dir: str | Path) -> tuple[UnitGenerator, Any]:
    """(the run's generator in [0, 1], its config); ConfigError unless an unconditional image GAN."""
    from gankit.runs import restore_run

    run = restore_run(run_dir)
    config = run.config
    if config.game != "gan":
        raise ConfigError(f"{run_dir} is a {config.game!r} run; invert needs an unconditional image GAN run")
    if config.condition.kind != "none":
        raise ConfigError(f"{run_dir} is a conditional GAN (condition.kind {config.condition.kind!r}); invert needs "
                          "an unconditional image GAN run")
    if config.infogan.enabled:
        raise ConfigError(f"{run_dir} is an InfoGAN run; invert needs an unconditional image GAN run")
    if len(run.meta["sample_shape"]) != 3:
        raise ConfigError(f"{run_dir} is a GAN on vector data ({config.data.name}, samples of shape "
                          f"{tuple(run.meta['sample_shape'])}); invert needs an unconditional image GAN run")
    return UnitGenerator(run.players["generator"]).eval(), config


def truth_images(config: Any, images: int, seed: int) -> tuple[Tensor, bool]:
    """(`images` real images in [0, 1], (images, C, H, W), chosen by `seed`; whether they were held out of training).

    From the run's held-out part when it has one (`data.held_out`), else from its whole data set.
    """
    pool, held_out = _image_pool(config)
    _check_count(config, images, len(pool), held_out, "--images")
    return pool[_order(len(pool), seed)[:images]], held_out


def validation_images(config: Any, images: int, count: int, seed: int) -> Tensor:
    """`count` images of the same pool as `truth_images(config, images, seed)` and disjoint from them: the next
    ones in its seeded order, for choosing the baselines' weights."""
    pool, held_out = _image_pool(config)
    _check_count(config, images + count, len(pool), held_out, f"--images + {count} validation images")
    return pool[_order(len(pool), seed)[images : images + count]]


def _image_pool(config: Any) -> tuple[Tensor, bool]:
    from gankit.kinds.gan_players import load_real_data

    held_out = config.data.held_out > 0
    samples = load_real_data(config.data, config.seed, "held_out" if held_out else "all").samples
    return (samples.float() + 1) / 2, held_out


def _order(n: int, seed: int) -> Tensor:
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed))


def _check_count(config: Any, count: int, available: int, held_out: bool, what: str) -> None:
    if not 1 <= count <= available:
        part = "held-out part (data.held_out)" if held_out else "data set"
        raise ConfigError(f"{what} = {count}; the run's {part} of {config.data.name!r} has {available} images, "
                          f"choose fewer")


def measure(operator: LinearOperator, x: Tensor, noise: float, seed: int) -> Tensor:
    """y = A x + noise·N(0, 1), the noise drawn from `seed` alone."""
    with torch.no_grad():
        clean = operator(x)
    return clean + noise * torch.randn(clean.shape, generator=torch.Generator().manual_seed(seed)).to(clean)


def sweep_key(operator: str) -> str:
    """What the sweep of an operator varies: the number of views (radon), the downsampling factor (blur), or m."""
    return {"radon": "views", "blur": "factor"}.get(operator, "m")


def invert(
    run_dir: str | Path, *, out: str | Path, operator: str = "gaussian", sizes: str = "10,25,50", noise: float = 0.1,
    images: int = 20, solver: SolverSettings = SolverSettings(), measurements: str | Path | None = None,
    operator_file: str | Path | None = None,
) -> InvertResult:
    """Reconstruct real images of the run's data set (or the user's `measurements`) and write the outputs.

    `sizes` is the comma list swept: m, or views for radon, or downsampling factors for blur (`sweep_key`)."""
    out = Path(out)
    check_output_dir(out)
    if (measurements is None) != (operator_file is None):
        raise ConfigError("give --measurements and --operator-file together (a user's y.npy and its (m, n) A.npy)")
    if images < 1:
        raise ConfigError(f"--images {images}; choose a positive integer")
    if noise < 0:
        raise ConfigError(f"--noise {noise}; choose a standard deviation >= 0")
    solver.check()
    generator, config = load_prior(run_dir)
    shape = _image_shape(generator, config.model.latent_dim)
    settings = {"run": str(run_dir), "data": config.data.name, "image_shape": list(shape),
                "latent_dim": config.model.latent_dim, "solver": asdict(solver)}
    if measurements is not None:
        matrix = load_operator_file(operator_file, shape)
        y = _load_measurements(Path(measurements), matrix.m)
        job = lambda: _invert_user(generator, config, matrix, y, out, solver, settings)
    else:
        key = sweep_key(operator)
        values = parse_counts(sizes, f"--{key.replace('factor', 'factors')}")
        ops = [make_operator(operator, shape, seed=solver.seed, **{key: size}) for size in values]  # bad m: now
        truth, held_out = truth_images(config, images, solver.seed)
        validation = validation_images(config, images, VALIDATION_IMAGES, solver.seed) if solver.tune else None
        settings |= {"operator": operator, key: values, "measurements": [op.m for op in ops], "noise": noise,
                     "images": images, "held_out": held_out}
        if not held_out:
            settings["held_out_note"] = (f"the run trained on its whole {config.data.name!r} data set, so the test "
                                         "images were in the generator's training set; train with data.held_out=N")
        job = lambda: _invert_truth(generator, config, ops, key, values, truth, validation, noise, out, solver,
                                    settings)
    with removed_on_failure(out):
        out.mkdir(parents=True, exist_ok=True)
        return job()


def _image_shape(generator: UnitGenerator, latent_dim: int) -> tuple[int, int, int]:
    with torch.no_grad():
        return tuple(generator(torch.zeros(1, latent_dim)).shape[1:])  # type: ignore[return-value]


def _load_measurements(path: Path, m: int) -> Tensor:
    """y.npy as (k, m) float32: (m,) or (k, m), finite, m matching the operator's rows."""
    if not path.is_file():
        raise DataError(f"measurements file {path} does not exist; give a .npy of shape (m,) or (k, m)")
    try:
        y = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as error:
        raise DataError(f"measurements file {path} is not a readable .npy array ({error})") from None
    if y.ndim not in (1, 2) or y.shape[-1] != m or y.dtype.kind not in "fiu":
        raise DataError(f"measurements file {path} has shape {y.shape} (dtype {y.dtype}) but the operator file has "
                        f"m = {m} rows; give real numbers of shape ({m},) or (k, {m})")
    if not np.isfinite(y).all():
        raise DataError(f"measurements file {path} holds NaN or infinite entries")
    return torch.as_tensor(y, dtype=torch.float32).reshape(-1, m)


def _solvers(operator: LinearOperator, generator: UnitGenerator, latent_dim: int, solver: SolverSettings,
             weights: dict[str, float] | None = None) -> dict[str, Callable[[Tensor], Tensor]]:
    """Each solver as y ↦ x (B, C, H, W) in [0, 1] for this operator; `weights` (solver: value, as `_weights`)
    replace the settings' lasso_alpha, tv_weight and sparse_weight."""
    weights = _weights(operator, solver) | (weights or {})

    def prior(sparse: str | None) -> Callable[[Tensor], Tensor]:
        return lambda y: _csgm(generator, operator, y, latent_dim, solver, weights["csgm"], sparse,
                               weights["csgm_sparse"], solver.restarts)

    solvers = {"lasso": lambda y: lasso(operator, y, alpha=weights["lasso"])}
    if "lasso_fixed" in weights:  # tuned: the Lasso at the alpha as set (Bora et al.'s 0.1) beside the tuned one
        solvers["lasso_fixed"] = lambda y: lasso(operator, y, alpha=weights["lasso_fixed"])
    if "lasso_dct" in weights:
        solvers["lasso_dct"] = lambda y: lasso(operator, y, alpha=weights["lasso_dct"], basis="dct")
    solvers["tv"] = lambda y: tv_least_squares(operator, y, weights["tv"], steps=solver.steps, lr=solver.lr)
    if isinstance(operator, Radon):
        solvers["fbp"] = lambda y: operator.fbp(y).clamp(0, 1)
    solvers["csgm"] = prior(None)
    solvers["csgm_sparse"] = prior(solver.sparse_basis)
    return solvers


def _csgm(generator: UnitGenerator, operator: LinearOperator, y: Tensor, latent_dim: int, solver: SolverSettings,
          prior_weight: float, sparse: str | None, sparse_weight: float, restarts: int) -> Tensor:
    return csgm(generator, operator, y, latent_dim, restarts=restarts, steps=solver.steps, lr=solver.lr,
                prior_weight=prior_weight, seed=solver.seed, sparse=sparse, sparse_weight=sparse_weight).x


def _weights(operator: LinearOperator, solver: SolverSettings) -> dict[str, float]:
    """The weights as set: Lasso's alpha (pixel, and DCT for small images), TV's weight, CSGM's prior weight and
    Sparse-Gen's L1 weight."""
    weights = {"lasso": solver.lasso_alpha, "tv": solver.tv_weight, "csgm": solver.prior_weight,
               "csgm_sparse": solver.sparse_weight}
    if operator.n <= LASSO_DCT_MAX_PIXELS:
        weights["lasso_dct"] = solver.lasso_alpha
    return weights


def _tuned_weights(operator: LinearOperator, generator: UnitGenerator, latent_dim: int, solver: SolverSettings,
                   weights: dict[str, float], validation: Tensor, y: Tensor) -> dict[str, float]:
    """`weights`' values chosen on the validation images (tuning.choose_weights; CSGM with TUNE_RESTARTS
    restarts): CSGM's prior weight first when `solver.tune_prior`, then the rest, Sparse-Gen with that prior."""
    restarts = min(solver.restarts, TUNE_RESTARTS)
    if solver.tune_prior:
        weights = weights | choose_weights(validation, {"csgm": (GRIDS["csgm"], lambda w: _csgm(
            generator, operator, y, latent_dim, solver, w, None, 0.0, restarts))})
    solve = {
        "lasso": lambda a: lasso(operator, y, alpha=a),
        "lasso_dct": lambda a: lasso(operator, y, alpha=a, basis="dct"),
        "tv": lambda w: tv_least_squares(operator, y, w, steps=solver.steps, lr=solver.lr),
        "csgm_sparse": lambda w: _csgm(generator, operator, y, latent_dim, solver, weights["csgm"],
                                       solver.sparse_basis, w, restarts),
    }
    return weights | choose_weights(validation, {name: (GRIDS[name], solve[name]) for name in weights if name in solve})


def _scores(x: Tensor, truth: Tensor) -> dict[str, float]:
    """Per-pixel MSE (mean over images, its standard error and 95% interval half-width), PSNR and SSIM means."""
    mse = (x - truth).pow(2).flatten(1).mean(1).double()
    se = mse.std().item() / math.sqrt(len(mse)) if len(mse) > 1 else 0.0
    scores = {"mse": mse.mean().item(), "mse_se": se, "mse_ci95": 1.96 * se,
              "psnr": (10 * torch.log10(1 / mse.clamp_min(1e-12))).mean().item()}
    if min(truth.shape[-2:]) >= 11:
        # gankit's image metrics take [-1, 1] images: map [0, 1] there, so SSIM sees data range 1
        scores["ssim"] = ssim(x.clamp(0, 1).double() * 2 - 1, truth.double() * 2 - 1).mean().item()
    return scores


def _invert_truth(generator: UnitGenerator, config: Any, ops: list[LinearOperator], key: str, sizes: list[int],
                  truth: Tensor, validation: Tensor | None, noise: float, out: Path, solver: SolverSettings,
                  settings: dict[str, Any]) -> InvertResult:
    rows, shown = [], {}
    for size, operator in zip(sizes, ops, strict=True):
        y = measure(operator, truth, noise, solver.seed)
        weights = _weights(operator, solver)
        if validation is not None:  # the validation noise is its own draw
            weights = _tuned_weights(operator, generator, config.model.latent_dim, solver, weights, validation,
                                     measure(operator, validation, noise, solver.seed + 1))
            weights["lasso_fixed"] = solver.lasso_alpha
        for name, solve in _solvers(operator, generator, config.model.latent_dim, solver, weights).items():
            x = solve(y).detach().float()
            weight = {"weight": weights[name]} if name in weights else {}
            rows.append({"solver": name, key: size, "measurements": operator.m} | weight | _scores(x, truth))
            if size in (sizes[0], sizes[-1]):
                shown[(name, size)] = x[:FIGURE_COLUMNS]
    summary = prior_summary(rows, key)
    settings |= {"rows": rows, "summary": summary}
    if settings["held_out"]:
        settings["memorization"] = _memorization(generator, config, truth, solver.seed)
    table = _table(rows, key) + "\n" + summary_text(settings, key)
    atomic_write_text(out / "invert.json", json.dumps(settings, indent=2) + "\n")
    atomic_write_text(out / "table.md", table)
    reconstruction_figure(truth[:FIGURE_COLUMNS], shown, key, out / "reconstructions.png")
    error_figure(rows, key, out / "error_vs_m.png")
    return InvertResult(out, rows, table)


def _memorization(generator: UnitGenerator, config: Any, truth: Tensor, seed: int) -> dict[str, float]:
    """memorization_check of the test images and of MEMORIZATION_SAMPLES generator samples against the run's
    training images."""
    from gankit.kinds.gan_players import load_real_data

    train = (load_real_data(config.data, config.seed, "train").samples.float() + 1) / 2
    z = torch.randn(MEMORIZATION_SAMPLES, config.model.latent_dim, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        generated = torch.cat([generator(chunk) for chunk in z.split(500)])
    return memorization_check(truth, train, generated)


def _invert_user(generator: UnitGenerator, config: Any, operator: LinearOperator, y: Tensor, out: Path,
                 solver: SolverSettings, settings: dict[str, Any]) -> InvertResult:
    solvers = _solvers(operator, generator, config.model.latent_dim, solver)
    x = torch.stack([solvers[name](y).detach().float() for name in USER_SOLVERS])
    np.save(out / "reconstruction.npy", x.numpy())
    user_figure(x, USER_SOLVERS, out / "reconstruction.png")
    settings |= {"operator": "file", "m": operator.m, "measurement_vectors": len(y), "solvers": list(USER_SOLVERS),
                 "reconstruction_shape": list(x.shape)}
    atomic_write_text(out / "invert.json", json.dumps(settings, indent=2) + "\n")
    return InvertResult(out, [], "")


def _table(rows: list[dict[str, Any]], key: str) -> str:
    with_ssim = all("ssim" in row for row in rows)
    head = f"| solver | {key} | measurements | weight | MSE (mean ± 95%) | PSNR (dB) |" + (" SSIM |" if with_ssim else "")
    lines = [head, "|---|---:|---:|---:|---:|---:|" + ("---:|" if with_ssim else "")]
    lines += [f"| {r['solver']} | {r[key]} | {r['measurements']} | {r['weight'] if 'weight' in r else ''} | "
              f"{r['mse']:.4g} ± {r['mse_ci95']:.2g} | {r['psnr']:.2f} |" + (f" {r['ssim']:.3f} |" if with_ssim else "")
              for r in rows]
    return "\n".join(lines) + "\n"


def summary_text(settings: dict[str, Any], key: str) -> str:
    """The prior summary and the memorization check in a few Markdown lines."""
    summary = settings["summary"]
    lines = []
    for name, baseline in summary.get("baselines", {}).items():
        ratios = ", ".join("beyond range" if r is None else f"{r:.1f}×" for r in baseline["ratio"])
        crossover = baseline["crossover"]
        lines.append(f"- {name}: {key} it needs for CSGM's error, over CSGM's {key}, at {key} = "
                     f"{', '.join(map(str, summary['sizes']))}: {ratios}; "
                     + (f"below CSGM's error from {key} = {crossover}" if crossover else "never below CSGM's error"))
    if "sparse_excess" in summary:
        excess = ", ".join(f"{100 * e:+.0f}%" for e in summary["sparse_excess"])
        lines.append(f"- csgm_sparse over the best other solver at each {key}: {excess}")
    if memo := settings.get("memorization"):
        lines.append(f"- held-out test images: nearest training image at distance {memo['test_min']:.2f} (minimum) "
                     f"and {memo['test_median']:.2f} (median), training images to each other "
                     f"{memo['train_median']:.2f} (median); {memo['test_closer_than_train_q01']} test images nearer "
                     f"than the closest 1% of training pairs; generator samples' copy fraction "
                     f"{memo['generated_copy_fraction']:.2f} (0.5: fresh, 1: copies)")
    return "\n".join(lines) + "\n" if lines else ""
