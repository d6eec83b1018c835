"""Training images for two-phase microstructures and geological fields: random fields on 2-D (H, W) or 3-D
(D, H, W) grids, NumPy int8 arrays of 0 and 1 where 1 is the pore / sand / channel phase and the porosity is the
share of 1s. Every source takes the grid shape, a `numpy.random.Generator` (or anything
`np.random.default_rng` accepts) and keyword parameters, and is deterministic given the generator's state.

- `blobs(porosity, length)`: white noise smoothed by a periodic Gaussian filter of standard deviation `length`
  cells, thresholded at the rank that gives exactly round(porosity · cells) ones. Rounded pores whose size
  grows with `length`; periodic in every axis.
- `disks(porosity, radius)`: the Boolean model. Grains are overlapping disks (spheres in 3-D) of `radius` cells
  centred at a Poisson process of intensity λ = −ln(porosity) / (area of one grain) on the torus; the pore phase
  is what no grain covers, so E[porosity] = porosity and S2(r) = porosity² · exp(λ · |lens at distance r|).
  Centres are continuous and a cell counts as covered when its centre is, so these formulas hold exactly on
  the grid. Periodic; `radius` must stay below half the shortest axis.
- `gaussian_facies(porosity, length, model, anisotropy, angle, generator)`: a stationary Gaussian random field
  of unit variance with the `gstools` covariance model `model` ("gaussian": ρ(h) = exp(−π/4 · h²),
  "exponential": ρ(h) = exp(−h), h = lag / `length`, so `length` is the integral scale), anisotropy ratio(s)
  and rotation angle(s) in radians as `gstools` takes them (2-D: one ratio, one angle from axis 0 towards
  axis 1; 3-D: up to two ratios and three angles), thresholded at the normal quantile Φ⁻¹(1 − porosity): so
  E[porosity] = porosity (not exact per image) and S2 is the bivariate-normal orthant probability. Needs the
  optional `gstools` (`pip install 'gankit[fields]'`). `generator="fft"` (default) samples the field by
  circulant embedding of the gstools model's covariance on a torus padded until the covariance at every lag
  inside the grid is the model's to 1e-4 (a warning when a length scale too long for the grid stops that short),
  under 1 ms per 64×64 field; `generator="randmeth"` uses `gstools.SRF` itself (randomization method, about
  100 ms per 64×64 field). `gaussian_field` returns the continuous field.
- `channels(porosity, width, wavelength, amplitude, angle_spread)`: sinuous channels (1) in a background (0),
  added one at a time until their share reaches `porosity` (it overshoots by at most one channel). A channel's
  centreline runs along the last axis x: y(x) = y0 + A sin(2πx/λ + φ) with y0 and φ uniform, λ and A uniform
  within ±20 % of `wavelength` and `amplitude`, the whole channel turned by an angle uniform in
  ±`angle_spread` radians about the centre of the grid. A cell lies in the channel when its distance to the
  centreline, taken as the offset normal to the channel's axis times the cosine of the local slope, is at most
  width / 2. In 3-D (axis 0 is depth, increasing downwards) each channel also has a top at a uniform depth z0
  and a half-elliptic cross-section of half-width width / 2 and thickness width / 3 below z0.

`draw_fields(source, n, shape, seed=, porosity=, **params)` stacks n images, image i drawn with
`np.random.default_rng([seed, i])` (so the first k images do not depend on n); `porosity=(lo, hi)` gives each
image a target drawn uniformly from its own generator before anything else. `SOURCES` maps the names to the
functions and `SOURCE_PARAMETERS` lists the keywords each takes besides `porosity`.
"""

from __future__ import annotations

import functools
import inspect
import math
import warnings
from collections.abc import Callable, Sequence

import numpy as np

from gankit.errors import ConfigError

__all__ = [
    "SOURCES", "SOURCE_PARAMETERS", "blobs", "channels", "disks", "draw_fields", "gaussian_facies",
    "gaussian_field",
]

Shape = Sequence[int]
_MODELS = ("gaussian", "exponential")
_GENERATORS = ("fft", "randmeth")
_EMBEDDING_TOLERANCE = 1e-4  # largest error of the FFT generator's covariance at lags inside the grid
_MAX_TORUS_CELLS = 2**21  # the padded torus stops growing here (16 MiB of float64, 128³)


