"""The baselines a paired task is compared with: bicubic upsampling (super-resolution), the degraded input
itself (same-size tasks: for CT the filtered back-projection), and total-variation denoising of the input with
its weight chosen on training pairs (same-size tasks, when scikit-image is installed)."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from gankit.kinds.paired_data import PairedData
from gankit.kinds.paired_game import upsampled
from gankit.metrics.image_quality import psnr

__all__ = ["TV_WEIGHTS", "pair_baselines", "tune_tv_weight", "tv_denoise"]

TV_WEIGHTS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4, 0.8)  # candidates, for a [0, 1] image
TUNING_PAIRS = 64  # training pairs the TV weight is chosen on (never the held-out ones)


def tv_denoise(images: Tensor, weight: float) -> Tensor:
    """Chambolle's total-variation denoising (scikit-image) of each (C, H, W) image in [-1, 1], channels apart;
    `weight` is for the image mapped to [0, 1]."""
    from skimage.restoration import denoise_tv_chambolle

    unit = ((images.detach().cpu().double() + 1) / 2).numpy()
    out = np.stack([[denoise_tv_chambolle(channel, weight=weight) for channel in image] for image in unit])
    return torch.from_numpy(out * 2 - 1).float().clamp(-1, 1)


def tune_tv_weight(inputs: Tensor, targets: Tensor) -> float:
    """The TV_WEIGHTS entry with the best mean PSNR of denoised `inputs` against `targets`."""
    scores = [float(psnr(tv_denoise(inputs, weight), targets).mean()) for weight in TV_WEIGHTS]
    return TV_WEIGHTS[int(np.argmax(scores))]


def pair_baselines(paired: PairedData) -> dict[str, dict[str, Tensor]]:
    """`{test tag: {name: outputs}}` of each baseline on each test set (:meth:`PairedData.test_sets`): `bicubic`
    (upscaling tasks) or `input`, and `tv` (same-size tasks, where scikit-image is present), its weight tuned once
    on the first TUNING_PAIRS training pairs."""
    sets = paired.test_sets()
    if paired.scale > 1:
        return {tag: {"bicubic": upsampled(inputs, targets.shape[-2:])} for tag, (inputs, targets, _) in sets.items()}
    try:
        import skimage.restoration  # noqa: F401
    except ImportError:
        return {tag: {"input": inputs} for tag, (inputs, _, _) in sets.items()}
    weight = tune_tv_weight(paired.train_inputs[:TUNING_PAIRS], paired.train_targets[:TUNING_PAIRS])
    return {tag: {"input": inputs, "tv": tv_denoise(inputs, weight)} for tag, (inputs, _, _) in sets.items()}
