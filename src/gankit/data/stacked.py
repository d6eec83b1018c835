"""Stacked MNIST (Srivastava et al. 2017, Lin et al. 2018): three MNIST digits as the RGB channels, 1,000 modes."""

from __future__ import annotations

import torch

from gankit.data.images import load_mnist_sample

__all__ = ["stacked_mnist"]


def stacked_mnist(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """`n` images (n, 3, 28, 28) in [-1, 1] and int64 labels 100*d_R + 10*d_G + d_B in 0..999.

    Each channel is an independently, uniformly drawn image of the 5,000-image MNIST sample (with replacement).
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    digits, labels = load_mnist_sample(28, with_labels=True)
    generator = torch.Generator().manual_seed(seed)
    index = torch.randint(0, len(digits), (n, 3), generator=generator)
    images = digits[index].squeeze(2)
    channel_labels = labels[index]
    return images, channel_labels @ torch.tensor([100, 10, 1])
