"""Penalties against closed forms (linear and quadratic critics) computed independently with NumPy."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
import torch
from torch import Tensor, nn
from torch.nn.utils import parametrize

from gankit.nn import DCGANDiscriminator
from gradient_helpers import assert_matches_finite_differences
from gankit.penalties import (
    apply_spectral_norm,
    clip_weights_,
    gradient_penalty,
    r1_penalty,
    smoothed_real_target,
)

SHAPES = [(16, 2), (8, 1, 6, 6), (4, 3, 5, 5)]


def _linear_critic(dim: int, seed: int = 0) -> tuple[nn.Linear, Callable[[Tensor], Tensor]]:
    torch.manual_seed(seed)
    lin = nn.Linear(dim, 1)
    return lin, lambda x: lin(x.flatten(1)).squeeze(1)


def _quadratic_critic(x: Tensor) -> Tensor:
    return 0.5 * x.flatten(1).pow(2).sum(1)


def _w(lin: nn.Linear) -> np.ndarray:
    return lin.weight.detach().double().numpy().ravel()


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("target", [1.0, 0.5])
def test_gradient_penalty_linear_critic_is_closed_form(shape: tuple[int, ...], target: float) -> None:
    lin, critic = _linear_critic(math.prod(shape[1:]))
    expected = (np.linalg.norm(_w(lin)) - target) ** 2
    for seed in range(3):
        g = torch.Generator().manual_seed(seed)
        real, fake = torch.randn(shape, generator=g) * 3, torch.randn(shape, generator=g) - 2
        gp = gradient_penalty(critic, real, fake, target=target)
        assert gp.shape == ()
        assert gp.item() == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("shape", SHAPES)
def test_r1_linear_critic_is_squared_weight_norm(shape: tuple[int, ...]) -> None:
    lin, critic = _linear_critic(math.prod(shape[1:]), seed=1)
    real = torch.randn(shape)
    assert r1_penalty(critic, real).item() == pytest.approx(np.sum(_w(lin) ** 2), rel=1e-6)


@pytest.mark.parametrize("shape", SHAPES)
def test_r1_quadratic_critic_is_mean_squared_norm(shape: tuple[int, ...]) -> None:
    real = torch.randn(shape, generator=torch.Generator().manual_seed(3))
    x = real.double().numpy().reshape(shape[0], -1)
    expected = np.mean(np.sum(x**2, axis=1))
    assert r1_penalty(_quadratic_critic, real).item() == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("shape", SHAPES)
def test_gradient_penalty_quadratic_critic_matches_numpy_interpolates(shape: tuple[int, ...]) -> None:
    g = torch.Generator().manual_seed(7)
    real, fake = torch.randn(shape, generator=g), 2 * torch.randn(shape, generator=g)
    gp = gradient_penalty(_quadratic_critic, real, fake, generator=torch.Generator().manual_seed(11))
    eps = torch.rand(shape[0], generator=torch.Generator().manual_seed(11)).double().numpy()[:, None]
    r, f = real.double().numpy().reshape(shape[0], -1), fake.double().numpy().reshape(shape[0], -1)
    x_hat = eps * r + (1 - eps) * f  # grad of 0.5||x||^2 is x
    expected = np.mean((np.linalg.norm(x_hat, axis=1) - 1) ** 2)
    assert gp.item() == pytest.approx(expected, rel=1e-5)
    # another seed draws other interpolates, hence another value
    other = gradient_penalty(_quadratic_critic, real, fake, generator=torch.Generator().manual_seed(12))
    assert other.item() != pytest.approx(expected, rel=1e-3)


def test_gradient_penalty_backprops_into_critic_only() -> None:
    lin, critic = _linear_critic(5, seed=2)
    with torch.no_grad():
        lin.weight.mul_(3.0)  # ||w|| well away from 1
    gen = nn.Linear(3, 5)
    real, fake = torch.randn(10, 5), gen(torch.randn(10, 3))
    gradient_penalty(critic, real, fake).backward()
    w = _w(lin)
    norm = np.linalg.norm(w)
    expected = 2 * (norm - 1) * w / norm
    np.testing.assert_allclose(lin.weight.grad.double().numpy().ravel(), expected, rtol=1e-5, atol=1e-7)
    assert lin.bias.grad is None or torch.all(lin.bias.grad == 0)
    assert gen.weight.grad is None  # fake is detached


def test_r1_backprops_into_critic() -> None:
    lin, critic = _linear_critic(4, seed=3)
    r1_penalty(critic, torch.randn(6, 4)).backward()
    np.testing.assert_allclose(lin.weight.grad.double().numpy().ravel(), 2 * _w(lin), rtol=1e-6)


@pytest.mark.parametrize("requires_grad", [False, True])
def test_penalties_leave_real_untouched(requires_grad: bool) -> None:
    _, critic = _linear_critic(12)
    real = torch.randn(5, 3, 2, 2).requires_grad_(requires_grad)
    before = real.detach().clone()
    gradient_penalty(critic, real, torch.randn(5, 3, 2, 2))
    r1_penalty(critic, real)
    assert torch.equal(real.detach(), before)
    assert real.requires_grad is requires_grad
    assert real.grad is None


def test_gradient_penalty_rejects_mismatched_shapes() -> None:
    _, critic = _linear_critic(4)
    with pytest.raises(ValueError, match="same shape"):
        gradient_penalty(critic, torch.randn(3, 4), torch.randn(2, 4))


def test_clip_weights_bounds_and_keeps_in_range_values() -> None:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn_like(p))
    before = [p.detach().clone() for p in net.parameters()]
    clip_weights_(net, 0.5)
    assert any((old.abs() > 0.5).any() for old in before)  # something was actually clipped
    for old, new in zip(before, net.parameters(), strict=True):
        inside = old.abs() <= 0.5
        assert new.abs().max().item() <= 0.5
        assert torch.equal(new[inside], old[inside])
        assert torch.equal(new[~inside], 0.5 * torch.sign(old[~inside]))


@pytest.mark.parametrize("bad", [0.0, -0.01])
def test_clip_weights_rejects_non_positive(bad: float) -> None:
    with pytest.raises(ValueError, match="clip_value"):
        clip_weights_(nn.Linear(2, 2), bad)


def test_smoothed_real_target() -> None:
    assert smoothed_real_target() == pytest.approx(0.9)
    assert smoothed_real_target(0.0) == 1.0
    assert smoothed_real_target(0.25) == pytest.approx(0.75)
    for bad in (-0.1, 1.0, 1.5, float("nan")):
        with pytest.raises(ValueError, match="smoothing"):
            smoothed_real_target(bad)


def _sigma_max(layer: nn.Module) -> float:
    weight = layer.weight
    if isinstance(layer, nn.ConvTranspose2d):  # spectral_norm normalizes along dim 1 (output channels)
        weight = weight.movedim(1, 0)
    return torch.linalg.matrix_norm(weight.detach().flatten(1), ord=2).item()


def test_apply_spectral_norm_normalizes_every_layer() -> None:
    torch.manual_seed(0)
    model = nn.ModuleDict(
        {
            "lin": nn.Linear(10, 20),
            "act": nn.ReLU(),
            "nested": nn.Sequential(nn.Conv2d(3, 6, 3), nn.Sequential(nn.ConvTranspose2d(6, 4, 4, 2, 1))),
        }
    )
    layers = [model["lin"], model["nested"][0], model["nested"][1][0]]
    with torch.no_grad():
        for layer in layers:
            layer.weight.mul_(5.0)
    assert all(_sigma_max(layer) > 1.5 for layer in layers)
    assert apply_spectral_norm(model) is model
    apply_spectral_norm(model)  # idempotent: no second parametrization
    for layer in layers:
        assert parametrize.is_parametrized(layer, "weight")
        assert len(layer.parametrizations.weight) == 1
    assert not parametrize.is_parametrized(model["act"])
    model.train()
    for _ in range(50):
        model["lin"](torch.randn(2, 10))
        model["nested"](torch.randn(2, 3, 8, 8))
    model.eval()
    for layer in layers:
        assert _sigma_max(layer) == pytest.approx(1.0, rel=0.05)


@pytest.mark.parametrize("spectral_norm", [False, True])
def test_penalties_backprop_through_dcgan_discriminator(spectral_norm: bool) -> None:
    torch.manual_seed(0)
    d = DCGANDiscriminator(channels=1, image_size=28, width=8, spectral_norm=spectral_norm).double()
    if spectral_norm:
        d.eval()  # each training-mode pass moves the power iteration's vectors: the function would change
    real, fake = (torch.rand(4, 1, 28, 28, dtype=torch.float64) * 2 - 1 for _ in range(2))

    def penalties() -> Tensor:  # the same interpolates at every call
        return gradient_penalty(d, real, fake, generator=torch.Generator().manual_seed(1)) + r1_penalty(d, real)

    names, params = zip(*d.named_parameters())
    grads = assert_matches_finite_differences(penalties, params)
    # Every conv weight gets a gradient (biases may not enter the input gradient):
    conv = [grad for name, param, grad in zip(names, params, grads) if "weight" in name and param.dim() == 4]
    assert len(conv) == 3 and all(grad is not None and grad.abs().sum() > 0 for grad in conv), names
