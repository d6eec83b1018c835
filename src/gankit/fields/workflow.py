"""`gankit fields RUN --out DIR`: a fields run judged under every protocol, with its figures.

    DIR/fields.json     settings and every protocol's value (gankit.fields.evaluate)
    DIR/table.md        generated vs training images vs independent realizations, and the conditioning scores
    DIR/samples.png     training images beside generated fields
    DIR/curves.png      S2, lineal path and variogram: generated and training means in the independent band
    DIR/large.png       a field 4× the training size beside a real one, and the ratio of their power spectra
    DIR/conditioned.png fields honouring three wells read from a real realization, and P(phase 1) over draws
    DIR/wells.csv       those wells' cells, a file to pass to gankit sample --points
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gankit.atomic import atomic_write_text
from gankit.errors import ConfigError
from gankit.fields.conditioning import HardData, fit_latent
from gankit.fields.data import real_fields
from gankit.fields.evaluate import LARGE, binarize, draw, field_scores, generate
from gankit.fields.game import GENERATOR, draw_latent
from gankit.fields.protocols import spectrum_ratio
from gankit.output_dir import check_output_dir, removed_on_failure

__all__ = ["fields_report", "wells"]

WELLS = 3  # observed columns of the conditioning figure
WELL_SPACING = 2  # cells between observed cells down a well
CONDITIONED_DRAWS = 8


def wells(field: np.ndarray, count: int = WELLS, spacing: int = WELL_SPACING) -> HardData:
    """Cells down `count` evenly spaced vertical wells (every `spacing` cells along axis −2) of a 2-D or 3-D field
    (3-D: in its middle slice), and the field's phases there."""
    height, width = field.shape[-2:]
    columns = np.linspace(0, width - 1, count + 2)[1:-1].round().astype(int)
    rows = np.arange(0, height, spacing)
    cells = np.array([[r, c] for c in columns for r in rows])
    if field.ndim == 3:
        cells = np.column_stack([np.full(len(cells), field.shape[0] // 2), cells])
    phases = field[tuple(cells.T)].astype(np.int64)
    return HardData(torch.from_numpy(cells), torch.from_numpy(phases))


def fields_report(run_dir: str | Path, *, out: str | Path, n: int = 200, seed: int = 0) -> tuple[dict[str, Any], str]:
    """Score a fields run under every protocol on `n` fields per set, write the outputs (module docstring)."""
    from gankit.fields import figures
    from gankit.runs import restore_run

    out = Path(out)
    check_output_dir(out)
    if n < 2:
        raise ConfigError(f"-n {n}; choose at least 2 fields per set")
    run = restore_run(run_dir)
    if run.config.game != "fields":
        raise ConfigError(f"{run_dir} is a {run.config.game!r} run; gankit fields needs a fields run "
                          "(e.g. gankit train fields_blobs)")
    config, generator = run.config, run.players[GENERATOR]
    size = config.fields.size
    with removed_on_failure(out):
        out.mkdir(parents=True, exist_ok=True)
        scores = field_scores(config, generator, n=n, seed=seed)
        training, independent = real_fields(config, n), real_fields(config, n, independent=True)
        condition = (torch.from_numpy(independent.reshape(n, -1).mean(1)).float()
                     if generator.conditional else None)
        generated = binarize(draw(generator, n, size, seed=seed, condition=condition))
        figures.samples_figure(training, generated, out / "samples.png")
        figures.curves_figure(training, independent, generated, size // 2, out / "curves.png")
        reference = real_fields(config, 4, LARGE * size, independent=True)
        large_condition = (torch.from_numpy(reference.reshape(4, -1).mean(1)).float()
                           if generator.conditional else None)
        large = binarize(draw(generator, 4, LARGE * size, seed=seed, condition=large_condition))
        figures.large_figure(large[0], reference[0], size, spectrum_ratio(large, reference), out / "large.png")
        truth = independent[0]
        hard = wells(truth)
        z = draw_latent(generator, CONDITIONED_DRAWS, size, device=next(generator.parameters()).device,
                        random=torch.Generator().manual_seed(seed))
        well_condition = torch.full((CONDITIONED_DRAWS,), float(truth.mean())) if generator.conditional else None
        fitted = fit_latent(generator, z, condition=well_condition, hard=hard)
        conditioned = generate(generator, fitted, well_condition)
        scores["wells_honoured"] = float(hard.honoured(conditioned).mean())
        figures.conditioned_figure(truth, hard.cells.numpy(), hard.phases.numpy(), binarize(conditioned),
                                   out / "conditioned.png")
        header = ",".join(["z", "y", "x"][-hard.cells.shape[1]:] + ["phase"])
        rows = [",".join(map(str, [*cell, phase])) for cell, phase in zip(hard.cells.tolist(), hard.phases.tolist())]
        atomic_write_text(out / "wells.csv", "\n".join([header, *rows]) + "\n")
        table = score_table(scores)
        settings = {"run": str(run_dir), "n": n, "seed": seed, "source": config.fields.source,
                    "size": size, "scores": scores}
        atomic_write_text(out / "fields.json", json.dumps(settings, indent=2) + "\n")
        atomic_write_text(out / "table.md", table)
    return scores, table


def score_table(scores: dict[str, float]) -> str:
    """Markdown: each statistic for generated fields, training images and independent realizations; the curve
    statistics' largest gap to the training mean and share of lags in the independent band; conditioning."""
    lines = ["| statistic | generated | training | independent realizations |", "|---|---:|---:|---:|"]
    axes = [key.removeprefix("percolating_") for key in scores if key.startswith("percolating_axis")]
    named = [("porosity_mean", "porosity, mean"), ("porosity_std", "porosity, spread (std)")]
    named += [(f"percolating_{axis}", f"share of phase 1 percolating along {axis.replace('axis', 'axis ')}")
              for axis in axes]
    for key, name in [*named, ("specific_surface", "specific surface (faces per cell)")]:
        lines.append(f"| {name} | {scores[key]:.4f} | {scores['train_' + key]:.4f} | "
                     f"{scores['independent_' + key]:.4f} |")
    for statistic in ("s2", "lineal_path", "variogram"):
        lines.append(f"| {statistic}: largest gap to the training mean | {scores[statistic + '_error']:.4f} | 0 | "
                     f"{scores[statistic + '_error_floor']:.4f} |")
        lines.append(f"| {statistic}: share of lags in the independent 5–95% band | "
                     f"{scores[statistic + '_in_spread']:.3f} | | |")
    lines += ["", "| fields 4× the training size | generated | independent realizations |", "|---|---:|---:|",
              f"| S2 up to half the size: share of lags in the band | {scores['large_s2_in_spread']:.3f} | |",
              f"| power-spectrum peak (1: none; tiling: ≫ 1) | {scores['large_spectrum_peak']:.2f} | "
              f"{scores['large_spectrum_peak_floor']:.2f} |"]
    lines += [f"| share of phase 1 percolating along {axis.replace('axis', 'axis ')} | "
              f"{scores['large_percolating_' + axis]:.3f} | {scores['large_independent_percolating_' + axis]:.3f} |"
              for axis in axes]
    lines += ["", "| conditioning | value |", "|---|---:|"]
    if "porosity_error_condition" in scores:
        lines.append(f"| porosity error, conditional generator alone | {scores['porosity_error_condition']:.4f} |")
    lines.append(f"| porosity error after latent optimization | {scores['porosity_error']:.4f} |")
    lines.append(f"| random observed cells honoured, before / after | {scores['hard_data_honoured_prior']:.3f} / "
                 f"{scores['hard_data_honoured']:.3f} |")
    if "wells_honoured" in scores:
        lines.append(f"| cells of {WELLS} wells honoured | {scores['wells_honoured']:.3f} |")
    return "\n".join(lines) + "\n"
