"""The statistics materials scientists and geoscientists judge a two-phase or continuous field by, on 2-D or 3-D
grids (NumPy arrays, one value per pixel or voxel), so generated fields can be compared with training images.

- `porosity`: the share of the pore phase.
- `two_point_correlation`: S2(r) = P(x and x + r both in the phase), along each axis, averaged over the axes;
  periodic (by FFT: the field is taken as one period of a tiling) or not (only pairs inside the field).
- `variogram`: γ(r) = ½ E[(Z(x + r) − Z(x))²] along each axis over the pairs inside the field, averaged.
- `percolating_fraction`: the share of the phase in clusters (face-connected, `scipy.ndimage.label`) that touch
  both faces normal to an axis.
- `specific_surface`: faces between unlike neighbours per pixel (per unit area in 2-D, volume in 3-D).
- `lineal_path`: L(r) = P(all r + 1 cells of a straight segment from x to x + r along an axis lie in the phase),
  over the segments inside the field, averaged over the axes; L(0) is the porosity.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = [
    "lineal_path", "percolating_fraction", "porosity", "specific_surface", "two_point_correlation", "variogram",
]


def _grid(field: np.ndarray) -> np.ndarray:
    field = np.asarray(field)
    if field.ndim not in (2, 3) or min(field.shape) < 2:
        raise ValueError(f"a field must be a 2-D or 3-D grid with at least 2 cells per axis; got shape {field.shape}")
    if not np.isfinite(field).all():
        raise ValueError("the field holds NaN or infinite values")
    return field


def porosity(field: np.ndarray, phase: int = 1) -> float:
    """Share of cells equal to `phase`."""
    return float((_grid(field) == phase).mean())


def two_point_correlation(field: np.ndarray, max_lag: int, phase: int = 1, periodic: bool = False) -> np.ndarray:
    """S2(r) for r = 0 … max_lag (max_lag + 1,), averaged over the axes. S2(0) is the porosity; for a field
    without long-range order S2 falls to porosity² at long lags."""
    indicator = (_grid(field) == phase).astype(np.float64)
    _check_lag(indicator, max_lag, periodic)
    if periodic:
        spectrum = np.fft.rfftn(indicator)
        every_axis = tuple(range(indicator.ndim))
        correlation = np.fft.irfftn(spectrum * np.conj(spectrum), s=indicator.shape, axes=every_axis) / indicator.size
        axes = [correlation[tuple(np.arange(max_lag + 1) if a == axis else 0 for a in range(indicator.ndim))]
                for axis in range(indicator.ndim)]
        return np.mean(axes, axis=0)
    return _along_axes(indicator, max_lag, lambda a, b: (a * b).mean())


def variogram(field: np.ndarray, max_lag: int) -> np.ndarray:
    """γ(r) for r = 0 … max_lag (max_lag + 1,), ½ the mean squared difference of values r cells apart along an
    axis, over the pairs inside the field, averaged over the axes."""
    values = _grid(field).astype(np.float64)
    _check_lag(values, max_lag, periodic=False)
    return _along_axes(values, max_lag, lambda a, b: 0.5 * ((a - b) ** 2).mean())


def percolating_fraction(field: np.ndarray, phase: int = 1, axis: int = 0) -> float:
    """Share of the phase's cells in face-connected clusters touching both faces normal to `axis` (0 when the
    phase is absent)."""
    from scipy import ndimage

    indicator = _grid(field) == phase
    if not indicator.any():
        return 0.0
    labels, _ = ndimage.label(indicator)
    first, last = np.take(labels, 0, axis=axis), np.take(labels, -1, axis=axis)
    spanning = np.intersect1d(first[first > 0], last[last > 0])
    return float(np.isin(labels, spanning).sum() / indicator.sum())


def specific_surface(field: np.ndarray, phase: int = 1) -> float:
    """Faces between a `phase` cell and a cell of another phase (inside the field), per cell."""
    indicator = _grid(field) == phase
    faces = sum(int((np.diff(indicator.astype(np.int8), axis=axis) != 0).sum()) for axis in range(indicator.ndim))
    return faces / indicator.size


def lineal_path(field: np.ndarray, max_length: int, phase: int = 1) -> np.ndarray:
    """L(r) for r = 0 … max_length (max_length + 1,): the share of straight segments of r + 1 cells along an axis,
    inside the field (not periodic), that lie wholly in `phase`, averaged over the axes. L(0) is the porosity;
    L never increases with r."""
    indicator = _grid(field) == phase
    _check_lag(indicator, max_length, periodic=False, name="max_length")
    lags = np.arange(max_length + 1)
    out = np.zeros(max_length + 1)
    for axis in range(indicator.ndim):
        # runs of the phase along the axis: a run of ℓ cells holds max(0, ℓ − r) segments of r + 1 cells
        steps = np.diff(np.moveaxis(indicator, axis, -1).astype(np.int8), prepend=0, append=0, axis=-1)
        runs = np.flatnonzero(steps == -1) - np.flatnonzero(steps == 1)  # both in row-major order, run by run
        count = np.bincount(runs, minlength=indicator.shape[axis] + 1).astype(np.float64)
        # Σ_{ℓ>r} count[ℓ] (ℓ − r) = (Σ_{ℓ>r} count[ℓ] ℓ) − r (Σ_{ℓ>r} count[ℓ]), by reversed cumulative sums
        above = np.cumsum(count[::-1])[::-1]
        weighted = np.cumsum((count * np.arange(count.size))[::-1])[::-1]
        segments = weighted[lags + 1] - lags * above[lags + 1]
        starts = (indicator.shape[axis] - lags) * (indicator.size // indicator.shape[axis])
        out += segments / starts / indicator.ndim
    return out


def _check_lag(field: np.ndarray, max_lag: int, periodic: bool, name: str = "max_lag") -> None:
    limit = min(field.shape) // 2 if periodic else min(field.shape) - 1
    if isinstance(max_lag, bool) or not isinstance(max_lag, (int, np.integer)) or not 0 <= max_lag <= limit:
        raise ValueError(f"{name} {max_lag!r} is outside 0…{limit} for a field of shape {field.shape}; "
                         f"give a whole number in that range")


def _along_axes(field: np.ndarray, max_lag: int,
                pair_statistic: Callable[[np.ndarray, np.ndarray], float]) -> np.ndarray:
    """(max_lag + 1,): pair_statistic(values, values r further along an axis), averaged over the axes."""
    out = np.zeros(max_lag + 1)
    for axis in range(field.ndim):
        length = field.shape[axis]
        for lag in range(max_lag + 1):
            head = np.take(field, np.arange(0, length - lag), axis=axis)
            tail = np.take(field, np.arange(lag, length), axis=axis)
            out[lag] += pair_statistic(head, tail) / field.ndim
    return out
