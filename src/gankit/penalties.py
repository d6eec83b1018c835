"""Regularizers for the discriminator/critic: pure functions, no scheduling.

Lazy application (R1 every N steps, as in StyleGAN2) is the dynamics' or
config's job; these functions compute one value for one batch.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm

from gankit.distributed import per_sample

__all__ = [
    "apply_spectral_norm",
    "clip_weights_",
    "gradient_penalty",
    "r1_penalty",
    "smoothed_real_target",
]

_SPECTRAL_NORM_LAYERS = (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)


def _input_gradient(critic: Callable[[Tensor], Tensor], x: Tensor) -> Tensor:
    """Gradient of sum(critic(x)) with respect to ``x``, flattened to (N, -1), with create_graph."""
    scores = critic(x)
    (grad,) = torch.autograd.grad(
        outputs=scores,
        inputs=x,
        grad_outputs=torch.ones_like(scores),
        create_graph=True,
    )
    return grad.flatten(1)


def gradient_penalty(
    critic: Callable[[Tensor], Tensor],
    real: Tensor,
    fake: Tensor,
    target: float = 1.0,
    generator: torch.Generator | None = None,
) -> Tensor:
    """WGAN-GP penalty (Gulrajani et al. 2017): mean over the batch of (||grad critic(x_hat)||_2 - target)^2.

    ``x_hat = eps * real + (1 - eps) * fake`` with one ``eps ~ U[0, 1]`` per sample, drawn as
    ``torch.rand((N, 1, ..., 1), generator=generator)`` (on the generator's device when one is given).
    Both inputs are detached; the graph is kept so the result backpropagates into the critic.
    """
    if real.shape != fake.shape:
        raise ValueError(f"real and fake must have the same shape, got {tuple(real.shape)} and {tuple(fake.shape)}")
    eps_shape = (real.shape[0],) + (1,) * (real.dim() - 1)
    if generator is None:  # the global stream; under data parallelism, this rank's rows of the global draw
        eps = per_sample(lambda n: torch.rand((n, *eps_shape[1:]), dtype=real.dtype, device=real.device), len(real))
    else:
        eps = torch.rand(eps_shape, dtype=real.dtype, device=generator.device, generator=generator)
        eps = eps.to(real.device)
    x_hat = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
    norms = _input_gradient(critic, x_hat).norm(2, dim=1)
    return ((norms - target) ** 2).mean()


def r1_penalty(critic: Callable[[Tensor], Tensor], real: Tensor) -> Tensor:
    """R1 penalty (Mescheder et al. 2018): E ||grad_x critic(x)||^2 at real data, without the gamma/2 factor.

    Works on a detached copy of ``real`` (left unmodified); the graph is kept for backprop into the critic.
    """
    x = real.detach().clone().requires_grad_(True)
    return _input_gradient(critic, x).pow(2).sum(dim=1).mean()


def clip_weights_(module: nn.Module, clip_value: float) -> None:
    """Clip every parameter of ``module`` to [-clip_value, clip_value] in place (original WGAN)."""
    if not clip_value > 0:
        raise ValueError(f"clip_value must be > 0, got {clip_value}")
    with torch.no_grad():
        for param in module.parameters():
            param.clamp_(-clip_value, clip_value)


def smoothed_real_target(smoothing: float = 0.1) -> float:
    """One-sided label smoothing (Salimans et al. 2016): the target ``1 - smoothing`` for real samples.

    Pass the result as ``real_target`` to a loss function; ``smoothing`` must lie in [0, 1).
    """
    if not 0.0 <= smoothing < 1.0:
        raise ValueError(f"smoothing must lie in [0, 1), got {smoothing}")
    return 1.0 - smoothing


def apply_spectral_norm(module: nn.Module) -> nn.Module:
    """Register spectral normalization on every Linear/Conv2d/ConvTranspose2d in ``module`` (itself included).

    Layers that already have a parametrized ``weight`` are left as they are. Returns ``module``.
    """
    layers = [
        m
        for m in module.modules()
        if isinstance(m, _SPECTRAL_NORM_LAYERS) and not parametrize.is_parametrized(m, "weight")
    ]
    for layer in layers:
        spectral_norm(layer)
    return module
