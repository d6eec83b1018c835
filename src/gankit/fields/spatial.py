"""The spatial GAN's players: a fully convolutional generator of a latent *field* and a fully convolutional critic.

The generator maps a latent field z of shape (B, latent_channels, h, w) — or (B, c, d, h, w) in 3-D — to a field
`2^layers` times larger per axis (Jetchev, Bergmann & Vollgraf's spatial GAN, 2016): each layer doubles the size
(nearest-neighbour upsampling, then a 3×3 convolution, which leaves no checkerboard pattern) and the last
convolution gives one channel through tanh; the phase is the sign. Nothing in it depends on the size of z, so a
generator trained on 64-pixel fields draws fields of any multiple of `2^layers` in one pass, without tiles.
Conditioned on a scalar (the porosity), the scalar enters both players as one more constant input channel.

The latent cells are independent, so a feature longer than the generator's receptive field (a channel crossing
the field) has to be stitched from pieces drawn apart. `latent_layers` residual 3×3 convolutions at the latent
resolution, before any upsampling, widen that field by two latent cells each at little cost; the identity path
keeps each cell's noise in play (plain convolutions there collapsed every draw onto one field).

The critic halves the size `layers` times (4×4 strided convolutions) and averages the last layer's scores over
positions: a score per field, whatever its size.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["SpatialCritic", "SpatialGenerator", "condition_map", "nearest_sizes"]


def _conv(dims: int) -> type[nn.Module]:
    return {2: nn.Conv2d, 3: nn.Conv3d}[dims]


def _batch_norm(dims: int) -> type[nn.Module]:
    return {2: nn.BatchNorm2d, 3: nn.BatchNorm3d}[dims]


def condition_map(condition: Tensor, like: Tensor) -> Tensor:
    """(B,) scalars ↦ (B, 1, *spatial) constant maps shaped as `like`'s spatial axes, mapped from (0, 1) to (−1, 1)."""
    shape = (like.shape[0], 1, *like.shape[2:])
    return (2 * condition - 1).view(-1, *[1] * (like.dim() - 1)).to(like.dtype).expand(shape)


def nearest_sizes(size: int, stride: int) -> tuple[int, int]:
    """The valid sizes (multiples of `stride`, at least `stride`) just below and just above `size`."""
    below = max(stride, size // stride * stride)
    above = max(stride, -(-size // stride) * stride)
    return below, above


class _Residual(nn.Module):
    """x + ReLU(BN(conv3×3(x))): widens the receptive field while the identity keeps every latent cell's noise.

    Circular padding: with zeros, stacked convolutions at the latent size tell the generator where the field's
    edges are, and channels runs learned fields pinned to absolute rows (one seed's draws all alike) that fell
    apart in fields larger than the training crops."""

    def __init__(self, conv: type[nn.Module], norm: type[nn.Module], width: int) -> None:
        super().__init__()
        self.body = nn.Sequential(conv(width, width, 3, padding=1, padding_mode="circular", bias=False), norm(width),
                                  nn.ReLU())

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


class SpatialGenerator(nn.Module):
    """Latent field (B, latent_channels, *s) [and (B,) condition] ↦ field (B, 1, *(s · 2^layers)) in (−1, 1)."""

    def __init__(self, dims: int = 2, latent_channels: int = 8, width: int = 64, layers: int = 4,
                 conditional: bool = False, latent_layers: int = 0) -> None:
        super().__init__()
        if dims not in (2, 3):
            raise ValueError(f"dims must be 2 or 3, got {dims}")
        self.dims, self.latent_channels, self.layers, self.conditional = dims, latent_channels, layers, conditional
        conv, norm = _conv(dims), _batch_norm(dims)
        blocks: list[nn.Module] = []
        channels = latent_channels + int(conditional)
        if latent_layers:
            blocks += [conv(channels, width, 1), *(_Residual(conv, norm, width) for _ in range(latent_layers))]
            channels = width
        for index in range(layers):
            out = max(width // 2**index, width // 4, 8)
            blocks += [nn.Upsample(scale_factor=2, mode="nearest"), conv(channels, out, 3, padding=1, bias=False),
                       norm(out), nn.ReLU()]
            channels = out
        blocks.append(conv(channels, 1, 3, padding=1))
        self.net = nn.Sequential(*blocks)

    @property
    def stride(self) -> int:
        """Output cells per latent cell along each axis."""
        return 2**self.layers

    def latent_shape(self, size: int | tuple[int, ...]) -> tuple[int, ...]:
        """(latent_channels, *latent size) of a field of `size` cells per axis; ValueError, naming the nearest
        valid sizes, when `size` is not a multiple of the stride."""
        sizes = (size,) * self.dims if isinstance(size, int) else tuple(size)
        if len(sizes) != self.dims:
            raise ValueError(f"a {self.dims}-D generator draws {self.dims}-D fields, got size {sizes}")
        for axis_size in sizes:
            if axis_size < self.stride or axis_size % self.stride:
                below, above = nearest_sizes(axis_size, self.stride)
                sizes_text = f"{below}" if below == above else f"{below} or {above}"
                raise ValueError(f"size {axis_size} cannot be drawn: this generator's fields are multiples of "
                                 f"{self.stride} cells per axis; the nearest valid sizes are {sizes_text}")
        return (self.latent_channels, *(s // self.stride for s in sizes))

    def logits(self, z: Tensor, condition: Tensor | None = None) -> Tensor:
        """The fields before tanh: phase 1 where > 0. Latent optimization works on these, whose gradient does not
        vanish where tanh saturates (a cell deep inside the wrong phase)."""
        if self.conditional:
            if condition is None:
                raise ValueError("this generator is conditioned on porosity; pass a (B,) condition")
            z = torch.cat([z, condition_map(condition, z)], dim=1)
        return self.net(z)

    def forward(self, z: Tensor, condition: Tensor | None = None) -> Tensor:
        return torch.tanh(self.logits(z, condition))


class SpatialCritic(nn.Module):
    """Field (B, 1, *spatial) [and (B,) condition] ↦ (B,) scores, averaged over the last layer's positions."""

    def __init__(self, dims: int = 2, width: int = 64, layers: int = 4, conditional: bool = False) -> None:
        super().__init__()
        conv = _conv(dims)
        self.conditional = conditional
        blocks: list[nn.Module] = []
        channels = 1 + int(conditional)
        for index in range(layers):
            out = max(width * 2**index // 2**(layers - 1), width // 4, 8)
            blocks += [conv(channels, out, 4, stride=2, padding=1), nn.LeakyReLU(0.2)]
            channels = out
        blocks.append(conv(channels, 1, 3, padding=1))
        self.net = nn.Sequential(*blocks)

    def forward(self, x: Tensor, condition: Tensor | None = None) -> Tensor:
        if self.conditional:
            if condition is None:
                raise ValueError("this critic is conditioned on porosity; pass a (B,) condition")
            x = torch.cat([x, condition_map(condition, x)], dim=1)
        return self.net(x).flatten(1).mean(1)
