"""PSNR, SSIM and the Y channel against scikit-image, hand-computed values and the metrics' own order."""

import re

import numpy as np
import pytest
import torch
from skimage import color, data, filters, transform
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from gankit.metrics.image_quality import psnr, ssim, to_y_channel


def random_pair(seed: int, shape: tuple[int, ...], noise: float = 0.2) -> tuple[torch.Tensor, torch.Tensor]:
    """A random target in [-1, 1] and a noisy prediction clipped to [-1, 1], float64 (N, C, H, W)."""
    rng = np.random.default_rng(seed)
    target = rng.uniform(-1, 1, size=shape)
    prediction = np.clip(target + rng.normal(0, noise, size=shape), -1, 1)
    return torch.from_numpy(prediction), torch.from_numpy(target)


def unit_hwc(images: torch.Tensor) -> np.ndarray:
    """(N, C, H, W) in [-1, 1] -> NumPy float64 (N, H, W, C) in [0, 1], as skimage expects."""
    return ((images.double().numpy() + 1) / 2).transpose(0, 2, 3, 1)


def skimage_ssim(prediction: np.ndarray, target: np.ndarray) -> float:
    """skimage's SSIM of one (H, W, C) pair in [0, 1], with Wang et al.'s Gaussian settings."""
    return structural_similarity(
        prediction,
        target,
        data_range=1.0,
        gaussian_weights=True,
        sigma=1.5,
        use_sample_covariance=False,
        channel_axis=-1,
    )


def reference_y(rgb_unit_hwc: np.ndarray) -> np.ndarray:
    """Luma in [0, 1] units from skimage's rgb2ycbcr (Y in [16, 235] for float RGB in [0, 1])."""
    return color.rgb2ycbcr(rgb_unit_hwc)[..., :1] / 255.0


def test_to_y_channel_of_pure_colours_uses_bt601_coefficients():
    # Pixels black, red, green, blue, white (RGB in [0, 1]), one per column.
    rgb = torch.tensor([[0, 1, 0, 0, 1], [0, 0, 1, 0, 1], [0, 0, 0, 1, 1]], dtype=torch.float64)
    y = to_y_channel(rgb.view(1, 3, 1, 5) * 2 - 1)
    expected = torch.tensor([16, 16 + 65.481, 16 + 128.553, 16 + 24.966, 235], dtype=torch.float64) / 255
    assert y.shape == (1, 1, 1, 5)
    torch.testing.assert_close(y.flatten(), expected, rtol=0, atol=1e-12)


def test_to_y_channel_matches_skimage_rgb2ycbcr_and_keeps_gray():
    _, rgb = random_pair(0, (2, 3, 8, 9))
    expected = reference_y(unit_hwc(rgb)).transpose(0, 3, 1, 2)
    np.testing.assert_allclose(to_y_channel(rgb).numpy(), expected, rtol=0, atol=1e-12)
    _, gray = random_pair(1, (2, 1, 8, 9))
    torch.testing.assert_close(to_y_channel(gray), (gray + 1) / 2)


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("crop", [0, 4])
def test_psnr_matches_skimage_per_image(channels, crop):
    prediction, target = random_pair(2, (3, channels, 24, 20))
    values = psnr(prediction, target, crop=crop)
    assert values.shape == (3,) and values.dtype == torch.float64
    border = slice(crop, -crop if crop else None)
    cropped_p, cropped_t = unit_hwc(prediction)[:, border, border], unit_hwc(target)[:, border, border]
    expected = [peak_signal_noise_ratio(t, p, data_range=1.0) for p, t in zip(cropped_p, cropped_t)]
    np.testing.assert_allclose(values.numpy(), expected, rtol=0, atol=1e-10)


def test_psnr_of_a_constant_offset_is_known():
    target = torch.linspace(-0.8, 0.6, 2 * 3 * 16 * 16, dtype=torch.float64).view(2, 3, 16, 16)
    # An offset of 0.2 in [-1, 1] is d = 0.1 in [0, 1]: MSE = d², PSNR = 10 log10(1 / d²) = 20 dB.
    values = psnr(target + 0.2, target)
    torch.testing.assert_close(values, torch.full((2,), 20.0, dtype=torch.float64), rtol=0, atol=1e-9)


def test_psnr_of_identical_images_is_infinite():
    _, target = random_pair(3, (2, 3, 8, 8))
    assert torch.isinf(psnr(target.clone(), target)).all() and (psnr(target, target) > 0).all()


@pytest.mark.parametrize("crop", [0, 2])
def test_y_channel_psnr_matches_skimage_on_rgb2ycbcr(crop):
    prediction, target = random_pair(4, (2, 3, 20, 20))
    border = slice(crop, -crop if crop else None)
    y_p, y_t = (reference_y(unit_hwc(images))[:, border, border] for images in (prediction, target))
    expected = [peak_signal_noise_ratio(t, p, data_range=1.0) for p, t in zip(y_p, y_t)]
    values = psnr(prediction, target, crop=crop, y_channel=True)
    np.testing.assert_allclose(values.numpy(), expected, rtol=0, atol=1e-9)
    # Gray images have no colour to convert: the flag changes nothing.
    gray_p, gray_t = random_pair(5, (2, 1, 20, 20))
    torch.testing.assert_close(psnr(gray_p, gray_t, y_channel=True), psnr(gray_p, gray_t))


