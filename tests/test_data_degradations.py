"""Tests for gankit.data.degradations and gankit.data.pairs: each degradation against its definition, spec
parsing, paired folders, scikit-image sample images and aligned random crops."""

import io
import math
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from gankit.data.degradations import Degradation, gaussian_kernel, parse_degradation
from gankit.data.pairs import SKIMAGE_SPLIT, load_paired_folders, paired_from, random_crops, skimage_images
from gankit.errors import ConfigError, DataError

# Measured: torch's antialiased bicubic and Pillow's BICUBIC on 'F' images agree to float32 rounding
# (max abs difference 3e-7 on this image, 6e-7 over smooth, random and step images for S = 2..16);
# the wrong filters (bicubic without antialiasing, antialiased bilinear) miss by 0.038 to 0.12 here.
BICUBIC_VS_PILLOW = 1e-6
WRONG_FILTER_MISS = 0.02


def _smooth(height=48, width=72, channels=1, batch=1):
    """A smooth image in [-0.8, 0.8]: low-frequency sines, different per channel and image."""
    y, x = np.mgrid[0:height, 0:width]
    images = np.empty((batch, channels, height, width), dtype=np.float32)
    for n in range(batch):
        for c in range(channels):
            phase = 0.7 * n + 1.3 * c
            images[n, c] = 0.8 * np.sin(2 * np.pi * (x / width * 3 + y / height * 2) + phase) * np.cos(
                2 * np.pi * y / height)
    return torch.from_numpy(images)


def _pixels(shape, seed=0):
    """Random uint8 pixels and the same image in gankit's [-1, 1] float32 convention."""
    array = np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)
    return array, torch.from_numpy(array.astype(np.float32) / 255 * 2 - 1)


# ---------------------------------------------------------------- downsample

