"""Unpaired translation as named protocols: PSNR/SSIM against the true translation, the share of digits a
translation keeps, and cycle reconstruction error, for the model and its baselines on the same held-out images."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch
from torch import Tensor

from gankit.metrics.evaluate import protocol_suffix
from gankit.metrics.image_quality import psnr, ssim

__all__ = ["class_kept", "cycle_error", "translation_scores"]


def class_kept(classify: Callable[[Tensor], Tensor], images: Tensor, labels: Tensor) -> float:
    """The fraction of `images` whose predicted class (`classify` returns logits) is their source's label."""
    predicted = torch.cat([classify(chunk).argmax(1) for chunk in images.split(256)])
    return float((predicted == labels).float().mean())


def cycle_error(reconstructed: Tensor, original: Tensor) -> float:
    """Mean absolute error of a round trip (pixels in [-1, 1]; 0 is a perfect reconstruction)."""
    return float((reconstructed - original).abs().mean())


def translation_scores(
    outputs: Mapping[str, Tensor], *, direction: str, tag: str, truth: Tensor | None = None,
    classify: Callable[[Tensor], Tensor] | None = None, labels: Tensor | None = None,
) -> dict[str, float]:
    """`{protocol: value}` of every named output of one direction (`ab` or `ba`) of the held-out images.

    `outputs` maps a method to its translations: `""` the model, else a baseline's name (`identity`,
    `histmatch`, or `true` for the true translation itself). With `truth`, PSNR and SSIM against it
    (`psnr_<method>_<direction>_<tag>_<n>`, mean, and `_std` over images); with a classifier and the
    images' labels, the share of translations still classified as their source's digit (`classes_...`).
    """
    results: dict[str, float] = {}
    for method, images in outputs.items():
        suffix = protocol_suffix(f"{method}_{direction}_{tag}".lstrip("_"), len(images))
        if truth is not None and method != "true":
            for name, metric in (("psnr", psnr), ("ssim", ssim)):
                values = metric(images, truth, crop=0, y_channel=True)
                results[f"{name}_{suffix}"] = float(values.mean())
                results[f"{name}_{suffix}_std"] = float(values.std()) if len(values) > 1 else 0.0
        if classify is not None and labels is not None:
            results[f"classes_{suffix}"] = class_kept(classify, images, labels)
    return results
