"""Training-image sources (gankit.fields.sources) against what is known of them independently: the Boolean
model's closed-form porosity variance and S2, gstools' covariance models and estimators, the bivariate-normal
orthant probability of a thresholded Gaussian field, a brute-force distance to a sampled channel centreline.

Statistical tolerances: a mean over n independent fields of a per-field statistic with standard deviation σ
has standard error σ/√n; the checks allow 4 standard errors (σ from the closed form where there is one, else
the fields' own sample standard deviation), which a correct generator misses about once in 16,000 per value."""

import math
import sys

import numpy as np
import pytest

from gankit.errors import ConfigError
from gankit.fields import sources
from gankit.fields.sources import (
    SOURCE_PARAMETERS, SOURCES, blobs, channels, disks, draw_fields, gaussian_facies, gaussian_field,
)
from gankit.fields.statistics import porosity, two_point_correlation, variogram

PARAMETERS = {
    "blobs": {"length": 2.0},
    "disks": {"radius": 3.0},
    "gaussian": {"length": 3.0, "model": "exponential", "anisotropy": 0.5, "angle": 0.3},
    "channels": {"width": 3.0, "wavelength": 16.0, "amplitude": 3.0, "angle_spread": 0.3},
}


def _needs(source: str) -> None:
    if source == "gaussian":
        pytest.importorskip("gstools")


