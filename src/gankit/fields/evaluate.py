"""A fields run's evaluation: its generator's fields against training images and independent realizations under
the named protocols of gankit.fields.protocols, at the training size and at 4×, and its conditioning by latent
optimization (porosity targets, hard data read from independent realizations).

Protocol names (`gankit eval`): `porosity_mean`, `porosity_std`, `percolating_axis0` (…1, …2), `specific_surface`
(generated; `train_…` and `independent_…` for the real sets); `s2_…`, `lineal_path_…`, `variogram_…` (error,
error_floor, in_spread); `large_s2_in_spread`, `large_spectrum_peak` and its `_floor`, `large_percolating_axis0`
(…) and `large_independent_percolating_axis0` (…) (fields 4× the training size, against real fields of that
size); `porosity_error_condition` (the conditional generator alone), `porosity_error` (after latent optimization),
`hard_data_honoured` (after) and `hard_data_honoured_prior` (before: what chance gives).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from gankit.config import FieldsConfig
from gankit.fields.conditioning import HardData, LatentFit, fit_latent
from gankit.fields.data import real_fields
from gankit.fields.game import draw_latent
from gankit.fields.protocols import (
    band_share,
    curve_scores,
    curves,
    percolating_scores,
    scalar_scores,
    spectrum_ratio,
)
from gankit.fields.spatial import SpatialGenerator

__all__ = ["binarize", "conditioning_scores", "draw", "field_scores", "generate", "large_field_scores",
           "random_hard_data", "spectrum_peak"]

CHUNK = 64  # fields per generator pass
LARGE = 4  # the large fields' size, in training sizes
LARGE_FIELDS = 8  # large fields drawn and real ones compared with
CONDITION_TARGETS = 5  # porosity targets spread over the training range
CONDITION_DRAWS = 4  # conditioned fields per target and per hard-data set
HARD_POINTS = 32  # observed cells per hard-data set


def generate(generator: SpatialGenerator, latent: Tensor, condition: Tensor | None = None) -> Tensor:
    """(n, 1, *spatial) fields in (−1, 1) on the CPU from the latent fields `latent`, in eval mode and in chunks."""
    device = next(generator.parameters()).device
    was_training = generator.training
    generator.eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(latent), CHUNK):
            chunk_condition = None if condition is None else condition[start:start + CHUNK].to(device)
            out.append(generator(latent[start:start + CHUNK].to(device), chunk_condition).cpu())
    generator.train(was_training)
    return torch.cat(out)


def draw(generator: SpatialGenerator, n: int, size: int, *, seed: int, condition: Tensor | None = None) -> Tensor:
    """`generate` from `n` latent fields for fields of `size` cells per axis, drawn with `seed`."""
    latent = draw_latent(generator, n, size, device="cpu", random=torch.Generator().manual_seed(seed))
    return generate(generator, latent, condition)


def binarize(fields: Tensor) -> np.ndarray:
    """(n, 1, *spatial) fields ↦ (n, *spatial) int8 phases (1 where > 0)."""
    return (fields[:, 0] > 0).to(torch.int8).numpy()


def _porosities(fields: np.ndarray) -> Tensor:
    return torch.from_numpy(fields.reshape(len(fields), -1).mean(1)).float()


def field_scores(config: FieldsConfig, generator: SpatialGenerator, *, n: int, seed: int,
                 full: bool = True) -> dict[str, float]:
    """The protocols (module docstring) on `n` fields of each set; `full`: also large fields and conditioning."""
    size = config.fields.size
    training = real_fields(config, n)
    independent = real_fields(config, n, independent=True)
    condition = _porosities(independent) if generator.conditional else None
    generated = binarize(draw(generator, n, size, seed=seed, condition=condition))
    scores = {**scalar_scores(generated, ""), **scalar_scores(training, "train_"),
              **scalar_scores(independent, "independent_"),
              **curve_scores(generated, training, independent, max_lag=size // 2)}
    if full:
        scores |= large_field_scores(config, generator, seed=seed)
        scores |= conditioning_scores(config, generator, seed=seed)
    return scores


def spectrum_peak(ratio: np.ndarray, window: int = 2) -> float:
    """The largest ratio of a shell's spectrum ratio to the mean of its neighbours within `window` shells: about
    1 for a smooth ratio, well above 1 where generated fields have a peak (a seam's or a tile's harmonics; infinite
    for an exact tiling, whose power between harmonics is zero)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        peaks = [ratio[k] / np.delete(ratio[max(0, k - window):k + window + 1], min(k, window)).mean()
                 for k in range(len(ratio))]
    return float(np.nanmax(peaks))