# --------------------------------------------------------------------------------------------------- blobs
def blobs(shape: Shape, rng: np.random.Generator, *, porosity: float, length: float) -> np.ndarray:
    """White noise smoothed by a periodic Gaussian filter (σ = `length` cells), its round(porosity · cells)
    highest cells set to 1."""
    from scipy import ndimage

    shape, rng = _check_shape(shape), np.random.default_rng(rng)
    _check_porosity(porosity)
    _positive("length", length)
    smooth = ndimage.gaussian_filter(rng.standard_normal(shape), sigma=float(length), mode="wrap")
    return _top_share(smooth, porosity)


def _top_share(values: np.ndarray, porosity: float) -> np.ndarray:
    flat = values.ravel()
    ones = round(porosity * flat.size)
    out = np.zeros(flat.size, dtype=np.int8)
    if ones:
        out[np.argpartition(flat, flat.size - ones)[flat.size - ones:]] = 1
    return out.reshape(values.shape)


# --------------------------------------------------------------------------------------------------- disks
def disks(shape: Shape, rng: np.random.Generator, *, porosity: float, radius: float) -> np.ndarray:
    """Boolean model: pore (1) outside overlapping disks/spheres of `radius` cells at Poisson centres on the
    torus, intensity −ln(porosity) / grain area so that E[porosity] = `porosity`."""
    shape, rng = _check_shape(shape), np.random.default_rng(rng)
    _check_porosity(porosity)
    _positive("radius", radius)
    if 2 * radius >= min(shape):
        raise ValueError(f"radius {radius} is too large for a field of shape {shape}: a grain must be narrower "
                         f"than the shortest axis; use a radius below {min(shape) / 2}")
    grain = math.pi * radius**2 if len(shape) == 2 else 4 / 3 * math.pi * radius**3
    count = rng.poisson(-math.log(porosity) / grain * math.prod(shape))
    centres = rng.random((count, len(shape))) * np.array(shape)
    covered = np.zeros(math.prod(shape), dtype=bool)
    # a cell p is covered by the grain at c when |p − c| ≤ radius, so p − floor(c) lies in −⌊radius⌋ … ⌊radius⌋ + 1
    offsets = np.arange(-math.floor(radius), math.floor(radius) + 2)
    stencil = np.stack(np.meshgrid(*[offsets] * len(shape), indexing="ij"), -1)
    stencil = stencil.reshape(-1, len(shape))
    step = max(1, 200_000 // len(stencil))  # grains per batch, to bound the memory
    for start in range(0, count, step):
        chunk = centres[start:start + step]
        cells = np.floor(chunk)[:, None, :] + stencil[None]  # (grains, stencil, axes) candidate cells
        inside = ((cells - chunk[:, None, :]) ** 2).sum(-1) <= radius**2
        cells = cells[inside].astype(np.int64) % np.array(shape)
        covered[np.ravel_multi_index(tuple(cells.T), shape)] = True
    return (~covered).reshape(shape).astype(np.int8)


# ------------------------------------------------------------------------------------------------ gaussian
def gaussian_field(shape: Shape, rng: np.random.Generator, *, length: float, model: str = "gaussian",
                   anisotropy: float | Sequence[float] = 1.0, angle: float | Sequence[float] = 0.0,
                   generator: str = "fft") -> np.ndarray:
    """A stationary Gaussian random field of mean 0 and variance 1 (float64, `shape`) with the gstools
    covariance model `model` ("gaussian" or "exponential") of length scale `length` cells, anisotropy and
    rotation as gstools takes them; array axis i is gstools' coordinate i. Needs gstools."""
    from scipy import fft

    shape, rng = _check_shape(shape), np.random.default_rng(rng)
    key = _gaussian_key(len(shape), length, model, anisotropy, angle, generator)
    gstools = _gstools()  # also when the FFT generator's spectrum is cached
    if generator == "randmeth":
        srf = gstools.SRF(_model(gstools, len(shape), *key[1:5]))
        return srf.structured([np.arange(float(n)) for n in shape], seed=int(rng.integers(2**31)))
    amplitude = _circulant_amplitude(shape, *key[1:5])
    noise = rng.standard_normal(amplitude.shape[:-1] + (2 * (amplitude.shape[-1] - 1),))
    field = fft.irfftn(amplitude * fft.rfftn(noise), s=noise.shape)
    return field[tuple(slice(0, n) for n in shape)]


def gaussian_facies(shape: Shape, rng: np.random.Generator, *, porosity: float, length: float,
                    model: str = "gaussian", anisotropy: float | Sequence[float] = 1.0,
                    angle: float | Sequence[float] = 0.0, generator: str = "fft") -> np.ndarray:
    """`gaussian_field` thresholded at Φ⁻¹(1 − porosity): 1 where the field is above, E[porosity] = `porosity`."""
    from scipy import special

    _check_porosity(porosity)
    field = gaussian_field(shape, rng, length=length, model=model, anisotropy=anisotropy, angle=angle,
                           generator=generator)
    return (field > special.ndtri(1 - porosity)).astype(np.int8)


def _gstools():
    try:
        import gstools
    except ImportError:
        raise ConfigError("data source 'gaussian' needs gstools: pip install 'gankit[fields]'") from None
    return gstools


def _gaussian_key(dim: int, length: float, model: str, anisotropy, angle, generator: str) -> tuple:
    _positive("length", length)
    if model not in _MODELS:
        raise ValueError(f"unknown covariance model {model!r}; use one of {', '.join(_MODELS)}")
    if generator not in _GENERATORS:
        raise ValueError(f"unknown generator {generator!r}; use one of {', '.join(_GENERATORS)}")
    anisotropy = tuple(float(a) for a in np.atleast_1d(anisotropy))
    angle = tuple(float(a) for a in np.atleast_1d(angle))
    if len(anisotropy) > dim - 1 or len(angle) > dim * (dim - 1) // 2:
        raise ValueError(f"a {dim}-D field takes at most {dim - 1} anisotropy ratio(s) and {dim * (dim - 1) // 2} "
                         f"angle(s); got {len(anisotropy)} and {len(angle)}")
    if not all(a > 0 and math.isfinite(a) for a in anisotropy) or not all(map(math.isfinite, angle)):
        raise ValueError(f"anisotropy ratios must be positive and angles finite; got {anisotropy} and {angle}")
    return dim, float(length), model, anisotropy, angle, generator


def _model(gstools, dim: int, length: float, model: str, anisotropy: tuple, angle: tuple):
    kind = {"gaussian": gstools.Gaussian, "exponential": gstools.Exponential}[model]
    return kind(dim=dim, var=1.0, len_scale=length, anis=list(anisotropy), angles=list(angle))


@functools.lru_cache(maxsize=16)
def _circulant_amplitude(shape: tuple[int, ...], length: float, model: str, anisotropy: tuple,
                         angle: tuple) -> np.ndarray:
    """√(eigenvalues) of the model's covariance on a padded torus, as an rfftn-shaped array: irfftn(amplitude ·
    rfftn(white noise)) has the covariance irfftn(amplitude²), which is the model's wherever the eigenvalues are
    ≥ 0 and no lag vector inside `shape` wraps onto a correlated one. The padding grows (from 2 · the longest
    length scale, by half each time) until that realized covariance is within _EMBEDDING_TOLERANCE of the model's
    at every lag vector inside `shape` (−n < d < n on each axis), or the torus would pass
    _MAX_TORUS_CELLS (then a warning gives the error reached)."""
    from scipy import fft

    covariance = _model(_gstools(), len(shape), length, model, anisotropy, angle)
    inside = np.stack(np.meshgrid(*[np.arange(1 - n, n) for n in shape], indexing="ij")).reshape(len(shape), -1)
    truth = covariance.cov_spatial(inside.astype(np.float64))  # at every lag vector inside the grid
    reach, best = 2.0 * length * max(1.0, *anisotropy), None
    while True:
        torus = [fft.next_fast_len(n + math.ceil(reach), real=True) for n in shape]
        torus[-1] += torus[-1] % 2  # even, so irfftn gives back the length
        if best is not None and math.prod(torus) > _MAX_TORUS_CELLS:
            break
        lags = np.meshgrid(*[np.where(np.arange(m) <= m // 2, np.arange(m), np.arange(m) - m) for m in torus],
                           indexing="ij")
        values = np.reshape(covariance.cov_spatial(np.stack([lag.ravel() for lag in lags]).astype(np.float64)),
                            torus)
        eigenvalues = np.clip(fft.rfftn(values).real, 0.0, None)
        realized = fft.irfftn(eigenvalues, s=torus)
        at = tuple(lag % m for lag, m in zip(inside, torus))  # a lag too long for the torus wraps: an error too
        best = (float(np.abs(realized[at] - truth).max()), eigenvalues)
        if best[0] <= _EMBEDDING_TOLERANCE:
            break
        reach *= 1.5
    error, eigenvalues = best
    if error > _EMBEDDING_TOLERANCE:
        warnings.warn(f"the {model} field of length {length} on a grid of shape {shape} is sampled with a "
                      f"covariance error up to {error:.1e}; a length scale well below the grid size avoids this",
                      stacklevel=3)
    return np.sqrt(eigenvalues)


# ------------------------------------------------------------------------------------------------ channels
def channels(shape: Shape, rng: np.random.Generator, *, porosity: float, width: float, wavelength: float,
             amplitude: float, angle_spread: float = 0.0) -> np.ndarray:
    """Sinuous channels (1) in a background (0), added until their share reaches `porosity`; see the module
    docstring for the geometry."""
    shape, rng = _check_shape(shape), np.random.default_rng(rng)
    _check_porosity(porosity)
    for name, value in (("width", width), ("wavelength", wavelength)):
        _positive(name, value)
    for name, value in (("amplitude", amplitude), ("angle_spread", angle_spread)):
        if not (isinstance(value, (int, float, np.floating, np.integer)) and 0 <= value < math.inf):
            raise ValueError(f"{name} must be zero or positive; got {value!r}")
    field = np.zeros(shape, dtype=bool)
    target, filled = porosity * field.size, 0
    plane = shape[-2:]
    centre = (np.array(plane) - 1) / 2
    y, x = np.arange(plane[0])[:, None] - centre[0], np.arange(plane[1])[None, :] - centre[1]
    for _ in range(100_000):
        turn = rng.uniform(-angle_spread, angle_spread) if angle_spread else 0.0
        half_extent = (abs(math.sin(turn)) * plane[1] + abs(math.cos(turn)) * plane[0]) / 2  # across the axis
        offset = rng.uniform(-half_extent, half_extent)
        phase = rng.uniform(0, 2 * math.pi)
        length_i = wavelength * rng.uniform(0.8, 1.2)
        amplitude_i = amplitude * rng.uniform(0.8, 1.2)
        depth = rng.uniform(0, shape[0]) if len(shape) == 3 else None
        squared = _squared_distance((y, x), turn, offset, phase, length_i, amplitude_i)
        for where, reach in [(..., width / 2)] if depth is None else _layers(depth, width, shape[0]):
            new = squared <= reach**2
            filled += np.count_nonzero(new & ~field[where])
            field[where] |= new
        if filled >= target:
            return field.astype(np.int8)
    raise RuntimeError("channels did not reach the target share after 100000 channels")  # pragma: no cover


def _squared_distance(grid: tuple[np.ndarray, np.ndarray], turn: float, offset: float, phase: float,
                      wavelength: float, amplitude: float) -> np.ndarray:
    """Squared distance of each cell of the (y, x) plane to one channel's centreline. In the channel's frame
    (u along its axis, v across, origin at the grid's centre) the centreline is v = offset + amplitude ·
    sin(2πu / wavelength + phase), and the distance is taken as |v − centreline| · cos(slope angle) =
    |v − centreline| / √(1 + slope²). `grid` is (y, x) from the grid's centre as a column and a row."""
    y, x = grid
    if turn == 0:
        u, v = x, y  # the trigonometry then runs on one row only
    else:
        u, v = x * math.cos(turn) + y * math.sin(turn), -x * math.sin(turn) + y * math.cos(turn)
    angular = 2 * math.pi / wavelength
    across = v - offset - amplitude * np.sin(angular * u + phase)
    return across**2 / (1 + (amplitude * angular * np.cos(angular * u + phase)) ** 2)


def _layers(depth: float, width: float, depths: int):
    """(z, half-width) of a channel's half-elliptic cross-section: top at `depth`, half-width width / 2 there,
    thickness width / 3 below it (the layers inside the grid)."""
    thickness = width / 3
    for z in range(math.ceil(depth), min(depths - 1, math.floor(depth + thickness)) + 1):
        yield z, width / 2 * math.sqrt(max(0.0, 1 - ((z - depth) / thickness) ** 2))


def _channel_mask(shape: tuple[int, ...], centre: np.ndarray, turn: float, offset: float, phase: float,
                  wavelength: float, amplitude: float, width: float, depth: float | None) -> np.ndarray:
    """Boolean mask of one channel (`channels` builds the same cells layer by layer)."""
    grid = np.arange(shape[-2])[:, None] - centre[0], np.arange(shape[-1])[None, :] - centre[1]
    squared = _squared_distance(grid, turn, offset, phase, wavelength, amplitude)
    if depth is None:
        return squared <= width**2 / 4
    mask = np.zeros(shape, dtype=bool)
    for z, reach in _layers(depth, width, shape[0]):
        mask[z] = squared <= reach**2
    return mask


# -------------------------------------------------------------------------------------------------- stacks
SOURCES: dict[str, Callable[..., np.ndarray]] = {
    "blobs": blobs, "disks": disks, "gaussian": gaussian_facies, "channels": channels,
}
SOURCE_PARAMETERS: dict[str, tuple[str, ...]] = {
    name: tuple(p for p in inspect.signature(function).parameters if p not in ("shape", "rng", "porosity"))
    for name, function in SOURCES.items()
}


def draw_fields(source: str, n: int, shape: tuple[int, ...], *, seed: int,
                porosity: float | tuple[float, float], **params) -> np.ndarray:
    """(n, *shape) int8 images of `source`; image i uses `np.random.default_rng([seed, i])`. A `porosity`
    (lo, hi) draws each image's target uniformly, the first draw of that image's generator."""
    if source not in SOURCES:
        raise ValueError(f"unknown data source {source!r}; use one of {', '.join(SOURCES)}")
    function = SOURCES[source]
    valid = SOURCE_PARAMETERS[source]
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise ValueError(f"unknown parameter(s) {', '.join(unknown)} for data source {source!r}; "
                         f"it takes porosity and {', '.join(valid)}")
    signature = inspect.signature(function).parameters
    missing = [p for p in valid if p not in params and signature[p].default is inspect.Parameter.empty]
    if missing:
        raise ValueError(f"data source {source!r} needs parameter(s) {', '.join(missing)}; "
                         f"it takes porosity and {', '.join(valid)}")
    shape = _check_shape(shape)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"the seed must be a whole number ≥ 0; got {seed!r}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"the number of images must be a whole number ≥ 0; got {n!r}")
    if isinstance(porosity, (tuple, list)):
        if len(porosity) != 2:
            raise ValueError(f"a porosity range must be two numbers (lo, hi); got {porosity!r}")
        lo, hi = porosity
        _check_porosity(lo)
        _check_porosity(hi)
        if lo > hi:
            raise ValueError(f"the porosity range ({lo}, {hi}) is reversed; give it as (low, high)")
    else:
        _check_porosity(porosity)
    out = np.empty((n, *shape), dtype=np.int8)
    for i in range(n):
        rng = np.random.default_rng([seed, i])
        target = rng.uniform(lo, hi) if isinstance(porosity, (tuple, list)) else porosity
        out[i] = function(shape, rng, porosity=target, **params)
    return out


# -------------------------------------------------------------------------------------------------- checks
def _check_shape(shape) -> tuple[int, ...]:
    try:
        shape = tuple(int(n) for n in shape)
    except (TypeError, ValueError):
        raise ValueError(f"a field shape must be a tuple of 2 or 3 whole numbers; got {shape!r}") from None
    if len(shape) not in (2, 3) or min(shape) < 2:
        raise ValueError(f"a field must be a 2-D or 3-D grid with at least 2 cells per axis; got shape {shape}")
    return shape


def _check_porosity(porosity: float) -> None:
    if not (isinstance(porosity, (int, float, np.floating, np.integer)) and 0 < porosity < 1):
        raise ValueError(f"porosity must lie strictly between 0 and 1; got {porosity!r}")


def _positive(name: str, value: float) -> None:
    if not (isinstance(value, (int, float, np.floating, np.integer)) and value > 0 and math.isfinite(value)):
        raise ValueError(f"{name} must be a positive number of cells; got {value!r}")