def _mean_and_error(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean over the first axis and 4 standard errors of it (from the sample standard deviation)."""
    return values.mean(0), 4 * values.std(0, ddof=1) / math.sqrt(len(values))


def _directional_variograms(fields, step: tuple[int, ...], lags: np.ndarray) -> np.ndarray:
    """(fields, lags): ½ the mean squared difference of the values at x and x + r · step, over the pairs
    inside each field."""
    def one(f, r):
        head = tuple(slice(max(0, -r * s), f.shape[a] - max(0, r * s)) for a, s in enumerate(step))
        tail = tuple(slice(max(0, r * s), f.shape[a] - max(0, -r * s)) for a, s in enumerate(step))
        return 0.5 * np.mean((f[tail] - f[head]) ** 2)
    return np.array([[one(f, r) for r in lags] for f in fields])


def _orthant(threshold: float, rho: np.ndarray) -> np.ndarray:
    """P(Z1 > t, Z2 > t) for standard normals of correlation rho (ρ < 1), by scipy."""
    from scipy.stats import multivariate_normal

    return np.array([multivariate_normal.cdf([-threshold, -threshold], cov=[[1, r], [r, 1]],
                                             abseps=1e-8, releps=1e-8) for r in rho])


# ------------------------------------------------------------------------------------------ every source
@pytest.mark.parametrize("shape", [(24, 20), (10, 12, 14)])
@pytest.mark.parametrize("source", sorted(SOURCES))
def test_every_source_is_deterministic_by_seed_and_image_i_does_not_depend_on_n(source, shape):
    _needs(source)
    params = PARAMETERS[source]
    first = draw_fields(source, 4, shape, seed=7, porosity=0.3, **params)
    assert first.shape == (4, *shape) and first.dtype == np.int8
    assert set(np.unique(first)) <= {0, 1} and first.any() and not first.all()
    np.testing.assert_array_equal(first, draw_fields(source, 4, shape, seed=7, porosity=0.3, **params))
    np.testing.assert_array_equal(first[:2], draw_fields(source, 2, shape, seed=7, porosity=0.3, **params))
    assert not np.array_equal(first, draw_fields(source, 4, shape, seed=8, porosity=0.3, **params))
    assert not np.array_equal(first[0], first[1])
    # image i is the source function called with np.random.default_rng([seed, i])
    alone = SOURCES[source](shape, np.random.default_rng([7, 3]), porosity=0.3, **params)
    np.testing.assert_array_equal(first[3], alone)
    assert draw_fields(source, 0, shape, seed=7, porosity=0.3, **params).shape == (0, *shape)


def test_source_parameters_name_each_functions_keywords():
    assert SOURCE_PARAMETERS == {
        "blobs": ("length",), "disks": ("radius",),
        "gaussian": ("length", "model", "anisotropy", "angle", "generator"),
        "channels": ("width", "wavelength", "amplitude", "angle_spread"),
    }


def test_a_porosity_range_draws_each_images_target_first_from_its_own_generator():
    fields = draw_fields("blobs", 6, (20, 30), seed=3, porosity=(0.2, 0.6), length=2.0)
    targets = [np.random.default_rng([3, i]).uniform(0.2, 0.6) for i in range(6)]
    np.testing.assert_allclose(fields.sum(axis=(1, 2)), np.array(targets) * 600, atol=0.5)  # blobs: rank-exact
    assert len(set(fields.sum(axis=(1, 2)))) == 6


# ------------------------------------------------------------------------------------------------ blobs
@pytest.mark.parametrize("shape", [(33, 47), (9, 16, 20)])
def test_blobs_hit_the_porosity_to_one_cell(shape):
    for target in (0.05, 0.3, 0.5, 0.77):
        field = blobs(shape, np.random.default_rng(1), porosity=target, length=2.5)
        assert abs(int(field.sum()) - target * field.size) <= 0.5


def test_blobs_s2_follows_the_thresholded_smoothed_noise():
    """Noise smoothed by a Gaussian of σ has correlation exp(−r²/4σ²); cut at the 1 − φ quantile, S2(r) is the
    normal orthant probability, lowered a little because the count of ones is fixed: that constraint makes
    Σ_h S2(h) = φ² · cells over the torus, removing the torus mean c of (orthant − φ²) on average over the lags,
    so S2 should lie in [orthant − c, orthant] (± 4 standard errors)."""
    sigma, phi, n = 3.0, 0.3, 120
    fields = draw_fields("blobs", n, (64, 64), seed=5, porosity=phi, length=sigma)
    mean, error = _mean_and_error(np.array([two_point_correlation(f, 8, periodic=True) for f in fields]))
    from scipy import special

    threshold = special.ndtri(1 - phi)
    lags = np.minimum(np.arange(64), 64 - np.arange(64))
    distance = np.unique(np.hypot(lags[:, None], lags[None, :]), return_inverse=True)
    orthant = _orthant(threshold, np.exp(-distance[0][1:] ** 2 / (4 * sigma**2)))
    excess = np.r_[phi, orthant][distance[1]] - phi**2  # every torus lag vector
    shift = excess.mean()
    expected = _orthant(threshold, np.exp(-np.arange(1, 9) ** 2 / (4 * sigma**2)))
    assert np.all(mean[1:] <= expected + error[1:] + 1e-6) and np.all(mean[1:] >= expected - shift - error[1:] - 1e-6)
    assert mean[0] == pytest.approx(phi, abs=0.5 / 4096)


# ------------------------------------------------------------------------------------------------ disks
def _lens_area(r: np.ndarray, radius: float) -> np.ndarray:
    r = np.minimum(np.asarray(r, dtype=float), 2 * radius)
    return 2 * radius**2 * np.arccos(r / (2 * radius)) - r / 2 * np.sqrt(4 * radius**2 - r**2)


def _lens_volume(r: np.ndarray, radius: float) -> np.ndarray:
    r = np.minimum(np.asarray(r, dtype=float), 2 * radius)
    return math.pi * (4 * radius + r) * (2 * radius - r) ** 2 / 12


def test_disks_porosity_and_s2_match_the_boolean_model():
    """Cells count as covered when their centre is, and centres are continuous, so on the grid E[porosity] = φ
    and S2(r) = φ² exp(λ · lens(r)) hold exactly; the porosity's variance is (1/cells) Σ_h (S2(h) − φ²) over
    the torus lag vectors h."""
    phi, radius, n, side = 0.4, 6.0, 1500, 64
    intensity = -math.log(phi) / (math.pi * radius**2)
    fields = draw_fields("disks", n, (side, side), seed=11, porosity=phi, radius=radius)
    lags = np.minimum(np.arange(side), side - np.arange(side))
    s2_torus = phi**2 * np.exp(intensity * _lens_area(np.hypot(lags[:, None], lags[None, :]), radius))
    variance = (s2_torus - phi**2).sum() / side**2
    porosities = fields.mean(axis=(1, 2))
    assert porosities.mean() == pytest.approx(phi, abs=4 * math.sqrt(variance / n))
    # sample variance / true variance ~ χ²(n−1)/(n−1): standard deviation √(2/(n−1))
    assert porosities.var(ddof=1) / variance == pytest.approx(1, abs=4 * math.sqrt(2 / (n - 1)))
    mean, error = _mean_and_error(np.array([two_point_correlation(f, 16, periodic=True) for f in fields]))
    expected = phi**2 * np.exp(intensity * _lens_area(np.arange(17), radius))
    assert np.all(np.abs(mean - expected) <= error + 1e-12)
    assert expected[13:] == pytest.approx(phi**2)  # beyond 2R the grains are independent


def test_spheres_in_3d_match_the_boolean_model():
    phi, radius, n, side = 0.5, 4.0, 30, 24
    intensity = -math.log(phi) / (4 / 3 * math.pi * radius**3)
    fields = draw_fields("disks", n, (side,) * 3, seed=2, porosity=phi, radius=radius)
    mean, error = _mean_and_error(np.array([two_point_correlation(f, 10, periodic=True) for f in fields]))
    expected = phi**2 * np.exp(intensity * _lens_volume(np.arange(11), radius))
    assert np.all(np.abs(mean - expected) <= error + 1e-12)


# --------------------------------------------------------------------------------------------- gaussian
@pytest.mark.parametrize("shape, model, anisotropy, angle", [
    ((48, 56), "gaussian", (0.4,), (0.5,)), ((30, 20), "exponential", (1.0,), (0.0,)),
    ((12, 10, 14), "gaussian", (0.5, 2.0), (0.3, 0.1, 0.0)),
])
def test_fft_generator_covariance_is_the_models_at_every_lag_inside_the_grid(shape, model, anisotropy, angle):
    """The generated field's covariance is irfftn(amplitude²) on the padded torus: exactly, whatever the noise.
    Against gstools' cov_spatial at every lag vector d with |d_a| < n_a (a statistical test could not see the
    1e-3 errors of a torus padded too little)."""
    gstools = pytest.importorskip("gstools")
    length = 4.0
    amplitude = sources._circulant_amplitude(shape, length, model, anisotropy, angle)
    torus = amplitude.shape[:-1] + (2 * (amplitude.shape[-1] - 1),)
    realized = np.fft.irfftn(amplitude**2, s=torus, axes=tuple(range(len(shape))))
    lags = np.stack(np.meshgrid(*[np.arange(1 - n, n) for n in shape], indexing="ij")).reshape(len(shape), -1)
    kind = {"gaussian": gstools.Gaussian, "exponential": gstools.Exponential}[model]
    reference = kind(dim=len(shape), var=1.0, len_scale=length, anis=list(anisotropy), angles=list(angle))
    got = realized[tuple(lag % m for lag, m in zip(lags, torus))]
    np.testing.assert_allclose(got, reference.cov_spatial(lags.astype(float)), rtol=0, atol=1e-4)


def test_a_length_scale_too_long_for_the_grid_warns():
    pytest.importorskip("gstools")
    with pytest.warns(UserWarning, match="covariance error up to"):
        gaussian_field((6, 6), np.random.default_rng(0), length=300.0, model="exponential")


@pytest.mark.parametrize("model", ["gaussian", "exponential"])
def test_gaussian_field_variogram_in_each_direction_matches_the_gstools_model(model):
    """Anisotropic and turned, so a swapped axis or a wrong sign of the angle would show: the variogram along
    the lag vector r · step is model.vario_spatial(r · step), by gstools, for the axes and both diagonals."""
    gstools = pytest.importorskip("gstools")
    length, anisotropy, angle, n = 5.0, 0.4, 0.5, 100
    kind = {"gaussian": gstools.Gaussian, "exponential": gstools.Exponential}[model]
    reference = kind(dim=2, var=1.0, len_scale=length, anis=anisotropy, angles=angle)
    fields = [gaussian_field((48, 56), np.random.default_rng([4, i]), length=length, model=model,
                             anisotropy=anisotropy, angle=angle) for i in range(n)]
    for step in ((1, 0), (0, 1), (1, 1), (1, -1)):  # short lags, and long ones where a poor embedding would show
        lags = np.r_[1:11, 15:41:5] if step[1] == 0 else np.r_[1:11, 15:36:5]
        mean, error = _mean_and_error(_directional_variograms(fields, step, lags))
        assert np.all(np.abs(mean - reference.vario_spatial(np.outer(step, lags).astype(float))) <= error)
    pooled = np.concatenate([f.ravel() for f in fields])
    assert pooled.mean() == pytest.approx(0, abs=0.1) and pooled.var() == pytest.approx(1, abs=0.1)


def test_gaussian_facies_porosity_and_s2_match_the_bivariate_normal():
    """Cut at t = Φ⁻¹(1 − φ): E[porosity] = φ and S2(r) = P(Z1 > t, Z2 > t) with corr(Z1, Z2) = ρ(r),
    the gstools model's correlation."""
    gstools = pytest.importorskip("gstools")
    from scipy import special

    phi, length, n = 0.35, 4.0, 1000
    fields = draw_fields("gaussian", n, (64, 64), seed=9, porosity=phi, length=length)
    mean, error = _mean_and_error(fields.mean(axis=(1, 2)))
    assert abs(mean - phi) <= error
    mean, error = _mean_and_error(np.array([two_point_correlation(f, 12) for f in fields]))
    rho = gstools.Gaussian(dim=2, var=1.0, len_scale=length).correlation(np.arange(1, 13.0))
    np.testing.assert_allclose(rho[:3], np.exp(-np.pi / 4 * (np.arange(1, 4) / length) ** 2))  # gstools' scaling
    expected = _orthant(special.ndtri(1 - phi), rho)
    assert np.all(np.abs(mean[1:] - expected) <= error[1:] + 1e-6)


