"""Image-to-image scores as named protocols: PSNR and SSIM (Y channel, border cropped) of a model's outputs and
of the baselines the field compares against, on the same held-out pairs; FID when a feature space is known."""

from __future__ import annotations

from collections.abc import Mapping

from torch import Tensor

from gankit.metrics.evaluate import FeatureSpace, protocol_suffix
from gankit.metrics.fid import fid
from gankit.metrics.image_quality import masked_psnr, psnr, ssim

__all__ = ["restoration_scores"]


def restoration_scores(
    outputs: Tensor, baselines: Mapping[str, Tensor], targets: Tensor, *, tag: str, crop: int,
    space: FeatureSpace | None = None, regions: Mapping[str, Tensor] | None = None,
) -> dict[str, float]:
    """`{protocol: value}` for the model (`psnr_<tag>_<n>`) and each named baseline (`psnr_<name>_<tag>_<n>`).

    PSNR and SSIM follow the super-resolution protocol: the Y channel of RGB images, `crop` border
    pixels removed (the scale), means over images with their standard deviation (`..._std`). With a
    feature space, FID of each against the targets (`fid_<space>_<n>`, `fid_<name>_<space>_<n>`). With
    `regions` (name → (N, 1, H, W) masks, e.g. the organs of CT phantoms), PSNR inside each region too
    (`psnr_<region>_<tag>_<n>`, `psnr_<region>_<name>_<tag>_<n>`; images whose region is empty are left out).
    """
    n = len(targets)
    suffix = protocol_suffix(tag, n)
    results: dict[str, float] = {}
    target_features = space.features(targets) if space is not None else None
    for prefix, images in [("", outputs), *((f"{name}_", images) for name, images in baselines.items())]:
        for name, metric in (("psnr", psnr), ("ssim", ssim)):
            values = metric(images, targets, crop=crop, y_channel=True)
            results[f"{name}_{prefix}{suffix}"] = float(values.mean())
            results[f"{name}_{prefix}{suffix}_std"] = float(values.std()) if n > 1 else 0.0
        for region, mask in (regions or {}).items():
            values = masked_psnr(images, targets, mask)
            values = values[~values.isnan()]
            results[f"psnr_{region}_{prefix}{suffix}"] = float(values.mean())
        if space is not None:
            results[f"fid_{prefix}{protocol_suffix(space.name, n)}"] = fid(target_features, space.features(images))
    return results
