"""Image-to-image architectures: SRGAN's SRResNet, the pix2pix U-Net, CycleGAN's ResNet translator, PatchGAN.

All are fully convolutional and map images in [-1, 1], shape (N, C, H, W), to images in [-1, 1] (generators)
or to a map of logits, one per patch (discriminator). A conditional (pix2pix) discriminator needs no class
of its own: it is ``PatchGANDiscriminator(channels=c_in + c_out)`` applied to ``torch.cat([x, y], 1)``.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn

from gankit.nn.dcgan import dcgan_init_
from gankit.penalties import apply_spectral_norm

__all__ = [
    "PatchGANDiscriminator",
    "ResNetTranslator",
    "SRResNetGenerator",
    "UNetGenerator",
    "patchgan_layers_for",
    "patchgan_receptive_field",
]

_SR_SCALES: dict[int, int] = {1: 0, 2: 1, 4: 2}  # scale -> number of x2 PixelShuffle stages
_PATCHGAN_MAX_LAYERS = 5


def _check_positive(**sizes: int) -> None:
    for name, value in sizes.items():
        if value < 1:
            raise ValueError(f"{name} must be >= 1, got {value}")


def _check_divisible(model: str, x: Tensor, divisor: int) -> None:
    height, width = x.shape[-2:]
    if height % divisor or width % divisor:
        raise ValueError(f"{model} needs input height and width divisible by {divisor}, got {height}x{width}")


class _SRResidualBlock(nn.Module):
    """x + (conv3x3-BN-PReLU-conv3x3-BN)(x)."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(width, width, 3, 1, 1, bias=False),
            nn.BatchNorm2d(width),
            nn.PReLU(width),
            nn.Conv2d(width, width, 3, 1, 1, bias=False),
            nn.BatchNorm2d(width),
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


class SRResNetGenerator(nn.Module):
    """SRGAN's generator (Ledig et al. 2017): images (N, channels, H, W) -> (N, channels, H*scale, W*scale).

    A 9x9 conv + PReLU head; ``blocks`` residual blocks (conv3x3-BN-PReLU-conv3x3-BN with a skip); conv3x3-BN
    with a long skip from the head; log2(``scale``) stages of conv3x3 to 4*width channels, PixelShuffle(2)
    and PReLU; a 9x9 conv to ``channels`` and Tanh. ``scale`` is 1 (restoration, no upsampling), 2 or 4.
    """

    def __init__(self, channels: int = 1, scale: int = 4, blocks: int = 8, width: int = 64) -> None:
        super().__init__()
        if scale not in _SR_SCALES:
            valid = ", ".join(str(s) for s in _SR_SCALES)
            raise ValueError(f"SRResNetGenerator scale must be one of {valid}, got {scale}")
        _check_positive(channels=channels, blocks=blocks, width=width)
        self.channels = channels
        self.scale = scale
        self.head = nn.Sequential(nn.Conv2d(channels, width, 9, 1, 4), nn.PReLU(width))
        self.body = nn.Sequential(
            *(_SRResidualBlock(width) for _ in range(blocks)),
            nn.Conv2d(width, width, 3, 1, 1, bias=False),
            nn.BatchNorm2d(width),
        )
        upsample: list[nn.Module] = []
        for _ in range(_SR_SCALES[scale]):
            upsample += [nn.Conv2d(width, 4 * width, 3, 1, 1), nn.PixelShuffle(2), nn.PReLU(width)]
        self.tail = nn.Sequential(*upsample, nn.Conv2d(width, channels, 9, 1, 4), nn.Tanh())
        dcgan_init_(self)

    def forward(self, x: Tensor) -> Tensor:
        """Map images (N, channels, H, W) to (N, channels, H*scale, W*scale)."""
        head = self.head(x)
        return self.tail(head + self.body(head))