def test_repo_variogram_equals_gstools_axis_estimator():
    gstools = pytest.importorskip("gstools")
    field = gaussian_field((40, 50), np.random.default_rng(0), length=4.0)
    along = [gstools.vario_estimate_axis(field, direction=d)[:40] for d in ("x", "y")]  # x: axis 0, y: axis 1
    np.testing.assert_allclose(variogram(field, 39), np.mean(along, axis=0), atol=1e-10)
    cube = gaussian_field((12, 14, 16), np.random.default_rng(1), length=2.0)
    along = [gstools.vario_estimate_axis(cube, direction=d)[:12] for d in ("x", "y", "z")]
    np.testing.assert_allclose(variogram(cube, 11), np.mean(along, axis=0), atol=1e-10)


def test_gstools_randmeth_generator_gives_the_same_law_and_layout():
    """`generator="randmeth"` is gstools.SRF; each field draws its own modes, so the mean variogram over fields
    is the model's. Long along axis 0 (angle 0, anisotropy 0.3), so axis 1 decorrelates faster."""
    gstools = pytest.importorskip("gstools")
    length, n = 4.0, 30
    reference = gstools.Gaussian(dim=2, var=1.0, len_scale=length, anis=0.3)
    fields = [gaussian_field((24, 24), np.random.default_rng([1, i]), length=length, anisotropy=0.3,
                             generator="randmeth") for i in range(n)]
    for step in ((1, 0), (0, 1)):
        mean, error = _mean_and_error(_directional_variograms(fields, step, np.arange(1, 4)))
        assert np.all(np.abs(mean - reference.vario_spatial(np.outer(step, (1, 2, 3)).astype(float))) <= error)


