"""DCGAN generator and discriminator (Radford et al. 2016) for 28, 32 and 64 pixel images."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn.utils import parametrize

from gankit.penalties import apply_spectral_norm

__all__ = ["DCGANDiscriminator", "DCGANGenerator", "dcgan_init_"]

# image size -> (initial spatial size, number of stride-2 layers)
_GEOMETRY: dict[int, tuple[int, int]] = {28: (7, 2), 32: (4, 3), 64: (4, 4)}


def _geometry(image_size: int) -> tuple[int, int]:
    if image_size not in _GEOMETRY:
        valid = ", ".join(str(s) for s in sorted(_GEOMETRY))
        raise ValueError(f"DCGAN image_size must be one of {valid}, got {image_size}")
    return _GEOMETRY[image_size]


def _check_positive(**sizes: int) -> None:
    for name, value in sizes.items():
        if value < 1:
            raise ValueError(f"{name} must be >= 1, got {value}")


def dcgan_init_(module: nn.Module) -> None:
    """DCGAN weight init of ``module`` and all its submodules, in place.

    Conv weights ~ N(0, 0.02), conv biases 0; BatchNorm weight ~ N(1, 0.02), bias 0. Spectrally normalized layers get their unnormalized (``original``) weight initialized.
    """
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                if parametrize.is_parametrized(m, "weight"):
                    weight = m.parametrizations.weight.original
                else:
                    weight = m.weight
                nn.init.normal_(weight, 0.0, 0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.normal_(m.weight, 1.0, 0.02)
                nn.init.zeros_(m.bias)


class DCGANGenerator(nn.Module):
    """z (N, latent_dim) -> images (N, channels, image_size, image_size) in [-1, 1].

    A ConvTranspose2d projects z (as a 1x1 map) to ``width * 2**(n-1)`` channels at the initial size
    (7 for 28, 4 for 32 and 64); n stride-2 ConvTranspose2d(4, 2, 1) layers then double the size and
    halve the channels, with BatchNorm2d + ReLU after every layer but the last, which ends in Tanh.
    """

    def __init__(self, latent_dim: int = 100, channels: int = 1, image_size: int = 28, width: int = 64) -> None:
        super().__init__()
        _check_positive(latent_dim=latent_dim, channels=channels, width=width)
        start, n_up = _geometry(image_size)
        self.latent_dim = latent_dim
        self.channels = channels
        self.image_size = image_size
        ch = width * 2 ** (n_up - 1)
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(latent_dim, ch, start, 1, 0, bias=False),
            nn.BatchNorm2d(ch),
            nn.ReLU(),
        ]
        for _ in range(n_up - 1):
            layers += [nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ch // 2), nn.ReLU()]
            ch //= 2
        layers += [nn.ConvTranspose2d(ch, channels, 4, 2, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        dcgan_init_(self)

    def forward(self, z: Tensor) -> Tensor:
        """Map latent codes (N, latent_dim) to images (N, channels, image_size, image_size)."""
        return self.net(z[:, :, None, None])


class DCGANDiscriminator(nn.Module):
    """Images (N, channels, image_size, image_size) -> logits (N,), higher = more real.

    n stride-2 Conv2d(4, 2, 1) layers (width, 2*width, ...) with LeakyReLU(0.2), BatchNorm2d on all
    but the first when ``batch_norm``; a final Conv2d with kernel = last spatial size gives one logit.
    ``batch_norm=None`` means "True unless spectral_norm". With ``spectral_norm=True`` every conv
    layer is spectrally normalized. ``features(x)`` is the last feature map flattened,
    (N, ``feature_dim``); the final conv is a linear map of it.
    """

    def __init__(
        self,
        channels: int = 1,
        image_size: int = 28,
        width: int = 64,
        spectral_norm: bool = False,
        batch_norm: bool | None = None,
    ) -> None:
        super().__init__()
        _check_positive(channels=channels, width=width)
        end, n_down = _geometry(image_size)
        if batch_norm is None:
            batch_norm = not spectral_norm
        self.channels = channels
        self.image_size = image_size
        layers: list[nn.Module] = [nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(0.2)]
        ch = width
        for _ in range(n_down - 1):
            layers.append(nn.Conv2d(ch, ch * 2, 4, 2, 1, bias=not batch_norm))
            if batch_norm:
                layers.append(nn.BatchNorm2d(ch * 2))
            layers.append(nn.LeakyReLU(0.2))
            ch *= 2
        layers.append(nn.Conv2d(ch, 1, end, 1, 0))
        self.net = nn.Sequential(*layers)
        self._feature_shape = (ch, end, end)
        self.feature_dim = ch * end * end
        dcgan_init_(self)
        if spectral_norm:
            apply_spectral_norm(self)

    def features(self, x: Tensor) -> Tensor:
        """The last feature map, flattened: shape (N, feature_dim)."""
        return self.net[:-1](x).flatten(1)

    def logit_from_features(self, features: Tensor) -> Tensor:
        """The final conv applied to `features(x)`: one logit per image, shape (N,)."""
        return self.net[-1](features.view(-1, *self._feature_shape)).flatten(1).squeeze(1)

    def forward(self, x: Tensor) -> Tensor:
        """Return one logit per image, shape (N,)."""
        return self.logit_from_features(self.features(x))
