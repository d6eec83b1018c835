"""Named degradations that turn clean images into the inputs of a restoration task (super-resolution,
denoising, deblurring, JPEG artifact removal, inpainting, CT reconstruction artifacts).

A spec is `name:value`, chained left to right with `+` (`downsample:4+noise:0.05`). Images follow gankit's
convention: float (N, C, H, W) in [-1, 1] with C = 1 or 3. Random steps draw from their own generator,
seeded from the call's seed and the step's position in the chain: the global RNG is never touched, and the
same seed gives the same output. Consecutive CT steps (`sparse_view:60+photons:1e5`) are one scan of the
image (gankit.data.ct): projections, photon noise, filtered back-projection.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor

from gankit.data.ct import scan_from_steps
from gankit.data.images import _MODES, _to_unit_range
from gankit.errors import ConfigError, DataError

__all__ = ["Degradation", "gaussian_kernel", "parse_degradation"]

_FORMS = ("use downsample:S, noise:SIGMA, blur:SIGMA, jpeg:Q, mask:P, or CT's sparse_view:N, limited_angle:DEG, "
          "photons:I0 (chain with +)")


def gaussian_kernel(sigma: float) -> Tensor:
    """The normalized 1D Gaussian kernel of std `sigma` pixels, radius ceil(3*sigma), as float64 (2r+1,)."""
    radius = math.ceil(3 * sigma)
    offsets = torch.arange(-radius, radius + 1, dtype=torch.float64)
    kernel = torch.exp(-0.5 * (offsets / sigma) ** 2)
    return kernel / kernel.sum()


def _downsample(images: Tensor, factor: int, generator: torch.Generator) -> Tensor:
    """Antialiased bicubic (Keys a = -0.5, Pillow's kernel) by `factor`, clamped to [-1, 1] (bicubic rings).

    On sizes divisible by `factor` this equals Pillow's `Image.resize((W//S, H//S), Image.BICUBIC)` on a
    float ('F') image to float32 rounding: max abs difference 6e-7 on [-1, 1] images (smooth, random and
    step images, S = 2..16), 3e-7 on smooth ones.
    """
    out = F.interpolate(images, scale_factor=1 / factor, mode="bicubic", antialias=True, align_corners=False)
    return out.clamp(-1.0, 1.0)


def _noise(images: Tensor, sigma: float, generator: torch.Generator) -> Tensor:
    """Add N(0, sigma^2) per pixel and channel (drawn on the CPU, so any device gives the same), clamp."""
    noise = torch.randn(images.shape, generator=generator, dtype=images.dtype)
    return (images + sigma * noise.to(images.device)).clamp(-1.0, 1.0)


def _blur(images: Tensor, sigma: float, generator: torch.Generator) -> Tensor:
    """Separable Gaussian blur, radius ceil(3*sigma), reflect padding (edge pixel not repeated), same size."""
    kernel = gaussian_kernel(sigma).to(images.device, images.dtype)
    radius, channels = len(kernel) // 2, images.shape[1]
    height, width = images.shape[-2:]
    if radius >= min(height, width):
        raise DataError(
            f"blur:{_format(sigma)} has radius {radius} pixels, too large for {height}x{width} images "
            f"(reflect padding needs a radius below both sides); lower SIGMA so that ceil(3*SIGMA) < "
            f"{min(height, width)}"
        )
    padded = F.pad(images, (radius, radius, radius, radius), mode="reflect")
    rows = F.conv2d(padded, kernel.view(1, 1, 1, -1).expand(channels, 1, 1, -1), groups=channels)
    return F.conv2d(rows, kernel.view(1, 1, -1, 1).expand(channels, 1, -1, 1), groups=channels)


def _jpeg(images: Tensor, quality: int, generator: torch.Generator) -> Tensor:
    """Round to 8-bit pixels, save each image as JPEG at `quality` with Pillow's defaults (mode L or RGB,
    4:2:0 chroma subsampling for RGB), decode, and map back to [-1, 1]."""
    channels = images.shape[1]
    pixels = ((images.detach().clamp(-1.0, 1.0) + 1) * 127.5).round().to(torch.uint8).cpu()
    decoded = []
    for image in pixels.permute(0, 2, 3, 1).numpy():
        buffer = io.BytesIO()
        Image.fromarray(image.squeeze(-1) if channels == 1 else image).save(buffer, format="JPEG", quality=quality)
        buffer.seek(0)
        with Image.open(buffer) as loaded:
            decoded.append(np.asarray(loaded).reshape(image.shape))
    out = _to_unit_range(np.stack(decoded).transpose(0, 3, 1, 2), 255.0)
    return out.to(images.device, images.dtype)


def _mask(images: Tensor, probability: float, generator: torch.Generator) -> Tensor:
    """Set each pixel, all channels together, to 0 with probability `probability`.

    0 is the middle of [-1, 1] (mid-gray): a hole carries no bias toward black or white, the zero-filling
    of inpainting on centered data; -1 would be indistinguishable from real black pixels.
    """
    count, _, height, width = images.shape
    holes = torch.rand((count, 1, height, width), generator=generator) < probability
    return images.masked_fill(holes.to(images.device), 0.0)


class _Kind(NamedTuple):
    """One degradation name: its value's symbol and type, the allowed range, and the operation."""

    symbol: str
    integer: bool
    valid: Callable[[float], bool]
    rule: str
    apply: Callable[[Tensor, float, torch.Generator], Tensor] | None  # None: a CT step (grouped into a scan)