def test_gaussian_in_3d_and_without_gstools(monkeypatch):
    pytest.importorskip("gstools")
    cube = gaussian_facies((16, 16, 16), np.random.default_rng(0), porosity=0.2, length=3.0, anisotropy=(0.5, 2.0),
                           angle=(0.3, 0.1, 0.0))
    assert cube.shape == (16, 16, 16) and 0.05 < cube.mean() < 0.4
    monkeypatch.setitem(sys.modules, "gstools", None)  # `import gstools` now raises ImportError
    with pytest.raises(ConfigError, match=r"needs gstools: pip install 'gankit\[fields\]'"):
        gaussian_facies((16, 16), np.random.default_rng(0), porosity=0.2, length=3.0)


# --------------------------------------------------------------------------------------------- channels
@pytest.mark.parametrize("shape", [(48, 64), (12, 32, 40)])
def test_channel_share_reaches_the_target_and_overshoots_by_at_most_one_channel(shape):
    """Adding stops at the first channel that reaches the target. Unturned, one channel covers in each column
    (x) at most width · √(1 + s²) + 1 cells across, s its largest slope 2π · 1.2 A / (0.8 λ), and in 3-D at
    most ⌊width/3⌋ + 1 layers."""
    width, wavelength, amplitude, target = 4.0, 24.0, 4.0, 0.3
    fields = draw_fields("channels", 20, shape, seed=1, porosity=target, width=width, wavelength=wavelength,
                         amplitude=amplitude)
    slope = 2 * math.pi * 1.2 * amplitude / (0.8 * wavelength)
    one_channel = shape[-1] * (width * math.sqrt(1 + slope**2) + 1)
    if len(shape) == 3:
        one_channel *= math.floor(width / 3) + 1
    shares = fields.mean(axis=tuple(range(1, fields.ndim)))
    assert np.all(shares >= target) and np.all(shares <= target + one_channel / math.prod(shape))