class UNetGenerator(nn.Module):
    """pix2pix U-Net (Isola et al. 2017): images (N, channels_in, H, W) -> (N, channels_out, H, W).

    ``depth`` stride-2 Conv2d(4, 2, 1) stages (width, 2*width, ... capped at 8*width) with BatchNorm2d on all
    but the first and LeakyReLU(0.2); mirrored ConvTranspose2d(4, 2, 1) + BatchNorm2d + ReLU stages, each
    output concatenated with the encoder map of the same size; a last ConvTranspose2d to ``channels_out``
    and Tanh. H and W must be divisible by 2**depth.
    """

    def __init__(self, channels_in: int = 1, channels_out: int = 1, depth: int = 3, width: int = 32) -> None:
        super().__init__()
        _check_positive(channels_in=channels_in, channels_out=channels_out, depth=depth, width=width)
        self.channels_in = channels_in
        self.channels_out = channels_out
        self.depth = depth
        widths = [channels_in] + [width * 2 ** min(i, 3) for i in range(depth)]
        self.down = nn.ModuleList()
        for i in range(depth):
            stage: list[nn.Module] = [nn.Conv2d(widths[i], widths[i + 1], 4, 2, 1, bias=i == 0)]
            if i > 0:
                stage.append(nn.BatchNorm2d(widths[i + 1]))
            stage.append(nn.LeakyReLU(0.2))
            self.down.append(nn.Sequential(*stage))
        # innermost first; every stage after the first reads the previous output concatenated with its skip
        self.up = nn.ModuleList()
        for i in range(depth - 1, 0, -1):
            ch_in = widths[i + 1] if i == depth - 1 else 2 * widths[i + 1]
            up = nn.ConvTranspose2d(ch_in, widths[i], 4, 2, 1, bias=False)
            self.up.append(nn.Sequential(up, nn.BatchNorm2d(widths[i]), nn.ReLU()))
        last_in = widths[1] if depth == 1 else 2 * widths[1]
        self.out = nn.Sequential(nn.ConvTranspose2d(last_in, channels_out, 4, 2, 1), nn.Tanh())
        dcgan_init_(self)

    def forward(self, x: Tensor) -> Tensor:
        """Map images (N, channels_in, H, W) to (N, channels_out, H, W); H, W divisible by 2**depth."""
        _check_divisible("UNetGenerator", x, 2**self.depth)
        skips = []
        for stage in self.down:
            x = stage(x)
            skips.append(x)
        skips.pop()  # the innermost map is the up path's input, not a skip
        for stage in self.up:
            x = torch.cat([stage(x), skips.pop()], dim=1)
        return self.out(x)



