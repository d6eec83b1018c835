"""Stacked MNIST mode coverage: label each channel with an MNIST classifier, count distinct digit triples.

The protocol (Srivastava et al. 2017, Lin et al. 2018) scores 26,000 generated samples: `modes` is the number
of the 1,000 triples seen at least once and `kl` is KL(triple histogram ‖ uniform over 1,000).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from gankit.metrics.features import ModuleFeatures, load_classifier

__all__ = ["N_STACKED_MODES", "ModeCoverage", "stacked_mnist_modes"]

N_STACKED_MODES = 1000


@dataclass(frozen=True)
class ModeCoverage:
    """Distinct triples seen (of 1,000), KL(triple histogram ‖ uniform), and the count of each triple."""

    modes: int
    kl: float
    counts: tuple[int, ...]


def stacked_mnist_modes(
    images: torch.Tensor, classifier: nn.Module | None = None, batch_size: int = 512
) -> ModeCoverage:
    """Score images (N, 3, 28, 28) in [-1, 1]; `classifier` maps (M, 1, 28, 28) to 10 logits (default: shipped)."""
    if images.ndim != 4 or images.shape[1] != 3 or len(images) == 0:
        raise ValueError(f"expected Stacked MNIST images of shape (N, 3, H, W) with N > 0, got {tuple(images.shape)}")
    model = load_classifier("mnist") if classifier is None else classifier
    channels = images.reshape(-1, 1, *images.shape[2:])
    digits = ModuleFeatures(model, batch_size)(channels).argmax(dim=1).reshape(-1, 3)
    triples = digits @ torch.tensor([100, 10, 1])
    counts = np.bincount(triples.numpy(), minlength=N_STACKED_MODES)
    share = counts[counts > 0] / counts.sum()
    return ModeCoverage(
        modes=int((counts > 0).sum()),
        kl=float(np.sum(share * np.log(share * N_STACKED_MODES))),
        counts=tuple(int(c) for c in counts),
    )