def large_field_scores(config: FieldsConfig, generator: SpatialGenerator, *, seed: int) -> dict[str, float]:
    """S2 up to half the size and the power spectrum of fields `LARGE`× the training size, against real ones."""
    size = LARGE * config.fields.size
    reference = real_fields(config, 2 * LARGE_FIELDS, size, independent=True)
    reference, second = reference[:LARGE_FIELDS], reference[LARGE_FIELDS:]
    condition = _porosities(reference) if generator.conditional else None
    large = binarize(draw(generator, LARGE_FIELDS, size, seed=seed, condition=condition))
    s2 = curves(large, "s2", size // 2).mean(0)
    scores = {"large_s2_in_spread": band_share(s2, curves(reference, "s2", size // 2)),
              "large_spectrum_peak": spectrum_peak(spectrum_ratio(large, reference)),
              "large_spectrum_peak_floor": spectrum_peak(spectrum_ratio(second, reference))}
    # connectivity over distances the generator never saw whole
    return {**scores, **percolating_scores(large, "large_"), **percolating_scores(reference, "large_independent_")}


def random_hard_data(field: np.ndarray, points: int, random: np.random.Generator) -> HardData:
    """`points` distinct cells of `field` (a real realization) and their phases."""
    flat = random.choice(field.size, size=points, replace=False)
    cells = np.stack(np.unravel_index(flat, field.shape), axis=1)
    return HardData(torch.from_numpy(cells), torch.from_numpy(field.reshape(-1)[flat].astype(np.int64)))


def conditioning_scores(config: FieldsConfig, generator: SpatialGenerator, *, seed: int,
                        fit: LatentFit = LatentFit()) -> dict[str, float]:
    """Porosity error at targets spread over the training range, before (conditional generator alone) and after
    latent optimization; the share of hard data honoured before and after, over independent realizations."""
    size, device = config.fields.size, next(generator.parameters()).device
    low, high = (config.fields.porosity,) * 2 if isinstance(config.fields.porosity, float) else config.fields.porosity
    targets = np.linspace(low, high, CONDITION_TARGETS) if high > low else np.array([low])
    random = torch.Generator().manual_seed(seed)
    errors_before, errors_after = [], []
    for target in targets:
        z = draw_latent(generator, CONDITION_DRAWS, size, device=device, random=random)
        condition = torch.full((CONDITION_DRAWS,), float(target), device=device) if generator.conditional else None
        before = binarize(generate(generator, z, condition))
        fitted = fit_latent(generator, z, condition=condition, porosity=float(target), fit=fit)
        after = binarize(generate(generator, fitted, condition))
        errors_before.append(np.abs(before.reshape(CONDITION_DRAWS, -1).mean(1) - target))
        errors_after.append(np.abs(after.reshape(CONDITION_DRAWS, -1).mean(1) - target))
    observed = real_fields(config, CONDITION_TARGETS, independent=True)
    honoured_before, honoured_after = [], []
    points = np.random.default_rng(seed)
    for field in observed:
        hard = random_hard_data(field, HARD_POINTS, points)
        z = draw_latent(generator, CONDITION_DRAWS, size, device=device, random=random)
        condition = (torch.full((CONDITION_DRAWS,), float(field.mean()), device=device)
                     if generator.conditional else None)
        before = generate(generator, z, condition)
        fitted = fit_latent(generator, z, condition=condition, hard=_on(hard, device), fit=fit)
        after = generate(generator, fitted, condition)
        honoured_before.append(hard.honoured(before).numpy())
        honoured_after.append(hard.honoured(after).numpy())
    scores = {"porosity_error": float(np.mean(errors_after)),
              "hard_data_honoured": float(np.mean(honoured_after)),
              "hard_data_honoured_prior": float(np.mean(honoured_before))}
    if generator.conditional:
        scores["porosity_error_condition"] = float(np.mean(errors_before))
    return scores


def _on(hard: HardData, device: torch.device) -> HardData:
    return HardData(hard.cells.to(device), hard.phases.to(device))