class _TranslatorResidualBlock(nn.Module):
    """x + (reflection-pad, conv3x3, InstanceNorm, ReLU, reflection-pad, conv3x3, InstanceNorm)(x)."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(width, width, 3),
            nn.InstanceNorm2d(width),
            nn.ReLU(),
            nn.ReflectionPad2d(1),
            nn.Conv2d(width, width, 3),
            nn.InstanceNorm2d(width),
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


class ResNetTranslator(nn.Module):
    """CycleGAN's generator (Zhu et al. 2017): images (N, channels_in, H, W) -> (N, channels_out, H, W).

    Reflection-padded 7x7 conv to ``width``; two stride-2 3x3 convs (2*width, 4*width); ``blocks`` residual
    blocks with reflection padding; two stride-2 ConvTranspose2d back to ``width``; a reflection-padded 7x7
    conv to ``channels_out`` and Tanh. Every conv but the last is followed by InstanceNorm2d and ReLU.
    H and W must be divisible by 4.
    """

    def __init__(self, channels_in: int = 1, channels_out: int = 1, blocks: int = 6, width: int = 32) -> None:
        super().__init__()
        _check_positive(channels_in=channels_in, channels_out=channels_out, blocks=blocks, width=width)
        self.channels_in = channels_in
        self.channels_out = channels_out
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(3),
            nn.Conv2d(channels_in, width, 7),
            nn.InstanceNorm2d(width),
            nn.ReLU(),
        ]
        ch = width
        for _ in range(2):
            layers += [nn.Conv2d(ch, 2 * ch, 3, 2, 1), nn.InstanceNorm2d(2 * ch), nn.ReLU()]
            ch *= 2
        layers += [_TranslatorResidualBlock(ch) for _ in range(blocks)]
        for _ in range(2):
            up = nn.ConvTranspose2d(ch, ch // 2, 3, 2, 1, output_padding=1)
            layers += [up, nn.InstanceNorm2d(ch // 2), nn.ReLU()]
            ch //= 2
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ch, channels_out, 7), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        dcgan_init_(self)

    def forward(self, x: Tensor) -> Tensor:
        """Map images (N, channels_in, H, W) to (N, channels_out, H, W); H, W divisible by 4."""
        _check_divisible("ResNetTranslator", x, 4)
        return self.net(x)


def _patchgan_kernels(layers: int) -> list[tuple[int, int]]:
    """(kernel, stride) of every conv of a PatchGAN with ``layers`` stride-2 convs."""
    return [(4, 2)] * layers + [(4, 1), (4, 1)]


def patchgan_receptive_field(layers: int) -> int:
    """Side, in input pixels, of the square seen by one logit of ``PatchGANDiscriminator(layers=layers)``.

    The recurrence r += (k - 1) * j, j *= s over the convs' kernels k and strides s, from r = j = 1:
    16, 34, 70, 142, 286 for layers 1..5 (70 is pix2pix's "70x70 PatchGAN").
    """
    _check_positive(layers=layers)
    field, jump = 1, 1
    for kernel, stride in _patchgan_kernels(layers):
        field += (kernel - 1) * jump
        jump *= stride
    return field


def _patchgan_output_size(image_size: int, layers: int) -> int:
    """Side of the logit map for a square input of side ``image_size`` (every conv has padding 1)."""
    size = image_size
    for kernel, stride in _patchgan_kernels(layers):
        size = (size + 2 - kernel) // stride + 1
    return size


def patchgan_layers_for(image_size: int) -> int:
    """The largest ``layers`` in 1..5 whose receptive field is at most ``image_size`` and whose logit map is
    at least 1x1 for ``image_size`` inputs: 1 for 28 and 32, 2 for 64, 3 for 128, 4 for 256.

    Raises ValueError when no ``layers`` fits (images smaller than 16 pixels).
    """
    fitting = [
        layers
        for layers in range(1, _PATCHGAN_MAX_LAYERS + 1)
        if patchgan_receptive_field(layers) <= image_size and _patchgan_output_size(image_size, layers) >= 1
    ]
    if not fitting:
        smallest = patchgan_receptive_field(1)
        raise ValueError(f"no PatchGAN fits {image_size}-pixel images: the smallest sees {smallest} pixels")
    return max(fitting)


class PatchGANDiscriminator(nn.Module):
    """pix2pix/CycleGAN PatchGAN: images (N, channels, H, W) -> logits (N, 1, h, w), one per patch, higher = more real.

    ``layers`` stride-2 Conv2d(4, 2, 1) (width, 2*width, ... capped at 8*width) with LeakyReLU(0.2), then a
    stride-1 Conv2d(4, 1, 1) with LeakyReLU(0.2) and a stride-1 Conv2d(4, 1, 1) to one channel. All convs but
    the first and the last are followed by BatchNorm2d (``norm="instance"``: InstanceNorm2d, as CycleGAN's),
    unless ``spectral_norm``: then there is no normalization layer and every conv is spectrally normalized. Each logit sees a ``patchgan_receptive_field(layers)``-pixel square;
    ``patchgan_layers_for(image_size)`` picks ``layers`` for an image size.
    """

    def __init__(
        self, channels: int = 1, layers: int = 3, width: int = 64, spectral_norm: bool = False,
        norm: Literal["batch", "instance"] = "batch",
    ) -> None:
        super().__init__()
        _check_positive(channels=channels, layers=layers, width=width)
        if norm not in ("batch", "instance"):
            raise ValueError(f"norm must be batch or instance, got {norm!r}")
        self.channels = channels
        self.layers = layers
        self.receptive_field = patchgan_receptive_field(layers)
        normalized = not spectral_norm
        net: list[nn.Module] = [nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(0.2)]
        ch = width
        for i in range(1, layers + 1):
            ch_next = width * 2 ** min(i, 3)
            stride = 2 if i < layers else 1
            net.append(nn.Conv2d(ch, ch_next, 4, stride, 1, bias=not normalized))
            if normalized:
                net.append(nn.BatchNorm2d(ch_next) if norm == "batch" else nn.InstanceNorm2d(ch_next))
            net.append(nn.LeakyReLU(0.2))
            ch = ch_next
        net.append(nn.Conv2d(ch, 1, 4, 1, 1))
        self.net = nn.Sequential(*net)
        dcgan_init_(self)
        if spectral_norm:
            apply_spectral_norm(self)

    def forward(self, x: Tensor) -> Tensor:
        """Return one logit per patch, shape (N, 1, h, w)."""
        return self.net(x)
