"""A small CNN digit classifier for 1x28x28 (MNIST) and 1x8x8 (scikit-learn digits) images in [-1, 1].

Its penultimate layer gives "FID-MNIST"-style features; its softmax gives Inception-Score probabilities.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["DigitClassifier", "NUM_CLASSES", "stratified_split"]

NUM_CLASSES = 10


def stratified_split(labels: torch.Tensor, held_out_fraction: float = 0.2) -> tuple[torch.Tensor, torch.Tensor]:
    """Train and held-out indices: the last `held_out_fraction` of each class, in file order, is held out.

    Per class rather than the tail of the file, because the MNIST sample is sorted by label.
    """
    train, held_out = [], []
    for label in labels.unique(sorted=True):
        members = torch.nonzero(labels == label).flatten()
        n_held = round(held_out_fraction * len(members))
        train.append(members[: len(members) - n_held])
        held_out.append(members[len(members) - n_held :])
    return torch.cat(train).sort().values, torch.cat(held_out).sort().values


def _block(in_channels: int, out_channels: int) -> nn.Sequential:
    """3x3 convolution, batch norm, ReLU."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class DigitClassifier(nn.Module):
    """Three conv blocks (two 2x2 max-pools), global average pool, a hidden layer of `feature_dim`, 10 logits."""

    def __init__(self, image_size: int, width: int = 32, feature_dim: int = 128) -> None:
        super().__init__()
        if image_size < 4:
            raise ValueError(f"image_size must be at least 4 (two 2x2 poolings), got {image_size}")
        self.image_size = image_size
        self.width = width
        self.feature_dim = feature_dim
        self.body = nn.Sequential(
            _block(1, width),
            nn.MaxPool2d(2),
            _block(width, 2 * width),
            nn.MaxPool2d(2),
            _block(2 * width, 2 * width),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(2 * width, feature_dim),
            nn.ReLU(inplace=True),
        )
        self.head = nn.Linear(feature_dim, NUM_CLASSES)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate-layer activations, (N, feature_dim)."""
        expected = (1, self.image_size, self.image_size)
        if x.ndim != 4 or tuple(x.shape[1:]) != expected:
            raise ValueError(f"expected images of shape (N, {', '.join(map(str, expected))}), got {tuple(x.shape)}")
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits, (N, 10)."""
        return self.head(self.features(x))

    def probabilities(self, x: torch.Tensor) -> torch.Tensor:
        """Softmax class probabilities, (N, 10)."""
        return torch.softmax(self(x), dim=1)

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """Predicted labels, int64 (N,)."""
        return self(x).argmax(dim=1)
