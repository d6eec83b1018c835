"""Shapes, ranges, input checks, init and receptive fields of the image-to-image architectures."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

from gankit.nn.image2image import (
    PatchGANDiscriminator,
    ResNetTranslator,
    SRResNetGenerator,
    UNetGenerator,
    patchgan_layers_for,
    patchgan_receptive_field,
)

# (height, width): one square, one not, to show the models are fully convolutional
SIZES = [(8, 8), (12, 16)]


def _images(channels: int, size: tuple[int, int], n: int = 2) -> torch.Tensor:
    return torch.rand(n, channels, *size) * 2 - 1


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("scale", [1, 2, 4])
def test_srresnet_shapes_and_range(scale: int, channels: int, size: tuple[int, int]) -> None:
    g = SRResNetGenerator(channels=channels, scale=scale, blocks=1, width=4)
    out = g(_images(channels, size))
    assert out.shape == (2, channels, size[0] * scale, size[1] * scale)
    assert out.abs().max() <= 1


def test_srresnet_upsampling_stages() -> None:
    for scale, stages in [(1, 0), (2, 1), (4, 2)]:
        g = SRResNetGenerator(scale=scale, blocks=2, width=4)
        assert sum(isinstance(m, nn.PixelShuffle) for m in g.modules()) == stages
        assert sum(isinstance(m, nn.BatchNorm2d) for m in g.modules()) == 2 * 2 + 1


@pytest.mark.parametrize("scale", [0, 3, 8])
def test_srresnet_rejects_other_scales(scale: int) -> None:
    with pytest.raises(ValueError, match=r"one of 1, 2, 4, got " + str(scale)):
        SRResNetGenerator(scale=scale)


@pytest.mark.parametrize("depth, size", [(1, (6, 10)), (2, (8, 12)), (3, (16, 24)), (3, (8, 8))])
@pytest.mark.parametrize("channels_in, channels_out", [(1, 1), (3, 2)])
def test_unet_shapes_and_range(depth: int, size: tuple[int, int], channels_in: int, channels_out: int) -> None:
    g = UNetGenerator(channels_in=channels_in, channels_out=channels_out, depth=depth, width=4)
    out = g(_images(channels_in, size))
    assert out.shape == (2, channels_out, *size)
    assert out.abs().max() <= 1
    assert sum(isinstance(m, nn.BatchNorm2d) for m in g.modules()) == 2 * (depth - 1)


def test_unet_rejects_sizes_not_divisible_by_2_to_the_depth() -> None:
    g = UNetGenerator(depth=3, width=4)
    with pytest.raises(ValueError, match=r"divisible by 8, got 12x16"):
        g(_images(1, (12, 16)))
    with pytest.raises(ValueError, match=r"divisible by 4, got 8x6"):
        UNetGenerator(depth=2, width=4)(_images(1, (8, 6)))


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("channels_in, channels_out", [(1, 1), (3, 1)])
def test_resnet_translator_shapes_and_range(size: tuple[int, int], channels_in: int, channels_out: int) -> None:
    g = ResNetTranslator(channels_in=channels_in, channels_out=channels_out, blocks=2, width=4)
    out = g(_images(channels_in, size))
    assert out.shape == (2, channels_out, *size)
    assert out.abs().max() <= 1
    assert sum(isinstance(m, nn.ReflectionPad2d) for m in g.modules()) == 2 + 2 * 2


def test_resnet_translator_rejects_sizes_not_divisible_by_4() -> None:
    with pytest.raises(ValueError, match=r"divisible by 4, got 10x12"):
        ResNetTranslator(blocks=1, width=4)(_images(1, (10, 12)))


def test_patchgan_receptive_field_matches_the_recurrence_by_hand() -> None:
    # convs (kernel, stride): `layers` x (4, 2), then (4, 1), (4, 1); r += (k - 1) * j, then j *= s
    # layers=1: r = 1 + 3*1 = 4 (j=2) -> 4 + 3*2 = 10 -> 10 + 3*2 = 16
    # layers=2: 4 (j=2) -> 10 (j=4) -> 10 + 3*4 = 22 -> 22 + 3*4 = 34
    # layers=3: 4 -> 10 -> 22 (j=8) -> 22 + 3*8 = 46 -> 46 + 3*8 = 70 (pix2pix's 70x70 PatchGAN)
    assert [patchgan_receptive_field(n) for n in (1, 2, 3)] == [16, 34, 70]
    assert PatchGANDiscriminator(layers=3, width=4).receptive_field == 70


@pytest.mark.parametrize("image_size, layers, map_size", [(28, 1, 12), (32, 1, 14), (64, 2, 14)])
def test_patchgan_map_sizes_with_patchgan_layers_for(image_size: int, layers: int, map_size: int) -> None:
    # Conv2d(4, 2, 1) halves (rounding down), each Conv2d(4, 1, 1) takes one off: 28 -> 14 -> 13 -> 12
    assert patchgan_layers_for(image_size) == layers
    assert patchgan_receptive_field(layers) <= image_size < patchgan_receptive_field(layers + 1)
    d = PatchGANDiscriminator(channels=3, layers=layers, width=4)
    assert d(_images(3, (image_size, image_size))).shape == (2, 1, map_size, map_size)


def test_patchgan_layers_for_larger_and_too_small_images() -> None:
    assert [patchgan_layers_for(s) for s in (16, 34, 128, 256, 286, 1024)] == [1, 2, 3, 4, 5, 5]
    with pytest.raises(ValueError, match="15-pixel"):
        patchgan_layers_for(15)


def test_patchgan_is_fully_convolutional_and_serves_as_a_pix2pix_discriminator() -> None:
    d = PatchGANDiscriminator(channels=1 + 3, layers=1, width=4)
    x, y = _images(1, (32, 48)), _images(3, (32, 48))
    assert d(torch.cat([x, y], dim=1)).shape == (2, 1, 14, 22)


@pytest.mark.parametrize("layers", [1, 2, 3])
def test_patchgan_empirical_receptive_field(layers: int) -> None:
    """The input gradient of one central logit is nonzero on exactly a receptive_field-sided square."""
    torch.manual_seed(layers)
    field = patchgan_receptive_field(layers)
    # spectral_norm: no BatchNorm, so in eval mode each logit depends on its own patch only
    d = PatchGANDiscriminator(channels=2, layers=layers, width=4, spectral_norm=True).double().eval()
    size = 24 * 2**layers  # the logit map is 22x22: the central logit's field stays clear of the padding
    x = torch.randn(1, 2, size, size, dtype=torch.float64, requires_grad=True)
    logits = d(x)
    assert logits.shape == (1, 1, 22, 22)
    logits[0, 0, 11, 11].backward()
    touched = x.grad[0].abs().sum(0) > 0
    rows = touched.any(1).nonzero().flatten()
    cols = touched.any(0).nonzero().flatten()
    assert rows.max() - rows.min() + 1 == field
    assert cols.max() - cols.min() + 1 == field
    assert 0 < rows.min() and rows.max() < size - 1 and 0 < cols.min() and cols.max() < size - 1
    assert touched[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1].all()


@pytest.mark.parametrize("layers", [1, 3])
def test_patchgan_spectral_norm_replaces_batch_norm(layers: int) -> None:
    plain = PatchGANDiscriminator(layers=layers, width=4)
    assert sum(isinstance(m, nn.BatchNorm2d) for m in plain.modules()) == layers
    assert not any(parametrize.is_parametrized(m) for m in plain.modules())
    d = PatchGANDiscriminator(layers=layers, width=4, spectral_norm=True)
    convs = [m for m in d.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == layers + 2
    for conv in convs:
        assert parametrize.is_parametrized(conv, "weight")
        assert any(type(p).__name__ == "_SpectralNorm" for p in conv.parametrizations.weight)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in d.modules())
    side = 32 // 2**layers - 2
    assert d(_images(1, (32, 32))).shape == (2, 1, side, side)


@pytest.mark.parametrize(
    "model",
    [
        SRResNetGenerator(blocks=2, width=32),
        UNetGenerator(depth=3, width=32),
        ResNetTranslator(blocks=2, width=32),
        PatchGANDiscriminator(layers=3, width=32),
        PatchGANDiscriminator(layers=2, width=32, spectral_norm=True),
    ],
    ids=lambda m: type(m).__name__,
)
def test_dcgan_init(model: nn.Module) -> None:
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            weight = m.parametrizations.weight.original if parametrize.is_parametrized(m) else m.weight
            if weight.numel() >= 2000:
                assert 0.015 < weight.std().item() < 0.025
            if m.bias is not None:
                assert not m.bias.any()
        elif isinstance(m, nn.BatchNorm2d):
            assert (m.weight - 1).abs().max() < 0.15 and not m.bias.any()
