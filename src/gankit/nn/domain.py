"""The players of domain-adversarial training: an encoder to features, and small heads on the features.

DANN's digit networks (Ganin et al. 2016) in small: two 5x5 convolutions with max-pooling to a feature
vector; the task classifier and the domain critic are each one hidden layer on it, and so is the decoder of
the adversarial autoencoder (features back to the image). On tables (cells x genes, as principal components)
the encoder is a two-hidden-layer MLP, and the decoder also sees each row's domain (as scVI's decoder sees the
batch), so the features need not keep what only tells the batches apart.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["ConvEncoder", "DomainDecoder", "FeatureHead", "ImageDecoder", "TableEncoder"]


class ConvEncoder(nn.Module):
    """Images (N, channels, S, S) -> features (N, `features`): conv5(width)-pool-conv5(2·width)-pool, a
    linear layer and ReLU; S must be divisible by 4."""

    def __init__(self, channels: int, image_size: int, width: int = 32, features: int = 128) -> None:
        super().__init__()
        if image_size % 4 or image_size < 4:
            raise ValueError(f"image_size {image_size} must be a positive multiple of 4 (two 2x2 poolings)")
        self.features = features
        side = image_size // 4
        self.net = nn.Sequential(
            nn.Conv2d(channels, width, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(2 * width * side * side, features), nn.ReLU(),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class FeatureHead(nn.Module):
    """Features (N, in_dim) -> outputs (N, out_dim) through one hidden ReLU layer: a class or domain head."""

    def __init__(self, in_dim: int, out_dim: int, hidden: int = 100) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, out_dim))

    def forward(self, features: Tensor) -> Tensor:
        return self.net(features)


class ImageDecoder(nn.Module):
    """Features (N, in_dim) -> images (N, channels, S, S) in [-1, 1]: one hidden ReLU layer, then tanh."""

    def __init__(self, in_dim: int, channels: int, image_size: int, hidden: int = 100) -> None:
        super().__init__()
        self.net = nn.Sequential(FeatureHead(in_dim, channels * image_size * image_size, hidden),
                                 nn.Unflatten(1, (channels, image_size, image_size)), nn.Tanh())

    def forward(self, features: Tensor) -> Tensor:
        return self.net(features)


class TableEncoder(nn.Module):
    """Rows (N, in_dim) -> features (N, `features`): two hidden ReLU layers of `hidden` units and a linear output
    (an embedding, signed, as a PCA's)."""

    def __init__(self, in_dim: int, features: int = 32, hidden: int = 256) -> None:
        super().__init__()
        self.features = features
        self.net = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                 nn.Linear(hidden, features))

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class DomainDecoder(nn.Module):
    """Features (N, in_dim) and domain indices (N,) -> rows (N, out_dim): one hidden ReLU layer on the features
    joined with the domain's one-hot code."""

    def __init__(self, in_dim: int, out_dim: int, domains: int, hidden: int = 256) -> None:
        super().__init__()
        self.domains = domains
        self.head = FeatureHead(in_dim + domains, out_dim, hidden)

    def forward(self, features: Tensor, domains: Tensor) -> Tensor:
        return self.head(torch.cat([features, F.one_hot(domains, self.domains).to(features.dtype)], dim=1))
