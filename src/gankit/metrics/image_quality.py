"""Full-reference image quality: PSNR and SSIM, per image, as in the super-resolution literature.

Images are gankit's float tensors in [-1, 1] of shape (N, C, H, W), C = 1 or 3. Both metrics map
them to [0, 1] (data range 1), optionally to the BT.601 luma Y of MATLAB's `rgb2ycbcr`
(`y_channel=True`, the SR convention for RGB), crop `crop` pixels from each border (the SR
protocol crops `scale` pixels) and compute in float64, returning one value per image.

SSIM (Wang et al. 2004): Gaussian window 11×11, σ = 1.5, K1 = 0.01, K2 = 0.03, population
(co)variances, averaged over the 'valid' map only, i.e. the windows lying fully inside the image.
This equals `skimage.metrics.structural_similarity(..., gaussian_weights=True, sigma=1.5,
use_sample_covariance=False, data_range=1.0)`: skimage filters with reflection padding but then
drops (11 − 1) // 2 = 5 pixels from each border before averaging, and the windows centred on the
pixels left are exactly those fully inside the image, so padding never reaches the mean.
"""

from __future__ import annotations

import torch

__all__ = ["masked_psnr", "psnr", "ssim", "to_y_channel"]

# MATLAB rgb2ycbcr's luma row (ITU-R BT.601, studio swing), for RGB in [0, 1] and Y in [0, 255].
_Y_OFFSET = 16.0
_Y_WEIGHTS = (65.481, 128.553, 24.966)

_SSIM_WINDOW = 11
_SSIM_SIGMA = 1.5
_SSIM_K1, _SSIM_K2 = 0.01, 0.03


def _check_images(images: torch.Tensor, name: str = "images") -> None:
    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f"{name} must be (N, C, H, W) with C = 1 or 3, got shape {tuple(images.shape)}")


def to_y_channel(images: torch.Tensor) -> torch.Tensor:
    """Luma of (N, C, H, W) images in [-1, 1], in [0, 1] units, shape (N, 1, H, W).

    C = 3: Y = (16 + 65.481 R + 128.553 G + 24.966 B) / 255 with RGB in [0, 1] (MATLAB's
    `rgb2ycbcr`, BT.601), so Y lies in [16/255, 235/255]. C = 1: the image mapped to [0, 1].
    """
    _check_images(images)
    unit = (images + 1) / 2
    if images.shape[1] == 1:
        return unit
    weights = torch.tensor(_Y_WEIGHTS, dtype=unit.dtype, device=unit.device).view(1, 3, 1, 1)
    return (_Y_OFFSET + (unit * weights).sum(dim=1, keepdim=True)) / 255.0


def _prepare(
    prediction: torch.Tensor, target: torch.Tensor, crop: int, y_channel: bool, min_size: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Both images detached, in float64, mapped to [0, 1] (or Y), border-cropped; checks shapes."""
    if prediction.shape != target.shape:
        raise ValueError(f"prediction and target shapes differ: {tuple(prediction.shape)} vs {tuple(target.shape)}")
    _check_images(prediction, "prediction")
    if crop < 0:
        raise ValueError(f"crop must be >= 0, got {crop}")
    height, width = prediction.shape[-2] - 2 * crop, prediction.shape[-1] - 2 * crop
    if min(height, width) < min_size:
        raise ValueError(
            f"images of {prediction.shape[-2]}x{prediction.shape[-1]} cropped by {crop} per border are "
            f"{height}x{width}, need at least {min_size}x{min_size}"
        )
    pair = []
    for images in (prediction, target):
        images = images.detach().to(torch.float64)
        images = to_y_channel(images) if y_channel else (images + 1) / 2
        pair.append(images[..., crop : crop + height, crop : crop + width])
    return pair[0], pair[1]


def psnr(prediction: torch.Tensor, target: torch.Tensor, *, crop: int = 0, y_channel: bool = False) -> torch.Tensor:
    """Per-image PSNR in dB, (N,) float64: 10 log10(1 / MSE) on [0, 1] images (see the module docstring).

    Identical images give +inf.
    """
    x, y = _prepare(prediction, target, crop, y_channel, min_size=1)
    mse = (x - y).square().mean(dim=(1, 2, 3))
    return -10.0 * torch.log10(mse)


def masked_psnr(prediction: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Per-image PSNR in dB over the pixels where `mask` (N, 1, H, W) is true only (e.g. inside the organs), on
    [0, 1] images; NaN for an image whose mask is empty."""
    x, y = _prepare(prediction, target, 0, False, min_size=1)
    weights = mask.to(torch.float64).expand_as(x)
    mse = ((x - y).square() * weights).sum(dim=(1, 2, 3)) / weights.sum(dim=(1, 2, 3))
    return -10.0 * torch.log10(mse)


def _gaussian_window(dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """The normalised 1D Gaussian of 11 taps and standard deviation 1.5 (sums to 1, as ndimage's)."""
    offsets = torch.arange(_SSIM_WINDOW, dtype=dtype, device=device) - (_SSIM_WINDOW - 1) / 2
    window = torch.exp(-offsets.square() / (2 * _SSIM_SIGMA**2))
    return window / window.sum()


def _valid_filter(images: torch.Tensor, window: torch.Tensor) -> torch.Tensor:
    """Separable Gaussian weighted mean of every window fully inside (N, C, H, W) `images`, per channel."""
    channels = images.shape[1]
    rows = window.view(1, 1, 1, -1).expand(channels, 1, 1, -1)
    columns = window.view(1, 1, -1, 1).expand(channels, 1, -1, 1)
    return torch.nn.functional.conv2d(torch.nn.functional.conv2d(images, rows, groups=channels), columns, groups=channels)


def ssim(prediction: torch.Tensor, target: torch.Tensor, *, crop: int = 0, y_channel: bool = False) -> torch.Tensor:
    """Per-image SSIM, (N,) float64, Wang et al. 2004 with an 11×11 Gaussian window of σ 1.5.

    For each channel and each position whose 11×11 window lies fully inside the (cropped) image,
    μ, σ², σxy are the Gaussian-weighted mean, population variance and covariance over the window and
    SSIM = (2 μx μy + C1)(2 σxy + C2) / ((μx² + μy² + C1)(σx² + σy² + C2)), C1 = 0.01², C2 = 0.03²;
    the result is the mean over these (H − 10) × (W − 10) positions and over channels. This is
    skimage's reflection-padded map with its 5-pixel border cropped (see the module docstring).
    Images smaller than 11×11 after cropping raise ValueError.
    """
    x, y = _prepare(prediction, target, crop, y_channel, min_size=_SSIM_WINDOW)
    window = _gaussian_window(x.dtype, x.device)
    mu_x, mu_y, xx, yy, xy = (_valid_filter(images, window) for images in (x, y, x * x, y * y, x * y))
    var_x, var_y, cov = xx - mu_x.square(), yy - mu_y.square(), xy - mu_x * mu_y
    c1, c2 = _SSIM_K1**2, _SSIM_K2**2
    ssim_map = (2 * mu_x * mu_y + c1) * (2 * cov + c2) / ((mu_x.square() + mu_y.square() + c1) * (var_x + var_y + c2))
    return ssim_map.mean(dim=(1, 2, 3))
