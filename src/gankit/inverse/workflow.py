"""`gankit invert`: reconstruct images from a few linear measurements with a GAN run's generator as the prior
(CSGM and Sparse-Gen), beside Lasso, TV least squares and, for Radon, filtered back-projection.

    DIR/invert.json          settings and the table rows (per solver and m: per-pixel MSE mean ± standard error, PSNR)
    DIR/table.md             the same table in Markdown
    DIR/reconstructions.png  rows: truth, each solver; columns: a few images at the smallest and the largest m
    DIR/error_vs_m.png       MSE against m per solver (log y, standard-error bars)

With a user's own `measurements` and `operator_file` there is no truth: DIR/reconstruction.npy holds
(solvers, k, C, H, W) in [0, 1] and DIR/reconstruction.png shows it. Images live in [0, 1] as in Bora et al.:
the generator's [-1, 1] output x is read as (x + 1) / 2. Everything the user gives is checked before DIR is
created; a failure after that removes DIR again.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from gankit.atomic import atomic_write_text
from gankit.errors import ConfigError, DataError
from gankit.inverse.operators import LinearOperator, Radon, load_operator_file, make_operator
from gankit.inverse.solvers import csgm, lasso, tv_least_squares
from gankit.output_dir import check_output_dir, removed_on_failure

__all__ = ["InvertResult", "UnitGenerator", "invert", "load_prior", "measure", "parse_counts", "truth_images"]

USER_SOLVERS = ("csgm", "csgm_sparse", "lasso")
LASSO_DCT_MAX_PIXELS = 4096  # the DCT-basis Lasso builds an n × n synthesis matrix: only for small images
TV_WEIGHT = 0.05
FIGURE_COLUMNS = 4


class UnitGenerator(nn.Module):
    """A generator read in [0, 1]: z ↦ (G(z) + 1) / 2."""

    def __init__(self, generator: nn.Module) -> None:
        super().__init__()
        self.generator = generator

    def forward(self, z: Tensor) -> Tensor:
        return (self.generator(z) + 1) / 2


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


def truth_images(config: Any, images: int, seed: int) -> Tensor:
    """`images` real images of the run's data set in [0, 1], (images, C, H, W), chosen by `seed`."""
    from gankit.kinds.gan_players import load_real_data

    samples = load_real_data(config.data, config.seed).samples
    if not 1 <= images <= len(samples):
        raise ConfigError(f"--images {images}; the data set {config.data.name!r} has {len(samples)}, choose 1 to "
                          f"{len(samples)}")
    rows = torch.randperm(len(samples), generator=torch.Generator().manual_seed(seed))[:images]
    return (samples[rows].float() + 1) / 2


def measure(operator: LinearOperator, x: Tensor, noise: float, seed: int) -> Tensor:
    """y = A x + noise·N(0, 1), the noise drawn from `seed` alone."""
    with torch.no_grad():
        clean = operator(x)
    return clean + noise * torch.randn(clean.shape, generator=torch.Generator().manual_seed(seed)).to(clean)


def invert(
    run_dir: str | Path, *, out: str | Path, operator: str = "gaussian", counts: str = "10,25,50",
    views: str = "8,16,32", noise: float = 0.1, images: int = 20, restarts: int = 5, steps: int = 300, seed: int = 0,
    measurements: str | Path | None = None, operator_file: str | Path | None = None,
) -> InvertResult:
    """Reconstruct real images of the run's data set (or the user's `measurements`) and write the outputs."""
    out = Path(out)
    check_output_dir(out)
    if (measurements is None) != (operator_file is None):
        raise ConfigError("give --measurements and --operator-file together (a user's y.npy and its (m, n) A.npy)")
    for value, option in ((images, "--images"), (restarts, "--restarts"), (steps, "--steps")):
        if value < 1:
            raise ConfigError(f"{option} {value}; choose a positive integer")
    if noise < 0:
        raise ConfigError(f"--noise {noise}; choose a standard deviation >= 0")
    generator, config = load_prior(run_dir)
    shape = _image_shape(generator, config.model.latent_dim)
    settings = {"run": str(run_dir), "data": config.data.name, "image_shape": list(shape), "restarts": restarts,
                "steps": steps, "seed": seed, "latent_dim": config.model.latent_dim}
    if measurements is not None:
        matrix = load_operator_file(operator_file, shape)
        y = _load_measurements(Path(measurements), matrix.m)
        job = lambda: _invert_user(generator, config, matrix, y, out, settings)
    else:
        key = "views" if operator == "radon" else "m"
        sizes = parse_counts(views if operator == "radon" else counts, f"--{key}")
        ops = [make_operator(operator, shape, seed=seed, **{key: size}) for size in sizes]  # bad m: ConfigError now
        truth = truth_images(config, images, seed)
        settings |= {"operator": operator, key: sizes, "noise": noise, "images": images, "held_out": False,
                     "held_out_note": f"gan runs train on the whole {config.data.name!r} data set, so the test "
                                      "images were in the generator's training set"}
        job = lambda: _invert_truth(generator, config, ops, key, sizes, truth, noise, out, settings)
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


def _solvers(operator: LinearOperator, generator: UnitGenerator, latent_dim: int, restarts: int, steps: int,
             seed: int) -> dict[str, Callable[[Tensor], Tensor]]:
    """Each solver as y ↦ x (B, C, H, W) in [0, 1] for this operator."""
    def prior(sparse: str | None) -> Callable[[Tensor], Tensor]:
        return lambda y: csgm(generator, operator, y, latent_dim, restarts=restarts, steps=steps, seed=seed,
                              sparse=sparse).x

    solvers = {"lasso": lambda y: lasso(operator, y)}
    if operator.n <= LASSO_DCT_MAX_PIXELS:
        solvers["lasso_dct"] = lambda y: lasso(operator, y, basis="dct")
    solvers["tv"] = lambda y: tv_least_squares(operator, y, TV_WEIGHT, steps=steps)
    if isinstance(operator, Radon):
        solvers["fbp"] = operator.fbp
    solvers["csgm"] = prior(None)
    solvers["csgm_sparse"] = prior("pixel")
    return solvers