def test_straight_channels_are_bands_of_the_given_width():
    fields = draw_fields("channels", 10, (40, 30), seed=2, porosity=0.05, width=3.0, wavelength=10.0,
                         amplitude=0.0)
    assert np.array_equal(fields, np.repeat(fields[:, :, :1], 30, axis=2))  # constant along x
    rows = fields[:, :, 0].sum(1)
    assert np.all((rows >= 1) & (rows <= 4))  # one band |y − y0| ≤ 1.5: 3 or 4 rows, fewer when cut by an edge
    turned = draw_fields("channels", 10, (40, 30), seed=2, porosity=0.05, width=3.0, wavelength=10.0,
                         amplitude=0.0, angle_spread=1.0)
    assert not np.array_equal(turned, np.repeat(turned[:, :, :1], 30, axis=2))


def test_a_channel_mask_is_the_cells_within_half_a_width_of_its_centreline():
    """Against the Euclidean distance to a densely sampled centreline: the slope-cosine distance is exact for
    straight stretches and off by second-order curvature terms, here < 0.25 cells."""
    from scipy.spatial import cKDTree

    shape, turn, offset, phase, wavelength, amplitude, width = (40, 60), 0.4, 2.0, 1.0, 32.0, 4.0, 6.0
    centre = (np.array(shape) - 1) / 2
    mask = sources._channel_mask(shape, centre, turn, offset, phase, wavelength, amplitude, width, None)
    u = np.arange(-150, 150, 0.005)
    v = offset + amplitude * np.sin(2 * np.pi * u / wavelength + phase)
    line = np.c_[u * math.sin(turn) + v * math.cos(turn) + centre[0], u * math.cos(turn) - v * math.sin(turn)
                 + centre[1]]
    distance = cKDTree(line).query(np.indices(shape).reshape(2, -1).T)[0].reshape(shape)
    assert np.all(mask[distance <= width / 2 - 0.25]) and not np.any(mask[distance > width / 2 + 0.25])
    assert 0.9 < mask.sum() / np.count_nonzero(distance <= width / 2) < 1.1
    # 3-D: half-ellipse below the top z0 of half-width width/2 and thickness width/3, here for a straight channel
    depth = 2.4
    cube = sources._channel_mask((10, 20, 8), np.array([9.5, 3.5]), 0.0, 1.2, 0.0, 10.0, 0.0, width, depth)
    z, y = np.indices((10, 20))
    inside = (z >= depth) & (((y - 9.5 - 1.2) / (width / 2)) ** 2 + ((z - depth) / (width / 3)) ** 2 <= 1)
    np.testing.assert_array_equal(cube, np.repeat(inside[:, :, None], 8, axis=2))