@pytest.mark.parametrize("factor", [2, 3, 4])
def test_downsample_matches_pillow_bicubic_to_float_rounding(factor):
    image = _smooth()
    height, width = image.shape[-2:]
    ours = parse_degradation(f"downsample:{factor}")(image, seed=0)[0, 0].numpy()
    pillow = np.asarray(Image.fromarray(image[0, 0].numpy()).resize((width // factor, height // factor),
                                                                      Image.Resampling.BICUBIC))
    assert ours.shape == pillow.shape == (height // factor, width // factor)
    assert np.abs(ours - pillow).max() < BICUBIC_VS_PILLOW
    for mode, antialias in (("bicubic", False), ("bilinear", True)):  # the bound tells filters apart
        wrong = F.interpolate(image, scale_factor=1 / factor, mode=mode, antialias=antialias)[0, 0].numpy()
        assert np.abs(wrong - pillow).max() > WRONG_FILTER_MISS


def test_downsample_is_interpolate_clamped_and_keeps_constants():
    images = torch.from_numpy(np.random.default_rng(1).uniform(-1, 1, (2, 3, 16, 24)).astype(np.float32))
    images[0, 0, :, :12], images[0, 0, :, 12:] = -1, 1  # a step edge, where bicubic overshoots
    expected = F.interpolate(images, scale_factor=0.5, mode="bicubic", antialias=True, align_corners=False)
    out = parse_degradation("downsample:2")(images, seed=5)
    assert out.shape == (2, 3, 8, 12)
    assert torch.equal(out, expected.clamp(-1, 1)) and expected.abs().max() > 1.02
    constant = torch.full((1, 1, 12, 12), 0.3)
    assert torch.allclose(parse_degradation("downsample:3")(constant, 0), torch.full((1, 1, 4, 4), 0.3), atol=1e-6)


def test_downsample_needs_divisible_sizes():
    with pytest.raises(DataError, match=r"30x32, not divisible by the downsample factor 4.*image_size 28"):
        parse_degradation("downsample:4")(torch.zeros(1, 1, 30, 32), 0)
    with pytest.raises(DataError, match="factor 4 of 'downsample:2\\+downsample:2'"):
        parse_degradation("downsample:2+downsample:2")(torch.zeros(1, 1, 6, 8), 0)


# ---------------------------------------------------------------- noise

def test_noise_has_the_requested_std_and_mean():
    sigma, size = 0.1, 256
    noise = parse_degradation(f"noise:{sigma}")(torch.zeros(1, 1, size, size), seed=3)  # clamping at 10 sigma
    error = sigma / math.sqrt(2 * size * size)  # standard error of the sample std
    assert abs(noise.std().item() - sigma) < 5 * error
    assert abs(noise.mean().item()) < 5 * sigma / size


def test_noise_is_seeded_clamped_and_leaves_the_global_rng_alone():
    images = _smooth(16, 16, channels=3, batch=2)
    noise = parse_degradation("noise:0.5")
    before = torch.get_rng_state()
    first = noise(images, seed=7)
    assert torch.equal(torch.get_rng_state(), before)
    assert torch.equal(noise(images, seed=7), first)
    assert not torch.equal(noise(images, seed=8), first)
    assert first.min() == -1 and first.max() == 1 and not torch.equal(first, images)


# ---------------------------------------------------------------- blur

def test_gaussian_kernel_is_normalized_with_radius_three_sigma():
    for sigma in (0.5, 1.0, 1.7, 3.0):
        kernel = gaussian_kernel(sigma)
        assert len(kernel) == 2 * math.ceil(3 * sigma) + 1
        assert abs(kernel.sum().item() - 1) < 1e-12
        assert torch.equal(kernel, kernel.flip(0)) and kernel.argmax() == len(kernel) // 2
    offsets = np.arange(-3, 4)
    expected = np.exp(-offsets ** 2 / 2)
    np.testing.assert_allclose(gaussian_kernel(1.0).numpy(), expected / expected.sum(), rtol=1e-12)


def test_blur_equals_a_direct_convolution_with_reflect_padding():
    image = np.random.default_rng(2).uniform(-1, 1, (5, 7)).astype(np.float64)
    sigma = 0.9  # radius 3: pixels 3 beyond the edge are reflected from inside
    kernel = gaussian_kernel(sigma).numpy()
    radius = len(kernel) // 2
    padded = np.pad(image, radius, mode="reflect")
    expected = np.zeros_like(image)
    for i in range(5):
        for j in range(7):
            window = padded[i : i + 2 * radius + 1, j : j + 2 * radius + 1]
            expected[i, j] = (np.outer(kernel, kernel) * window).sum()
    out = parse_degradation(f"blur:{sigma}")(torch.from_numpy(image).float()[None, None], seed=0)
    assert out.shape == (1, 1, 5, 7)
    np.testing.assert_allclose(out[0, 0].numpy(), expected, atol=1e-6)


def test_blur_keeps_constants_and_the_mean_of_a_periodic_image():
    blur = parse_degradation("blur:2")
    constant = torch.full((2, 3, 20, 20), -0.4)
    assert torch.allclose(blur(constant, 0), constant, atol=1e-6)
    # cosines of period 2*(W-1) in x and 2*(H-1) in y: reflect padding continues them exactly, so the blur
    # scales each by the kernel's frequency response; odd harmonics average to zero over the image
    y, x = np.mgrid[0:32, 0:40]
    wx, wy = np.pi * 3 / 39, np.pi * 5 / 31
    wave = 0.5 * np.cos(wx * x) * np.cos(wy * y)
    image = torch.from_numpy((0.2 + wave).astype(np.float32))[None, None]
    out = blur(image, 0)
    assert abs(out.mean().item() - image.mean().item()) < 1e-6 and abs(image.mean().item() - 0.2) < 1e-6
    kernel = gaussian_kernel(2.0).numpy()
    offsets = np.arange(len(kernel)) - len(kernel) // 2
    response = (kernel * np.cos(wx * offsets)).sum() * (kernel * np.cos(wy * offsets)).sum()
    np.testing.assert_allclose(out[0, 0].numpy(), 0.2 + response * wave, atol=1e-6)
    assert 0.4 < response < 0.7  # it did blur


def test_blur_radius_must_fit_the_image():
    with pytest.raises(DataError, match=r"radius 6 pixels, too large for 6x8 images.*ceil\(3\*SIGMA\) < 6"):
        parse_degradation("blur:2")(torch.zeros(1, 1, 6, 8), 0)


# ---------------------------------------------------------------- jpeg

@pytest.mark.parametrize("channels", [1, 3])
def test_jpeg_equals_pillows_own_save_and_load(channels):
    array, images = _pixels((2, 24, 32, channels))
    out = parse_degradation("jpeg:30")(images.permute(0, 3, 1, 2), seed=0)
    assert out.shape == (2, channels, 24, 32) and out.dtype == torch.float32
    for k in range(2):
        buffer = io.BytesIO()
        Image.fromarray(array[k].squeeze(-1) if channels == 1 else array[k]).save(buffer, "JPEG", quality=30)
        expected = np.asarray(Image.open(io.BytesIO(buffer.getvalue()))).reshape(24, 32, channels)
        got = ((out[k].permute(1, 2, 0).numpy() + 1) * 127.5).round()
        assert np.array_equal(got, expected)
        assert not np.array_equal(expected, array[k])  # quality 30 is lossy


# ---------------------------------------------------------------- mask

def test_mask_zeroes_whole_pixels_with_probability_p():
    images = torch.full((1, 3, 200, 200), 0.5)
    out = parse_degradation("mask:0.3")(images, seed=4)
    holes = out == 0
    assert torch.equal(holes[:, 0], holes[:, 1]) and torch.equal(holes[:, 0], holes[:, 2])  # all channels
    assert torch.all(out[~holes] == 0.5)
    fraction = holes[:, 0].float().mean().item()
    assert abs(fraction - 0.3) < 5 * math.sqrt(0.3 * 0.7 / 200**2)
    assert torch.equal(parse_degradation("mask:0")(images, 0), images)
    assert torch.all(parse_degradation("mask:1")(images, 0) == 0)


# ---------------------------------------------------------------- specs and chains

def test_specs_are_canonical_and_scale_multiplies():
    chain = parse_degradation(" downsample:2 + blur:1.50+noise:0.05+downsample:3 ")
    assert chain.spec == "downsample:2+blur:1.5+noise:0.05+downsample:3"
    assert chain.scale == 6 and parse_degradation("jpeg:40").scale == 1
    assert parse_degradation(chain.spec) == chain
    assert parse_degradation("blur:2").spec == "blur:2"


def test_a_chain_applies_left_to_right():
    images = _smooth(16, 16, channels=3, batch=2)
    chain = parse_degradation("noise:0.1+downsample:2+blur:1")
    manual = parse_degradation("blur:1")(
        parse_degradation("downsample:2")(parse_degradation("noise:0.1")(images, 9), 9), 9)
    assert torch.equal(chain(images, 9), manual)  # step 0 is seeded like a lone step
    assert chain(images, 9).shape == (2, 3, 8, 8)
    assert not torch.allclose(parse_degradation("blur:1+downsample:2")(images, 0),
                              parse_degradation("downsample:2+blur:1")(images, 0))


@pytest.mark.parametrize("spec, message", [
    ("blurr:2", (r"unknown degradation 'blurr:2'; use downsample:S, noise:SIGMA, blur:SIGMA, jpeg:Q, mask:P, or "
                 r"CT's sparse_view:N, limited_angle:DEG, photons:I0 \(chain with \+\)")),
    ("", "empty degradation spec"),
    ("blur", "cannot read 'blur'"),
    ("noise:abc", "cannot read 'noise:abc': SIGMA must be a number >= 0"),
    ("downsample:2.5", "S must be an integer >= 2"),
    ("downsample:1", "downsample:1 is out of range: S must be an integer >= 2"),
    ("jpeg:96", "Q must be an integer from 1 to 95"),
    ("jpeg:0", "Q must be an integer from 1 to 95"),
    ("mask:1.5", "P must be a probability from 0 to 1"),
    ("blur:0", "blur:0 is out of range: SIGMA must be a number > 0"),
    ("noise:-0.1", "SIGMA must be a number >= 0"),
    ("noise:nan", "out of range"),
    ("blur:1+", "unknown degradation ''"),
])
def test_bad_specs_are_config_errors_naming_the_forms(spec, message):
    with pytest.raises(ConfigError, match=message) as info:
        parse_degradation(spec)
    assert "downsample:S, noise:SIGMA" in str(info.value) and "\n" not in str(info.value)


def test_a_degradation_built_directly_is_checked_too():
    assert Degradation((("downsample", 2), ("noise", 0.1))).spec == "downsample:2+noise:0.1"
    with pytest.raises(ConfigError, match="at least one step"):
        Degradation(())
    with pytest.raises(ConfigError, match="S must be an integer >= 2"):
        Degradation((("downsample", 2.0),))
    with pytest.raises(ConfigError, match="unknown degradation 'sharpen'"):
        Degradation((("sharpen", 1.0),))


def test_bad_images_and_seeds():
    blur = parse_degradation("blur:1")
    with pytest.raises(DataError, match="C = 1 or 3"):
        blur(torch.zeros(1, 2, 8, 8), 0)
    with pytest.raises(DataError, match="float images"):
        blur(torch.zeros(1, 1, 8, 8, dtype=torch.uint8), 0)
    with pytest.raises(ConfigError, match="non-negative integer"):
        blur(torch.zeros(1, 1, 8, 8), -1)


# ---------------------------------------------------------------- pairs

def test_paired_from_degrades_the_inputs_and_keeps_the_targets():
    images = _smooth(8, 8, batch=2)
    degradation = parse_degradation("downsample:2+noise:0.1")
    inputs, targets = paired_from(images, degradation, seed=1)
    assert targets is images and torch.equal(inputs, degradation(images, 1))


def _write(folder, names, size, channels=3, seed=0):
    folder.mkdir()
    arrays = {}
    for k, name in enumerate(names):
        array, _ = _pixels((size, size, channels), seed + k)
        Image.fromarray(array.squeeze(-1) if channels == 1 else array).save(folder / name)
        arrays[name.rsplit(".", 1)[0]] = array
    return arrays


def test_paired_folders_match_by_name_and_keep_native_sizes(tmp_path):
    small = _write(tmp_path / "in", ["b.png", "a.png", "c.png"], 8)
    large = _write(tmp_path / "out", ["c.png", "a.png", "b.png"], 16, seed=10)
    inputs, targets = load_paired_folders(tmp_path / "in", tmp_path / "out", None, 3)
    assert inputs.shape == (3, 3, 8, 8) and targets.shape == (3, 3, 16, 16)
    for k, name in enumerate("abc"):  # sorted by name, each input with its own target
        assert np.array_equal(((inputs[k].permute(1, 2, 0).numpy() + 1) * 127.5).round(), small[name])
        assert np.array_equal(((targets[k].permute(1, 2, 0).numpy() + 1) * 127.5).round(), large[name])
    inputs, targets = load_paired_folders(tmp_path / "in", tmp_path / "out", 12, 1)
    assert inputs.shape == targets.shape == (3, 1, 12, 12)
    assert inputs.min() >= -1 and inputs.max() <= 1


def test_unmatched_names_are_listed_from_both_sides(tmp_path):
    _write(tmp_path / "in", ["a.png", "b.png", "c.png"], 8)
    _write(tmp_path / "out", ["a.png", "d.png"], 8)
    with pytest.raises(DataError, match=r"no input for 'd' and no target for 'b', 'c'"):
        load_paired_folders(tmp_path / "in", tmp_path / "out", None, 3)


def test_paired_folder_errors(tmp_path):
    _write(tmp_path / "in", ["a.png"], 8)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no image files in .*empty"):
        load_paired_folders(tmp_path / "in", tmp_path / "empty", None, 3)
    with pytest.raises(DataError, match="does not exist"):
        load_paired_folders(tmp_path / "missing", tmp_path / "in", None, 3)
    _write(tmp_path / "mixed", ["a.png", "b.png"], 8)
    Image.new("RGB", (9, 9)).save(tmp_path / "mixed" / "b.png")
    _write(tmp_path / "targets", ["a.png", "b.png"], 8)
    with pytest.raises(DataError, match="b.png is 9x9 but .*a.png is 8x8"):
        load_paired_folders(tmp_path / "mixed", tmp_path / "targets", None, 3)


def test_skimage_images_shapes_range_and_split():
    pytest.importorskip("skimage")
    train, test = SKIMAGE_SPLIT["train"], SKIMAGE_SPLIT["test"]
    assert not set(train) & set(test) and len(set(train) | set(test)) == 12
    rgb = skimage_images(test, channels=3, size=32)
    assert rgb.shape == (3, 3, 32, 32) and rgb.dtype == torch.float32
    assert rgb.min() >= -1 and rgb.max() <= 1 and rgb.std() > 0.1
    gray = skimage_images(("camera", "astronaut"), channels=1, size=24)
    assert gray.shape == (2, 1, 24, 24)
    replicated = skimage_images(("camera",), channels=3, size=24)
    assert torch.equal(replicated[:, 0], replicated[:, 1]) and torch.equal(replicated[:, 0], gray[:1, 0])
    with pytest.raises(DataError, match="unknown scikit-image sample 'lena'"):
        skimage_images(("lena",), 3, 32)


def test_skimage_missing_is_a_data_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "skimage", None)
    with pytest.raises(DataError, match=r"pip install 'gankit\[image\]'"):
        skimage_images(("camera",), 1, 16)


# ---------------------------------------------------------------- random crops

def test_random_crops_are_aligned_with_the_downsampling():
    targets = _smooth(64, 64, channels=3, batch=3)
    downsample = parse_degradation("downsample:4")
    inputs = downsample(targets, 0)
    crop, scale = 8, 4
    small, large = random_crops(inputs, targets, crop, scale, torch.Generator().manual_seed(0), n=6)
    assert small.shape == (6, 3, crop, crop) and large.shape == (6, 3, crop * scale, crop * scale)
    again = random_crops(inputs, targets, crop, scale, torch.Generator().manual_seed(0), n=6)
    assert torch.equal(again[0], small) and torch.equal(again[1], large)
    # the bicubic support reaches 2 low-resolution pixels: the interior sees no crop border
    inside = (slice(None), slice(None), slice(2, -2), slice(2, -2))
    assert torch.allclose(downsample(large, 0)[inside], small[inside], atol=1e-5)
    assert not torch.allclose(downsample(large.roll(1, -1), 0)[inside], small[inside], atol=1e-3)


def test_random_crops_at_scale_one_are_the_same_region():
    images = _smooth(10, 12, batch=2)
    small, large = random_crops(images, images.clone(), 5, 1, torch.Generator().manual_seed(3), n=20)
    assert torch.equal(small, large)
    windows = images.unfold(2, 5, 1).unfold(3, 5, 1).reshape(2, 1, -1, 5, 5).transpose(1, 2).reshape(-1, 1, 5, 5)
    assert all(any(torch.equal(c, w) for w in windows) for c in small)  # each crop is some window


def test_random_crops_errors():
    inputs, targets = torch.zeros(2, 1, 6, 6), torch.zeros(2, 1, 12, 12)
    generator = torch.Generator().manual_seed(0)
    with pytest.raises(DataError, match="crop 8 is larger than the 6x6 inputs; lower crop to at most 6"):
        random_crops(inputs, targets, 8, 2, generator, n=1)
    with pytest.raises(DataError, match="needs 18x18 targets"):
        random_crops(inputs, targets, 4, 3, generator, n=1)
    with pytest.raises(DataError, match="as many"):
        random_crops(inputs, targets[:1], 4, 2, generator, n=1)