def _invert_truth(generator: UnitGenerator, config: Any, ops: list[LinearOperator], key: str, sizes: list[int],
                  truth: Tensor, noise: float, out: Path, settings: dict[str, Any]) -> InvertResult:
    rows, shown = [], {}
    for size, operator in zip(sizes, ops, strict=True):
        y = measure(operator, truth, noise, settings["seed"])
        for name, solve in _solvers(operator, generator, config.model.latent_dim, settings["restarts"],
                                    settings["steps"], settings["seed"]).items():
            x = solve(y).detach().float()
            mse = (x - truth).pow(2).flatten(1).mean(1).double()
            psnr = 10 * torch.log10(1 / mse.clamp_min(1e-12))
            se = mse.std().item() / math.sqrt(len(mse)) if len(mse) > 1 else 0.0
            rows.append({"solver": name, key: size, "mse": mse.mean().item(), "mse_se": se,
                         "psnr": psnr.mean().item()})
            if size in (sizes[0], sizes[-1]):
                shown[(name, size)] = x[:FIGURE_COLUMNS]
    table = _table(rows, key)
    atomic_write_text(out / "invert.json", json.dumps(settings | {"rows": rows}, indent=2) + "\n")
    atomic_write_text(out / "table.md", table)
    reconstruction_figure(truth[:FIGURE_COLUMNS], shown, key, out / "reconstructions.png")
    error_figure(rows, key, out / "error_vs_m.png")
    return InvertResult(out, rows, table)


def _invert_user(generator: UnitGenerator, config: Any, operator: LinearOperator, y: Tensor, out: Path,
                 settings: dict[str, Any]) -> InvertResult:
    solvers = _solvers(operator, generator, config.model.latent_dim, settings["restarts"], settings["steps"],
                       settings["seed"])
    x = torch.stack([solvers[name](y).detach().float() for name in USER_SOLVERS])
    np.save(out / "reconstruction.npy", x.numpy())
    user_figure(x, USER_SOLVERS, out / "reconstruction.png")
    settings |= {"operator": "file", "m": operator.m, "measurement_vectors": len(y), "solvers": list(USER_SOLVERS),
                 "reconstruction_shape": list(x.shape)}
    atomic_write_text(out / "invert.json", json.dumps(settings, indent=2) + "\n")
    return InvertResult(out, [], "")


def _table(rows: list[dict[str, Any]], key: str) -> str:
    lines = [f"| solver | {key} | MSE (mean ± s.e.) | PSNR (dB) |", "|---|---:|---:|---:|"]
    lines += [f"| {r['solver']} | {r[key]} | {r['mse']:.4g} ± {r['mse_se']:.2g} | {r['psnr']:.2f} |" for r in rows]
    return "\n".join(lines) + "\n"


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _show(ax: Any, image: Tensor, title: str = "") -> None:
    picture = image.clamp(0, 1).permute(1, 2, 0).numpy()
    ax.imshow(picture[..., 0] if picture.shape[2] == 1 else picture, cmap="gray", vmin=0, vmax=1)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=7)


def reconstruction_figure(truth: Tensor, shown: dict[tuple[str, int], Tensor], key: str, path: Path) -> None:
    """Rows: truth, then each solver; columns: the first images at the smallest m, then at the largest."""
    plt = _pyplot()
    solvers = list(dict.fromkeys(name for name, _ in shown))
    sizes = list(dict.fromkeys(size for _, size in shown))
    k = len(truth)
    fig, axes = plt.subplots(1 + len(solvers), k * len(sizes), figsize=(0.9 * k * len(sizes), 0.9 * (1 + len(solvers))),
                             squeeze=False)
    for j, size in enumerate(sizes):
        for i in range(k):
            column = j * k + i
            _show(axes[0, column], truth[i], f"{key}={size}" if i == 0 else "")
            for r, name in enumerate(solvers, 1):
                _show(axes[r, column], shown[(name, size)][i])
    for r, name in enumerate(["truth", *solvers]):
        axes[r, 0].set_ylabel(name, fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def error_figure(rows: list[dict[str, Any]], key: str, path: Path) -> None:
    """Per-pixel MSE against m (or views) for each solver, log y, standard-error bars."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for name in dict.fromkeys(row["solver"] for row in rows):
        mine = [row for row in rows if row["solver"] == name]
        ax.errorbar([r[key] for r in mine], [r["mse"] for r in mine], yerr=[r["mse_se"] for r in mine], marker="o",
                    capsize=2, label=name)
    ax.set(xlabel=key, ylabel="per-pixel MSE", yscale="log")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def user_figure(x: Tensor, solvers: tuple[str, ...], path: Path) -> None:
    """Rows: each solver; columns: the first measurement vectors' reconstructions."""
    plt = _pyplot()
    k = min(x.shape[1], 8)
    fig, axes = plt.subplots(len(solvers), k, figsize=(0.9 * k + 0.6, 0.9 * len(solvers)), squeeze=False)
    for r, name in enumerate(solvers):
        for i in range(k):
            _show(axes[r, i], x[r, i])
        axes[r, 0].set_ylabel(name, fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