# ----------------------------------------------------------------------------------------------- errors
@pytest.mark.parametrize("call, match", [
    (lambda: draw_fields("sand", 2, (8, 8), seed=0, porosity=0.3), "unknown data source 'sand'.*blobs, disks"),
    (lambda: draw_fields("blobs", 2, (8, 8), seed=0, porosity=0.3, sigma=2), "unknown parameter.*sigma.*length"),
    (lambda: draw_fields("disks", 2, (8, 8), seed=0, porosity=0.3), "needs parameter.*radius"),
    (lambda: draw_fields("channels", 2, (8, 8), seed=0, porosity=0.3, width=2),
     "needs parameter.*wavelength, amplitude"),
    (lambda: draw_fields("blobs", 2, (8, 8), seed=0, porosity=1.0, length=2), "strictly between 0 and 1"),
    (lambda: draw_fields("blobs", 2, (8, 8), seed=0, porosity=(0.2, 1.5), length=2), "strictly between 0 and 1"),
    (lambda: draw_fields("blobs", 2, (8, 8), seed=0, porosity=(0.5, 0.2), length=2), r"\(0.5, 0.2\) is reversed"),
    (lambda: draw_fields("blobs", -1, (8, 8), seed=0, porosity=0.3, length=2), "number of images"),
    (lambda: draw_fields("blobs", 2, (8, 8), seed=-3, porosity=0.3, length=2), "seed must be a whole number"),
    (lambda: blobs((8, 8), 0, porosity=0.0, length=2), "strictly between 0 and 1"),
    (lambda: blobs((8, 8), 0, porosity=0.3, length=0), "length must be a positive"),
    (lambda: blobs((8,), 0, porosity=0.3, length=2), "2-D or 3-D"),
    (lambda: blobs((8, 1), 0, porosity=0.3, length=2), "at least 2 cells"),
    (lambda: blobs((4, 4, 4, 4), 0, porosity=0.3, length=2), "2-D or 3-D"),
    (lambda: disks((8, 8), 0, porosity=0.3, radius=-1), "radius must be a positive"),
    (lambda: disks((8, 16), 0, porosity=0.3, radius=4), "radius 4 is too large.*below 4.0"),
    (lambda: channels((8, 8), 0, porosity=0.3, width=0, wavelength=5, amplitude=1), "width must be a positive"),
    (lambda: channels((8, 8), 0, porosity=0.3, width=2, wavelength=0, amplitude=1), "wavelength must be a posit"),
    (lambda: channels((8, 8), 0, porosity=0.3, width=2, wavelength=5, amplitude=-1), "amplitude must be zero"),
])
def test_bad_parameters_are_refused_with_the_fix(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_bad_gaussian_parameters_are_refused():
    pytest.importorskip("gstools")
    with pytest.raises(ValueError, match="unknown covariance model 'matern'; use one of gaussian, exponential"):
        gaussian_facies((8, 8), 0, porosity=0.3, length=2, model="matern")
    with pytest.raises(ValueError, match="length must be a positive"):
        gaussian_facies((8, 8), 0, porosity=0.3, length=-2)
    with pytest.raises(ValueError, match="at most 1 anisotropy"):
        gaussian_facies((8, 8), 0, porosity=0.3, length=2, anisotropy=(0.5, 0.5))
    with pytest.raises(ValueError, match="unknown generator"):
        gaussian_facies((8, 8), 0, porosity=0.3, length=2, generator="turning-bands")
    assert porosity(gaussian_facies((8, 8), 0, porosity=0.3, length=2)) < 1  # an int seed works as the rng
