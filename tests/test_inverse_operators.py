"""Measurement operators: exact adjoints, orthonormal rows, scipy/numpy/scikit-image as the independent
computation, seeds, batches and one-line errors."""

import math

import numpy as np
import pytest
import scipy.fft
import scipy.ndimage
import torch
from skimage import transform as skimage_transform
from skimage.data import shepp_logan_phantom

from gankit.errors import ConfigError, DataError
from gankit.inverse import (
    BlurDownsample, GaussianOperator, InpaintingMask, MatrixOperator, Radon, SubsampledDCT, SubsampledFourier,
    load_operator_file, make_operator,
)

SHAPE = (2, 8, 8)


def _operators(shape=SHAPE):
    """One of each operator on images of `shape`, including odd sizes where the class allows them."""
    n = math.prod(shape)
    c, h, w = shape
    mask = torch.rand(h, w, generator=torch.Generator().manual_seed(3)) > 0.5
    ops = {
        "gaussian": GaussianOperator(shape, 20, seed=1),
        "dct": SubsampledDCT(shape, n // 3, seed=1),
        "fourier": SubsampledFourier(shape, n // 3, seed=1),
        "fourier_odd_m": SubsampledFourier(shape, 2 * (n // 5) + 1, seed=2),
        "inpaint": InpaintingMask(shape, 0.4, seed=1),
        "inpaint_mask": InpaintingMask(shape, mask),
        "blur": BlurDownsample(shape, factor=2, sigma=1.0),
        "blur_3": BlurDownsample(shape, factor=3, sigma=0.7),
        "matrix": MatrixOperator(np.random.default_rng(0).normal(size=(7, n)), shape),
    }
    if h == w:
        ops["radon"] = Radon(shape, torch.linspace(0, 180, 8)[:-1])
    return ops


def _inner(a, b):
    return float((a.flatten() * b.flatten()).sum())


@pytest.mark.parametrize("shape", [SHAPE, (1, 7, 6), (1, 9, 9)])
def test_adjoint_is_the_exact_transpose(shape):
    generator = torch.Generator().manual_seed(0)
    for name, op in _operators(shape).items():
        op = op.double()
        x = torch.randn(3, *shape, generator=generator, dtype=torch.float64)
        y = torch.randn(3, op.m, generator=generator, dtype=torch.float64)
        assert op(x).shape == (3, op.m) and op.adjoint(y).shape == (3, *shape), name
        assert _inner(op(x), y) == pytest.approx(_inner(x, op.adjoint(y)), rel=1e-10), name
        assert torch.equal(op(x.flatten(1)), op(x)), name


def test_operators_hold_buffers_that_follow_dtype_and_device():
    for name, op in _operators().items():
        assert list(op.parameters()) == [], name
        op = op.double()
        assert all(b.dtype in (torch.float64, torch.int64) for b in op.buffers()), name
        x = torch.randn(1, *SHAPE, dtype=torch.float64)
        assert op(x).dtype == torch.float64


def test_a_batch_equals_single_calls():
    generator = torch.Generator().manual_seed(1)
    for name, op in _operators().items():
        op = op.double()
        x = torch.randn(3, *SHAPE, generator=generator, dtype=torch.float64)
        y = torch.randn(3, op.m, generator=generator, dtype=torch.float64)
        assert torch.allclose(op(x), torch.cat([op(x[i : i + 1]) for i in range(3)]), rtol=1e-12, atol=1e-12), name
        singles = torch.cat([op.adjoint(y[i : i + 1]) for i in range(3)])
        assert torch.allclose(op.adjoint(y), singles, rtol=1e-12, atol=1e-12), name


@pytest.mark.parametrize("cls", [GaussianOperator, SubsampledDCT, SubsampledFourier])
def test_same_seed_same_operator_other_seed_another(cls):
    x = torch.randn(2, *SHAPE)
    assert torch.equal(cls(SHAPE, 30, seed=5)(x), cls(SHAPE, 30, seed=5)(x))
    assert not torch.allclose(cls(SHAPE, 30, seed=5)(x), cls(SHAPE, 30, seed=6)(x))


def test_inpainting_mask_same_seed_same_pixels():
    assert torch.equal(InpaintingMask(SHAPE, 0.3, seed=4).index, InpaintingMask(SHAPE, 0.3, seed=4).index)
    assert not torch.equal(InpaintingMask(SHAPE, 0.3, seed=4).index, InpaintingMask(SHAPE, 0.3, seed=5).index)


def test_gaussian_entries_have_the_asked_scale():
    op = GaussianOperator((1, 20, 20), 300, seed=0)
    assert op.matrix.shape == (300, 400)
    assert abs(float(op.matrix.mean())) < 0.01 and float(op.matrix.std()) == pytest.approx(1.0, abs=0.01)
    scaled = GaussianOperator((1, 20, 20), 300, seed=0, scale=0.5)
    assert torch.allclose(scaled.matrix, 0.5 * op.matrix)


@pytest.mark.parametrize("cls", [SubsampledDCT, SubsampledFourier])
@pytest.mark.parametrize("shape", [(2, 8, 8), (1, 7, 6)])
def test_subsampled_transforms_have_orthonormal_rows(cls, shape):
    n = math.prod(shape)
    for m in (1, 5, n // 2, n - 1, n):
        op = cls(shape, m, seed=m).double()
        gram = op(op.adjoint(torch.eye(m, dtype=torch.float64)))  # A Aᵀ, one column per measurement
        assert torch.allclose(gram, torch.eye(m, dtype=torch.float64), atol=1e-6), (m, op)
    full = cls(shape, n, seed=0).double()  # all n rows: an orthogonal matrix, so Aᵀ A = I too
    x = torch.randn(2, *shape, dtype=torch.float64)
    assert torch.allclose(full.adjoint(full(x)), x, atol=1e-6)


def test_dct_equals_scipy_and_keeps_each_dc_term():
    x = np.random.default_rng(1).normal(size=(3, *SHAPE))
    op = SubsampledDCT(SHAPE, 40, seed=2).double()
    expected = scipy.fft.dctn(x, axes=(2, 3), norm="ortho").reshape(3, -1)[:, op.index.numpy()]
    assert np.allclose(op(torch.from_numpy(x)).numpy(), expected, atol=1e-6)
    assert {0, 64} <= set(op.index.tolist())
    assert [SubsampledDCT(SHAPE, 1, seed=seed).index.tolist() for seed in range(4)] == [[0]] * 4


def test_fourier_measurements_are_scaled_real_and_imaginary_parts():
    shape = (1, 8, 6)
    x = np.random.default_rng(2).normal(size=(2, *shape))
    op = SubsampledFourier(shape, 21, seed=0).double()
    spectrum = np.fft.fft2(x, norm="ortho").reshape(2, -1)
    re, im, scale = op.re_index.numpy(), op.im_index.numpy(), op.re_scale.numpy()
    expected = np.concatenate([spectrum.real[:, re] * scale, spectrum.imag[:, im] * np.sqrt(2)], 1)
    assert np.allclose(op(torch.from_numpy(x)).numpy(), expected, atol=1e-6)
    assert 0 in re and scale[list(re).index(0)] == 1.0  # the DC term, measured once, unscaled
    assert len(re) + len(im) == 21 and set(im) <= set(re)
    conjugate = {k: ((-(k // 6)) % 8) * 6 + (-(k % 6)) % 6 for k in re}
    assert all(conjugate[k] == k or conjugate[k] not in conjugate for k in re)  # one frequency of each pair (k, -k)
    assert all((scale[i] == 1.0) == (conjugate[k] == k) for i, k in enumerate(re))


def test_fourier_sampling_favours_low_frequencies():
    h = w = 32
    op = SubsampledFourier((1, h, w), 128, seed=0)
    ky, kx = op.re_index // w, op.re_index % w
    radius = torch.sqrt(torch.minimum(ky, h - ky).double() ** 2 + torch.minimum(kx, w - kx).double() ** 2)
    all_ky, all_kx = torch.arange(h)[:, None], torch.arange(w)[None, :]
    uniform = torch.sqrt(torch.minimum(all_ky, h - all_ky) ** 2 + torch.minimum(all_kx, w - all_kx) ** 2.0).mean()
    assert float(radius.mean()) < 0.75 * float(uniform)  # measured 0.66


def test_inpainting_observes_the_kept_pixels():
    x = torch.randn(2, *SHAPE)
    op = InpaintingMask(SHAPE, 0.25, seed=0)
    assert op.m == 2 * 16  # the same 16 of 64 pixel positions in both channels
    pixels = op.index.view(2, 16)
    assert torch.equal(pixels[1] - pixels[0], torch.full((16,), 64))
    assert torch.equal(op(x), x.flatten(1)[:, op.index])
    mask = torch.zeros(8, 8, dtype=torch.bool)
    mask[2, 3] = mask[5, 1] = True
    explicit = InpaintingMask(SHAPE, mask)
    assert explicit.m == 4 and torch.equal(explicit(x), torch.stack([x[:, c][:, mask] for c in range(2)], 1).flatten(1))
    assert torch.equal(explicit.adjoint(explicit(x)), x * mask)


@pytest.mark.parametrize("factor, sigma", [(1, 0.0), (2, 1.0), (3, 1.5)])
def test_blur_downsample_equals_scipy_with_zero_padding(factor, sigma):
    x = np.random.default_rng(3).normal(size=(2, *SHAPE))
    op = BlurDownsample(SHAPE, factor, sigma).double()
    blurred = scipy.ndimage.gaussian_filter(x, (0, 0, sigma, sigma), mode="constant", truncate=3.0)
    assert op.m == 2 * math.ceil(8 / factor) ** 2
    assert np.allclose(op(torch.from_numpy(x)).numpy(), blurred[..., ::factor, ::factor].reshape(2, -1), atol=1e-6)


# Radon against scikit-image: both rotate about pixel (N // 2, N // 2) with bilinear interpolation and zeros
# outside, then sum rows, so they agree to float rounding (measured ~1e-7 relative, from float32 angles).
def _phantom(size):
    return skimage_transform.resize(shepp_logan_phantom(), (size, size), anti_aliasing=True)


def _disc(size, radius, supersample=1):
    """A disc centred on pixel (size // 2, size // 2); each pixel's value is its covered fraction."""
    offsets = (np.arange(supersample) + 0.5) / supersample - 0.5
    rows = np.arange(size)[:, None, None, None] + offsets[None, None, :, None]
    cols = np.arange(size)[None, :, None, None] + offsets[None, None, None, :]
    return (((rows - size // 2) ** 2 + (cols - size // 2) ** 2) <= radius**2).mean(axis=(2, 3))


def _square(size):
    image = np.zeros((size, size))
    image[size // 3 : size // 2 + 3, size // 3 + 2 : size // 2 + 6] = 1.0
    return image


@pytest.mark.filterwarnings("ignore:Radon transform. image must be zero outside")  # the phantom resized to 33 px
@pytest.mark.parametrize("size, views", [(64, 8), (64, 30), (33, 12)])
def test_radon_equals_scikit_image(size, views):
    angles = torch.linspace(0, 180, views + 1, dtype=torch.float64)[:-1]
    op = Radon((1, size, size), angles).double()
    for image in (_disc(size, size // 3), _square(size), _phantom(size)):
        expected = skimage_transform.radon(image, theta=angles.numpy(), circle=True)
        sinogram = op(torch.from_numpy(image)[None, None]).view(size, views).numpy()
        assert np.linalg.norm(sinogram - expected) / np.linalg.norm(expected) < 1e-6


def test_radon_of_a_centred_disc_is_its_chord_length():
    size, radius, views = 64, 20, 16
    op = Radon((1, size, size), torch.arange(views) * 180 / views).double()
    sinogram = op(torch.from_numpy(_disc(size, radius, supersample=8))[None, None]).view(size, views).numpy()
    t = np.arange(size) - size // 2
    chord = 2 * np.sqrt(np.clip(radius**2 - t**2, 0, None))
    def primitive(u):  # of the chord 2 √(r² − u²)
        return u * np.sqrt(radius**2 - u**2) + radius**2 * np.arcsin(u / radius)

    def error(reference):  # relative L2 over the whole sinogram, the same reference in every view
        return np.linalg.norm(sinogram - reference[:, None]) / (np.linalg.norm(reference) * views**0.5)

    binned = primitive(np.clip(t + 0.5, -radius, radius)) - primitive(np.clip(t - 0.5, -radius, radius))
    assert error(chord) < 0.03  # measured 2.6%: the chord at each bin's centre
    assert error(binned) < 0.01  # measured 0.65%: the chord averaged over each bin, what a pixel sum measures
    assert np.allclose(sinogram.sum(0), np.pi * radius**2, rtol=2e-3)  # every view keeps the mass


def test_radon_fbp_is_scikit_image_iradon():
    size, views = 64, 90
    angles = torch.arange(views, dtype=torch.float64) * 180 / views
    op = Radon((1, size, size), angles).double()
    image = _phantom(size)
    reconstruction = op.fbp(op(torch.from_numpy(image)[None, None]))[0, 0].numpy()
    sinogram = skimage_transform.radon(image, theta=angles.numpy(), circle=True)
    expected = skimage_transform.iradon(sinogram, theta=angles.numpy(), output_size=size, filter_name="ramp",
                                        circle=True)
    assert np.allclose(reconstruction, expected, atol=1e-5)
    assert np.linalg.norm(reconstruction - image) / np.linalg.norm(image) < 0.25  # measured 0.18 at 64 px


def test_radon_needs_square_images():
    with pytest.raises(ValueError, match="square"):
        Radon((1, 8, 9), [0.0, 90.0])


@pytest.mark.parametrize("cls", [SubsampledDCT, SubsampledFourier])
def test_more_measurements_than_pixels_is_refused(cls):
    with pytest.raises(ValueError, match=r"m = 129 .* n = 128 .*choose 1 <= m <= 128"):
        cls(SHAPE, 129)
    with pytest.raises(ConfigError, match=r"m = 129 .* n = 128"):
        make_operator("dct" if cls is SubsampledDCT else "fourier", SHAPE, m=129)


def test_wrong_input_and_measurement_shapes_are_refused():
    op = SubsampledDCT(SHAPE, 10)
    with pytest.raises(ValueError, match=r"\(2, 8, 8\).*n = 128.*got \(1, 8, 8\)"):
        op(torch.zeros(1, 1, 8, 8))
    with pytest.raises(ValueError, match=r"\(B, 10\).*got \(1, 11\)"):
        op.adjoint(torch.zeros(1, 11))


def test_operator_file(tmp_path):
    matrix = np.random.default_rng(0).normal(size=(5, 128))
    np.save(tmp_path / "A.npy", matrix)
    op = load_operator_file(tmp_path / "A.npy", SHAPE).double()
    x = torch.randn(2, *SHAPE, dtype=torch.float64)
    stored = matrix.astype(np.float32).astype(np.float64)  # the operator keeps the default dtype, float32
    assert op.m == 5 and np.allclose(op(x).numpy(), x.flatten(1).numpy() @ stored.T, rtol=1e-12, atol=1e-12)
    assert isinstance(make_operator("matrix", SHAPE, path=tmp_path / "A.npy"), MatrixOperator)

    with pytest.raises(DataError, match="does not exist"):
        load_operator_file(tmp_path / "missing.npy", SHAPE)
    with pytest.raises(DataError, match=r"shape \(5, 128\).*\(1, 8, 8\).*n = 64.*give an \(m, 64\) matrix"):
        load_operator_file(tmp_path / "A.npy", (1, 8, 8))
    np.save(tmp_path / "flat.npy", np.ones(128))
    with pytest.raises(DataError, match=r"2-D \(m, n\) array, got shape \(128,\)"):
        load_operator_file(tmp_path / "flat.npy", SHAPE)
    matrix[1, 2] = np.nan
    np.save(tmp_path / "nan.npy", matrix)
    with pytest.raises(DataError, match="NaN or infinite"):
        load_operator_file(tmp_path / "nan.npy", SHAPE)
    (tmp_path / "text.npy").write_text("not an array")
    with pytest.raises(DataError, match="not a readable .npy"):
        load_operator_file(tmp_path / "text.npy", SHAPE)


def test_make_operator_builds_each_name():
    built = {
        "gaussian": make_operator("gaussian", SHAPE, m=12, seed=3),
        "dct": make_operator("dct", SHAPE, m=12),
        "fourier": make_operator("fourier", SHAPE, m=12),
        "inpaint": make_operator("inpaint", (1, 8, 8), m=12),
        "blur": make_operator("blur", SHAPE, factor=4, sigma=1.0),
        "radon": make_operator("radon", SHAPE, views=4),
        "matrix": make_operator("matrix", SHAPE, matrix=np.ones((3, 128))),
    }
    classes = [GaussianOperator, SubsampledDCT, SubsampledFourier, InpaintingMask, BlurDownsample, Radon,
               MatrixOperator]
    assert [type(op) for op in built.values()] == classes
    assert [op.m for op in built.values()] == [12, 12, 12, 12, 2 * 4, 2 * 8 * 4, 3]
    assert built["radon"].angles.tolist() == [0.0, 45.0, 90.0, 135.0]
    assert torch.equal(built["gaussian"].matrix, GaussianOperator(SHAPE, 12, seed=3).matrix)


def test_make_operator_errors_are_one_line():
    with pytest.raises(ConfigError, match="unknown operator 'ct'; choose one of gaussian, dct, fourier, inpaint, blur"):
        make_operator("ct", SHAPE, m=10)
    with pytest.raises(ConfigError, match="'gaussian' needs m"):
        make_operator("gaussian", SHAPE)
    with pytest.raises(ConfigError, match="'blur' sets its own number of measurements"):
        make_operator("blur", SHAPE, m=10)
    with pytest.raises(ConfigError, match="'blur' has no option 'scale'; its options are factor, sigma"):
        make_operator("blur", SHAPE, scale=2.0)
    with pytest.raises(ConfigError, match=r"'radon' needs angles \(or views\)"):
        make_operator("radon", SHAPE)
    with pytest.raises(ConfigError, match=r"'matrix' needs matrix \(or path\)"):
        make_operator("matrix", SHAPE)
    with pytest.raises(ConfigError, match="keep = 1.5"):
        make_operator("inpaint", SHAPE, keep=1.5)