_KINDS = {
    "downsample": _Kind("S", True, lambda v: v >= 2, "an integer >= 2", _downsample),
    "noise": _Kind("SIGMA", False, lambda v: 0 <= v < math.inf, "a number >= 0 (std in [-1, 1] units)", _noise),
    "blur": _Kind("SIGMA", False, lambda v: 0 < v < math.inf, "a number > 0 (std in pixels)", _blur),
    "jpeg": _Kind("Q", True, lambda v: 1 <= v <= 95, "an integer from 1 to 95", _jpeg),
    "mask": _Kind("P", False, lambda v: 0 <= v <= 1, "a probability from 0 to 1", _mask),
    # CT steps: consecutive ones make one scan (gankit.data.ct), reconstructed by filtered back-projection
    "sparse_view": _Kind("N", True, lambda v: v >= 2, "an integer >= 2 (projections over the angle)", None),
    "limited_angle": _Kind("DEG", False, lambda v: 0 < v <= 180, "degrees in (0, 180]", None),
    "photons": _Kind("I0", False, lambda v: v >= 1, "incident photons per detector bin, >= 1", None),
}


def _format(value: float) -> str:
    """The shortest text that reads back as `value`, without a trailing `.0` (2.0 -> '2', 0.05 -> '0.05')."""
    return str(value) if isinstance(value, int) else repr(float(value)).removesuffix(".0")


@dataclass(frozen=True)
class Degradation:
    """A chain of `(name, value)` steps applied left to right; build one with :func:`parse_degradation`."""

    steps: tuple[tuple[str, int | float], ...]

    def __post_init__(self) -> None:
        if not self.steps:
            raise ConfigError(f"a degradation needs at least one step; {_FORMS}")
        for name, value in self.steps:
            kind = _KINDS.get(name)
            if kind is None:
                raise ConfigError(f"unknown degradation {name!r}; {_FORMS}")
            if kind.integer and (isinstance(value, bool) or not isinstance(value, int)) or not kind.valid(value):
                raise ConfigError(
                    f"degradation {name}:{_format(value)} is out of range: {kind.symbol} must be {kind.rule}; "
                    f"{_FORMS}"
                )

    @property
    def spec(self) -> str:
        """The canonical text, which `parse_degradation` reads back to an equal Degradation."""
        return "+".join(f"{name}:{_format(value)}" for name, value in self.steps)

    @property
    def scale(self) -> int:
        """How many times smaller the output is than the input per side: the product of the downsample factors."""
        return math.prod(int(value) for name, value in self.steps if name == "downsample")

    def __call__(self, images: Tensor, seed: int) -> Tensor:
        """Degrade float (N, C, H, W) images in [-1, 1]; the same images and seed give the same output.

        Step i draws from a fresh generator seeded from (seed, i); the output is (N, C, H/scale, W/scale).
        """
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ConfigError(f"the degradation seed must be a non-negative integer, got {seed!r}; pass e.g. 0")
        if not isinstance(images, Tensor) or images.ndim != 4 or images.shape[1] not in _MODES:
            shape = tuple(images.shape) if isinstance(images, Tensor) else type(images).__name__
            raise DataError(f"degradations take (N, C, H, W) images with C = 1 or 3, got {shape}")
        if not images.is_floating_point():
            raise DataError(f"degradations take float images in [-1, 1], got {images.dtype}; map pixels first")
        height, width = images.shape[-2:]
        if height % self.scale or width % self.scale:
            fit = max(self.scale, min(height, width) // self.scale * self.scale)
            raise DataError(
                f"images are {height}x{width}, not divisible by the downsample factor {self.scale} of "
                f"{self.spec!r}; crop or resize them to multiples of {self.scale} (e.g. image_size {fit})"
            )
        for index, group in self._groups():
            state = np.random.SeedSequence([seed, index]).generate_state(1, np.uint64)[0]
            generator = torch.Generator().manual_seed(int(state))
            if _KINDS[group[0][0]].apply is None:
                images = scan_from_steps(group)(images, generator)
            else:
                ((name, value),) = group
                images = _KINDS[name].apply(images, value, generator)
        return images

    def _groups(self) -> list[tuple[int, list[tuple[str, int | float]]]]:
        """(index of the first step, steps) of each operation: one step, or consecutive CT steps as one scan."""
        groups: list[tuple[int, list[tuple[str, int | float]]]] = []
        for index, step in enumerate(self.steps):
            is_ct = _KINDS[step[0]].apply is None
            if is_ct and groups and _KINDS[groups[-1][1][-1][0]].apply is None:
                groups[-1][1].append(step)
            else:
                groups.append((index, [step]))
        return groups


def parse_degradation(text: str) -> Degradation:
    """Read a spec such as `blur:1.5`, `jpeg:30` or `downsample:4+noise:0.05` (applied left to right)."""
    if not isinstance(text, str) or not text.strip():
        raise ConfigError(f"empty degradation spec {text!r}; {_FORMS}")
    steps = []
    for part in text.split("+"):
        name, _, value = part.strip().partition(":")
        kind = _KINDS.get(name.strip())
        if kind is None:
            raise ConfigError(f"unknown degradation {part.strip()!r}; {_FORMS}")
        try:
            number = int(value) if kind.integer else float(value)
        except ValueError:
            raise ConfigError(
                f"cannot read {part.strip()!r}: {kind.symbol} must be {kind.rule}; {_FORMS}"
            ) from None
        steps.append((name.strip(), number))
    return Degradation(tuple(steps))
