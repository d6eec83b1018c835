"""Fully connected generator and discriminator for low-dimensional vector data (2D mixtures)."""

from __future__ import annotations

from torch import Tensor, nn

from gankit.penalties import apply_spectral_norm

__all__ = ["MLPDiscriminator", "MLPGenerator"]


def _check_sizes(**sizes: int) -> None:
    for name, value in sizes.items():
        if value < 1:
            raise ValueError(f"{name} must be >= 1, got {value}")


class MLPGenerator(nn.Module):
    """``depth`` hidden Linear+ReLU layers of width ``hidden``, then a linear output (no activation).

    Maps z of shape (N, latent_dim) to samples of shape (N, out_dim).
    """

    def __init__(self, latent_dim: int, out_dim: int, hidden: int = 256, depth: int = 3) -> None:
        super().__init__()
        _check_sizes(latent_dim=latent_dim, out_dim=out_dim, hidden=hidden, depth=depth)
        self.latent_dim = latent_dim
        self.out_dim = out_dim
        layers: list[nn.Module] = []
        width = latent_dim
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), nn.ReLU()]
            width = hidden
        layers.append(nn.Linear(width, out_dim))
        self.net = nn.Sequential(*layers)

    def forward(self, z: Tensor) -> Tensor:
        """Map latent codes (N, latent_dim) to samples (N, out_dim)."""
        return self.net(z)


class MLPDiscriminator(nn.Module):
    """``depth`` hidden Linear+LeakyReLU(0.2) layers, then a Linear to one logit (higher = more real).

    Maps x of shape (N, in_dim) to logits of shape (N,). With ``spectral_norm=True`` every
    Linear layer is spectrally normalized. ``features(x)`` is the last hidden layer (N, ``feature_dim``),
    which conditional and auxiliary heads (projection, AC-GAN, InfoGAN's Q) share.
    """

    def __init__(self, in_dim: int, hidden: int = 256, depth: int = 3, spectral_norm: bool = False) -> None:
        super().__init__()
        _check_sizes(in_dim=in_dim, hidden=hidden, depth=depth)
        self.in_dim = in_dim
        layers: list[nn.Module] = []
        width = in_dim
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), nn.LeakyReLU(0.2)]
            width = hidden
        layers.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*layers)
        self.feature_dim = hidden
        if spectral_norm:
            apply_spectral_norm(self)

    def features(self, x: Tensor) -> Tensor:
        """The last hidden layer's activations, shape (N, feature_dim)."""
        return self.net[:-1](x)

    def logit_from_features(self, features: Tensor) -> Tensor:
        """The output layer applied to `features(x)`: one logit per sample, shape (N,)."""
        return self.net[-1](features).squeeze(-1)

    def forward(self, x: Tensor) -> Tensor:
        """Return one logit per sample, shape (N,)."""
        return self.logit_from_features(self.features(x))