@pytest.mark.parametrize("shape", [(4, 1, 32, 32), (3, 1, 40, 33), (3, 3, 32, 48)])
def test_ssim_matches_skimage_on_random_images(shape):
    prediction, target = random_pair(6, shape, noise=0.3)
    values = ssim(prediction, target)
    assert values.shape == (shape[0],) and values.dtype == torch.float64
    expected = [skimage_ssim(p, t) for p, t in zip(unit_hwc(prediction), unit_hwc(target))]
    np.testing.assert_allclose(values.numpy(), expected, rtol=0, atol=1e-10)


def test_ssim_of_float32_input_matches_skimage_on_the_same_values():
    prediction, target = (images.float() for images in random_pair(7, (2, 3, 32, 32)))
    expected = [skimage_ssim(p, t) for p, t in zip(unit_hwc(prediction), unit_hwc(target))]
    np.testing.assert_allclose(ssim(prediction, target).numpy(), expected, rtol=0, atol=1e-10)


def camera_64() -> torch.Tensor:
    """skimage's camera image downscaled to 64x64, as a (1, 1, 64, 64) float64 tensor in [-1, 1]."""
    image = transform.resize(data.camera() / 255.0, (64, 64), anti_aliasing=True)
    return torch.from_numpy(image * 2 - 1).view(1, 1, 64, 64)


def test_ssim_matches_skimage_on_a_blurred_structured_image():
    sharp = camera_64()
    blurred = torch.from_numpy(filters.gaussian(sharp[0, 0].numpy(), sigma=1.0, preserve_range=True)).view_as(sharp)
    expected = skimage_ssim(unit_hwc(blurred)[0], unit_hwc(sharp)[0])
    value = ssim(blurred, sharp).item()
    assert value == pytest.approx(expected, abs=1e-10)
    assert 0.3 < value < 0.95  # blur costs structure, but the image is still recognisable
    # With a border crop and on the Y channel of a colour copy (equal channels: Y = 16/255 + 219/255 * gray).
    rgb_sharp, rgb_blurred = sharp.expand(1, 3, 64, 64), blurred.expand(1, 3, 64, 64)
    y_sharp, y_blurred = (reference_y(unit_hwc(images))[0, 4:-4, 4:-4] for images in (rgb_sharp, rgb_blurred))
    expected_y = skimage_ssim(y_blurred, y_sharp)
    assert ssim(rgb_blurred, rgb_sharp, crop=4, y_channel=True).item() == pytest.approx(expected_y, abs=1e-10)


def test_ssim_is_one_on_identical_images_and_falls_as_noise_grows():
    sharp = camera_64().repeat(3, 1, 1, 1)
    torch.testing.assert_close(ssim(sharp, sharp.clone()), torch.ones(3, dtype=torch.float64), rtol=0, atol=1e-12)
    noise = torch.randn(sharp.shape, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    noisy = (sharp + torch.tensor([0.05, 0.2, 0.5], dtype=torch.float64).view(3, 1, 1, 1) * noise).clamp(-1, 1)
    values = ssim(noisy, sharp)
    assert values[0] > values[1] > values[2] and values[0] < 1
    values_psnr = psnr(noisy, sharp)
    assert values_psnr[0] > values_psnr[1] > values_psnr[2]


def test_shape_mismatch_names_both_shapes():
    a, b = torch.zeros(2, 1, 32, 32), torch.zeros(2, 1, 32, 31)
    for metric in (psnr, ssim):
        with pytest.raises(ValueError, match=re.escape("(2, 1, 32, 32)") + ".*" + re.escape("(2, 1, 32, 31)")):
            metric(a, b)


def test_rejects_images_too_small_after_cropping_or_bad_channels():
    with pytest.raises(ValueError, match="need at least 11x11"):
        ssim(torch.zeros(1, 1, 10, 40), torch.zeros(1, 1, 10, 40))
    with pytest.raises(ValueError, match="need at least 11x11"):
        ssim(torch.zeros(1, 3, 16, 16), torch.zeros(1, 3, 16, 16), crop=3)
    assert ssim(torch.zeros(1, 1, 11, 11), torch.zeros(1, 1, 11, 11)).item() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="need at least 1x1"):
        psnr(torch.zeros(1, 1, 8, 8), torch.zeros(1, 1, 8, 8), crop=4)
    with pytest.raises(ValueError, match="crop must be >= 0"):
        psnr(torch.zeros(1, 1, 8, 8), torch.zeros(1, 1, 8, 8), crop=-1)
    with pytest.raises(ValueError, match="C = 1 or 3"):
        psnr(torch.zeros(1, 2, 8, 8), torch.zeros(1, 2, 8, 8))
    with pytest.raises(ValueError, match="C = 1 or 3"):
        to_y_channel(torch.zeros(3, 8, 8))
