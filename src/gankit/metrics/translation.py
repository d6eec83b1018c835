"""Unpaired translation as named protocols: PSNR/SSIM against the true translation, the share of digits a
translation keeps, and cycle reconstruction error, for the model and its baselines on the same held-out images."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import torch
import torch.nn.functional as F
from torch import Tensor

from gankit.metrics.evaluate import protocol_suffix
from gankit.metrics.image_quality import psnr, ssim
from gankit.metrics.segmentation import dice_per_label

__all__ = ["class_kept", "cycle_error", "registered_psnr", "translation_scores"]


def class_kept(classify: Callable[[Tensor], Tensor], images: Tensor, labels: Tensor) -> float:
    """The fraction of `images` whose predicted class (`classify` returns logits) is their source's label."""
    predicted = torch.cat([classify(chunk).argmax(1) for chunk in images.split(256)])
    return float((predicted == labels).float().mean())


def cycle_error(reconstructed: Tensor, original: Tensor) -> float:
    """Mean absolute error of a round trip (pixels in [-1, 1]; 0 is a perfect reconstruction)."""
    return float((reconstructed - original).abs().mean())


def registered_psnr(images: Tensor, truth: Tensor, max_shift: int = 2) -> tuple[float, tuple[int, int]]:
    """The best mean PSNR of `images` against `truth` over whole-pixel shifts of up to `max_shift` in each axis,
    and that shift (dy, dx): how far a translation is from the truth once it is registered. A shifted image is
    read from the image padded by repeating its edge, so shift (0, 0) is the plain PSNR and the best is never
    below it."""
    height, width = truth.shape[-2:]
    m = max_shift
    padded = F.pad(images, (m, m, m, m), mode="replicate")
    best = (-math.inf, (0, 0))
    for dy in range(-m, m + 1):
        for dx in range(-m, m + 1):
            shifted = padded[..., m + dy : m + dy + height, m + dx : m + dx + width]
            score = float(psnr(shifted, truth, y_channel=True).mean())
            best = max(best, (score, (dy, dx)), key=lambda item: item[0])
    return best


def translation_scores(
    outputs: Mapping[str, Tensor], *, direction: str, tag: str, truth: Tensor | None = None,
    classify: Callable[[Tensor], Tensor] | None = None, labels: Tensor | None = None,
    segment: Callable[[Tensor], Tensor] | None = None, tissues: Tensor | None = None,
    tissue_names: tuple[str, ...] = (),
) -> dict[str, float]:
    """`{protocol: value}` of every named output of one direction (`ab` or `ba`) of the held-out images.

    `outputs` maps a method to its translations: `""` the model, else a baseline's name (`identity`,
    `histmatch`, or `true` for the true translation itself). With `truth`, PSNR and SSIM against it
    (`psnr_<method>_<direction>_<tag>_<n>`, mean, and `_std` over images); with a classifier and the
    images' labels, the share of translations still classified as their source's digit (`classes_...`). For
    the model, also the PSNR after the best whole-pixel registration within ±2 pixels (`psnr_registered_...`, see
    :func:`registered_psnr`) and that shift (`shift_y_...`, `shift_x_...`): a translation can be right but
    displaced, which PSNR alone reads as wrong. With `segment` (images → label maps) and the images' true
    label maps `tissues`, the Dice of each label of `tissue_names` (`dice_<label>_...`) and their mean over
    the labels the truth holds (`dice_...`): whether the anatomy survives the translation.
    """
    results: dict[str, float] = {}
    for method, images in outputs.items():
        suffix = protocol_suffix(f"{method}_{direction}_{tag}".lstrip("_"), len(images))
        if truth is not None and method != "true":
            for name, metric in (("psnr", psnr), ("ssim", ssim)):
                values = metric(images, truth, crop=0, y_channel=True)
                results[f"{name}_{suffix}"] = float(values.mean())
                results[f"{name}_{suffix}_std"] = float(values.std()) if len(values) > 1 else 0.0
            if not method:
                results[f"psnr_registered_{suffix}"], shift = registered_psnr(images, truth)
                results[f"shift_y_{suffix}"], results[f"shift_x_{suffix}"] = map(float, shift)
        if classify is not None and labels is not None:
            results[f"classes_{suffix}"] = class_kept(classify, images, labels)
        if segment is not None and tissues is not None:
            dice = dice_per_label(segment(images), tissues, tissue_names)
            results |= {f"dice_{name}_{suffix}": value for name, value in dice.items()}
            present = [name for label, name in enumerate(tissue_names) if bool((tissues == label).any())]
            results[f"dice_{suffix}"] = sum(dice[name] for name in present) / len(present)
    return results
