"""Shapes, ranges, layer structure, init statistics and gradient flow of the architectures in gankit.nn."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

from gankit.nn import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator, dcgan_init_
from gradient_helpers import assert_matches_finite_differences

SIZES = [28, 32, 64]
CHANNELS = [1, 3]


def _layers(model: nn.Module, kind: type | tuple[type, ...]) -> list[nn.Module]:
    return [m for m in model.modules() if isinstance(m, kind)]


def _out_sizes(model: nn.Module, x: torch.Tensor, kind: type) -> list[tuple[int, int]]:
    """(channels, spatial size) at the output of every ``kind`` layer during one forward pass."""
    seen: list[tuple[int, int]] = []
    hooks = [m.register_forward_hook(lambda _m, _i, out: seen.append(out.shape[1:3])) for m in _layers(model, kind)]
    model(x)
    for hook in hooks:
        hook.remove()
    return [tuple(s) for s in seen]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("channels", CHANNELS)
def test_dcgan_shapes(channels: int, size: int) -> None:
    g = DCGANGenerator(latent_dim=16, channels=channels, image_size=size, width=8)
    d = DCGANDiscriminator(channels=channels, image_size=size, width=8)
    assert g.latent_dim == 16
    images = g(torch.randn(3, 16))
    assert images.shape == (3, channels, size, size)
    assert d(images).shape == (3,)
    assert d(images[:1]).shape == (1,)


@pytest.mark.parametrize(
    ("size", "g_expected", "d_expected"),
    [
        (28, [(128, 7), (64, 14), (3, 28)], [(64, 14), (128, 7), (1, 1)]),
        (32, [(256, 4), (128, 8), (64, 16), (3, 32)], [(64, 16), (128, 8), (256, 4), (1, 1)]),
        (64, [(512, 4), (256, 8), (128, 16), (64, 32), (3, 64)], [(64, 32), (128, 16), (256, 8), (512, 4), (1, 1)]),
    ],
)
def test_dcgan_layer_geometry(size: int, g_expected: list, d_expected: list) -> None:
    g = DCGANGenerator(latent_dim=10, channels=3, image_size=size).eval()
    d = DCGANDiscriminator(channels=3, image_size=size).eval()
    with torch.no_grad():
        assert _out_sizes(g, torch.randn(1, 10), nn.ConvTranspose2d) == g_expected
        assert _out_sizes(d, torch.randn(1, 3, size, size), nn.Conv2d) == d_expected


def test_generator_output_is_tanh_bounded() -> None:
    g = DCGANGenerator(latent_dim=8, channels=3, image_size=32, width=8)
    assert isinstance(g.net[-1], nn.Tanh)
    with torch.no_grad():
        g.net[-2].weight.mul_(1000.0)  # push the pre-activation far beyond [-1, 1]
    out = g(torch.randn(16, 8))
    assert out.abs().max().item() <= 1.0
    assert out.abs().max().item() > 0.99  # saturates: the range is exactly [-1, 1]


def test_discriminator_returns_unbounded_logits() -> None:
    d = DCGANDiscriminator(channels=1, image_size=28, width=8)
    x = torch.randn(4, 1, 28, 28)
    final = _layers(d, nn.Conv2d)[-1]
    for bias in (20.0, -20.0):
        with torch.no_grad():
            final.bias.fill_(bias)
        out = d(x)
        assert (out.sign() == torch.sign(torch.tensor(bias))).all()
        assert out.abs().min().item() > 1.0  # not squashed by a sigmoid


@pytest.mark.parametrize("size", [16, 27, 128])
def test_invalid_image_size_names_valid_ones(size: int) -> None:
    for build in (lambda: DCGANGenerator(image_size=size), lambda: DCGANDiscriminator(image_size=size)):
        with pytest.raises(ValueError, match="28, 32, 64"):
            build()


def test_batchnorm_layers_have_no_bias_before_them() -> None:
    g = DCGANGenerator(image_size=64, width=8)
    d = DCGANDiscriminator(image_size=64, width=8)
    for model, conv in ((g, nn.ConvTranspose2d), (d, nn.Conv2d)):
        mods = list(model.net)
        for layer, nxt in zip(mods, mods[1:] + [None], strict=True):
            if isinstance(layer, conv):
                assert (layer.bias is None) == isinstance(nxt, nn.BatchNorm2d)
    assert not isinstance(d.net[1], nn.BatchNorm2d)  # no normalization on the first D layer
    assert len(_layers(d, nn.BatchNorm2d)) == 3


def test_spectral_norm_discriminator_defaults_to_no_batchnorm() -> None:
    plain = DCGANDiscriminator(image_size=32, width=8)
    assert _layers(plain, nn.BatchNorm2d)
    assert not any(parametrize.is_parametrized(m) for m in plain.modules())
    sn = DCGANDiscriminator(image_size=32, width=8, spectral_norm=True)
    assert not _layers(sn, nn.BatchNorm2d)
    assert all(parametrize.is_parametrized(m, "weight") for m in _layers(sn, nn.Conv2d))
    assert sn(torch.randn(2, 1, 32, 32)).shape == (2,)
    assert _layers(DCGANDiscriminator(image_size=32, width=8, spectral_norm=True, batch_norm=True), nn.BatchNorm2d)
    assert not _layers(DCGANDiscriminator(image_size=32, width=8, batch_norm=False), nn.BatchNorm2d)


def _check_dcgan_init(model: nn.Module) -> None:
    for conv in _layers(model, (nn.Conv2d, nn.ConvTranspose2d)):
        w = conv.parametrizations.weight.original if parametrize.is_parametrized(conv) else conv.weight
        if w.numel() >= 1000:
            assert w.mean().item() == pytest.approx(0.0, abs=2e-3)
            assert w.std().item() == pytest.approx(0.02, rel=0.1)
        if conv.bias is not None:
            assert torch.all(conv.bias == 0)
    for bn in _layers(model, nn.BatchNorm2d):
        assert bn.weight.mean().item() == pytest.approx(1.0, abs=0.01)
        assert 0.01 < bn.weight.std().item() < 0.03
        assert torch.all(bn.bias == 0)


def test_dcgan_init_statistics() -> None:
    torch.manual_seed(0)
    _check_dcgan_init(DCGANGenerator(channels=3, image_size=64))
    _check_dcgan_init(DCGANDiscriminator(channels=3, image_size=64))
    _check_dcgan_init(DCGANDiscriminator(channels=3, image_size=64, spectral_norm=True))
    conv = nn.Conv2d(64, 64, 3)  # PyTorch default init has std ~0.024, then reset to 0.02
    dcgan_init_(conv)
    assert conv.weight.std().item() == pytest.approx(0.02, rel=0.05)


def test_mlp_shapes_and_depth() -> None:
    g = MLPGenerator(latent_dim=4, out_dim=2, hidden=32, depth=3)
    d = MLPDiscriminator(in_dim=2, hidden=32, depth=2)
    assert g.latent_dim == 4
    assert len(_layers(g, nn.Linear)) == 4 and len(_layers(g, nn.ReLU)) == 3
    assert len(_layers(d, nn.Linear)) == 3 and len(_layers(d, nn.LeakyReLU)) == 2
    assert isinstance(g.net[-1], nn.Linear)  # no output activation
    assert _layers(d, nn.LeakyReLU)[0].negative_slope == 0.2
    x = g(torch.randn(7, 4))
    assert x.shape == (7, 2)
    assert d(x).shape == (7,)
    assert d(x[:1]).shape == (1,)
    with pytest.raises(ValueError, match="depth"):
        MLPGenerator(4, 2, depth=0)


def test_mlp_spectral_norm() -> None:
    d = MLPDiscriminator(in_dim=2, hidden=16, spectral_norm=True)
    assert all(parametrize.is_parametrized(m, "weight") for m in _layers(d, nn.Linear))
    assert not any(parametrize.is_parametrized(m) for m in MLPDiscriminator(in_dim=2).modules())


def _players(arch: str, size: int, spectral_norm: bool) -> tuple[nn.Module, nn.Module]:
    if arch == "mlp":
        return MLPGenerator(3, 2, hidden=16), MLPDiscriminator(2, hidden=16, spectral_norm=spectral_norm)
    return DCGANGenerator(3, 1, size, width=8), DCGANDiscriminator(1, size, width=8, spectral_norm=spectral_norm)


@pytest.mark.parametrize("spectral_norm", [False, True])
@pytest.mark.parametrize(("arch", "size"), [("mlp", 0), *(("dcgan", size) for size in SIZES)])
def test_gradients_flow_from_logit_to_generator(arch: str, size: int, spectral_norm: bool) -> None:
    torch.manual_seed(0)
    g, d = _players(arch, size, spectral_norm)
    g, d = g.double(), d.double().eval()  # eval: spectral norm's power iteration would move between passes
    z = torch.randn(4, g.latent_dim, dtype=torch.float64)
    names, params = zip(*g.named_parameters())
    grads = assert_matches_finite_differences(lambda: d(g(z)).sum(), params)
    for name, grad in zip(names, grads, strict=True):
        assert grad is not None and grad.abs().sum().item() > 0, name
