"""Named protocols that judge a set of generated two-phase fields against training images and against independent
realizations of the training images' source (the floor any model is judged against: what a second draw of real
fields would score). Pure NumPy on (n, *spatial) arrays of 0/1.

For each curve statistic (S2, lineal path, variogram) a protocol reports
- `<stat>_error`: the largest gap over lags between the generated and the training ensembles' mean curves,
- `<stat>_error_floor`: the same gap for an independent set of real fields of the same size (what a perfect
  generator would show from sampling noise alone),
- `<stat>_in_spread`: the share of lags at which the generated mean curve lies inside the 5–95% band of the
  independent realizations' individual curves (the issue's "within the spread at every lag" is 1.0).
Scalars (porosity, the percolating share along each axis, specific surface) are reported as means (and
porosity's spread) of each set.

The power spectrum check (`spectrum_ratio`) looks for seams and tiling: the radially averaged power spectrum of
large generated fields divided by that of real fields of the same size; a tiled or seamed field shows peaks at the
tile's harmonics.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from gankit.fields.statistics import (
    lineal_path, percolating_fraction, porosity, specific_surface, two_point_correlation, variogram,
)

__all__ = ["CURVES", "band_share", "curve_scores", "curves", "percolating_scores", "radial_power_spectrum",
           "scalar_scores", "spectrum_ratio"]

CURVES: dict[str, Callable[[np.ndarray, int], np.ndarray]] = {
    "s2": two_point_correlation, "lineal_path": lineal_path, "variogram": variogram,
}
SPREAD = (5.0, 95.0)  # percentiles of the independent realizations' curves that bound "within the spread"


def curves(fields: np.ndarray, statistic: str, max_lag: int) -> np.ndarray:
    """(n, max_lag + 1): the named curve statistic of each field."""
    return np.stack([CURVES[statistic](field, max_lag) for field in fields])


def band_share(curve: np.ndarray, reference: np.ndarray) -> float:
    """Share of lags at which `curve` (L,) lies inside the 5–95% band of the rows of `reference` (n, L)."""
    low, high = np.percentile(reference, SPREAD, axis=0)
    return float(((curve >= low - 1e-12) & (curve <= high + 1e-12)).mean())


def curve_scores(generated: np.ndarray, training: np.ndarray, independent: np.ndarray, max_lag: int,
                 statistics: tuple[str, ...] = tuple(CURVES)) -> dict[str, float]:
    """`<stat>_error`, `<stat>_error_floor` and `<stat>_in_spread` of each curve statistic (module docstring)."""
    scores: dict[str, float] = {}
    for statistic in statistics:
        generated_mean = curves(generated, statistic, max_lag).mean(0)
        training_mean = curves(training, statistic, max_lag).mean(0)
        independent_curves = curves(independent, statistic, max_lag)
        scores[f"{statistic}_error"] = float(np.abs(generated_mean - training_mean).max())
        scores[f"{statistic}_error_floor"] = float(np.abs(independent_curves.mean(0) - training_mean).max())
        scores[f"{statistic}_in_spread"] = band_share(generated_mean, independent_curves)
    return scores


def scalar_scores(fields: np.ndarray, prefix: str) -> dict[str, float]:
    """Porosity mean and standard deviation, the percolating share of phase 1 along each axis
    (`percolating_axis0`, …) and specific surface of a set."""
    porosities = np.array([porosity(field) for field in fields])
    return {f"{prefix}porosity_mean": float(porosities.mean()), f"{prefix}porosity_std": float(porosities.std()),
            **percolating_scores(fields, prefix),
            f"{prefix}specific_surface": float(np.mean([specific_surface(field) for field in fields]))}


def percolating_scores(fields: np.ndarray, prefix: str) -> dict[str, float]:
    """`<prefix>percolating_axis<a>`: the mean share of phase 1 percolating along axis a, for each axis of a set."""
    return {f"{prefix}percolating_axis{axis}": float(np.mean([percolating_fraction(field, axis=axis)
                                                               for field in fields]))
            for axis in range(fields.ndim - 1)}


def radial_power_spectrum(fields: np.ndarray) -> np.ndarray:
    """Mean over fields of the power spectrum of the centred indicator, averaged over shells of integer radius
    |k| = 1 … size/2 (cycles per field), for square or cubic fields."""
    fields = np.asarray(fields, dtype=np.float64)
    size = fields.shape[1]
    if any(s != size for s in fields.shape[1:]):
        raise ValueError(f"the power spectrum takes square or cubic fields, got shape {fields.shape[1:]}")
    centred = fields - fields.mean(axis=tuple(range(1, fields.ndim)), keepdims=True)
    power = (np.abs(np.fft.fftn(centred, axes=tuple(range(1, fields.ndim)))) ** 2).mean(0)
    frequencies = np.meshgrid(*[np.fft.fftfreq(size, 1 / size)] * (fields.ndim - 1), indexing="ij")
    radius = np.rint(np.sqrt(sum(f**2 for f in frequencies))).astype(int)
    shells = np.arange(1, size // 2 + 1)
    return np.array([power[radius == shell].mean() for shell in shells])


def spectrum_ratio(generated: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Radially averaged power spectrum of `generated` over that of `reference` fields of the same size, per shell."""
    return radial_power_spectrum(generated) / radial_power_spectrum(reference)
