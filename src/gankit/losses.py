"""Classic GAN objectives as pure functions of discriminator logits.

Sign convention: a discriminator/critic returns logits (or critic scores),
higher meaning "more real". Every function returns the value its player
*minimizes*, reduced by mean. Each objective is a :class:`GANLoss` pair,
reachable by name::

    loss = gankit.losses.get("hinge")
    loss.discriminator(real_logits=r, fake_logits=f)
    loss.generator(fake_logits=f)

The BCE-based objectives (minimax, nonsaturating) and least squares accept a
``real_target`` below 1 for one-sided label smoothing (Salimans et al. 2016).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch
import torch.nn.functional as F
from torch import Tensor

from gankit.errors import ConfigError

__all__ = [
    "GANLoss",
    "minimax",
    "nonsaturating",
    "wasserstein",
    "hinge",
    "least_squares",
    "get",
    "names",
]


class DiscriminatorLoss(Protocol):
    def __call__(self, *, real_logits: Tensor, fake_logits: Tensor, real_target: float = 1.0) -> Tensor: ...


class GeneratorLoss(Protocol):
    def __call__(self, *, fake_logits: Tensor) -> Tensor: ...


@dataclass(frozen=True)
class GANLoss:
    """One objective: the discriminator's and the generator's loss side by side."""

    name: str
    discriminator: DiscriminatorLoss
    generator: GeneratorLoss
    supports_label_smoothing: bool


def _bce_discriminator(*, real_logits: Tensor, fake_logits: Tensor, real_target: float = 1.0) -> Tensor:
    """-E[t·log D(x) + (1-t)·log(1-D(x))] - E[log(1-D(G(z)))], D = sigmoid(logits)."""
    real = F.binary_cross_entropy_with_logits(real_logits, torch.full_like(real_logits, real_target))
    fake = F.softplus(fake_logits).mean()  # -log(1 - sigmoid(l)) = softplus(l)
    return real + fake


def _minimax_generator(*, fake_logits: Tensor) -> Tensor:
    """E[log(1 - D(G(z)))]: the original saturating objective of Goodfellow et al. 2014."""
    return -F.softplus(fake_logits).mean()


def _nonsaturating_generator(*, fake_logits: Tensor) -> Tensor:
    """-E[log D(G(z))]: the "-log D" trick, strong gradients when D rejects fakes."""
    return F.softplus(-fake_logits).mean()


def _wasserstein_discriminator(*, real_logits: Tensor, fake_logits: Tensor, real_target: float = 1.0) -> Tensor:
    """E[f(G(z))] - E[f(x)]: the critic maximizes the Kantorovich-Rubinstein estimate."""
    _reject_smoothing("wasserstein", real_target)
    return fake_logits.mean() - real_logits.mean()


def _wasserstein_generator(*, fake_logits: Tensor) -> Tensor:
    return -fake_logits.mean()


def _hinge_discriminator(*, real_logits: Tensor, fake_logits: Tensor, real_target: float = 1.0) -> Tensor:
    """E[relu(1 - D(x))] + E[relu(1 + D(G(z)))] (Lim & Ye 2017, Miyato et al. 2018)."""
    _reject_smoothing("hinge", real_target)
    return F.relu(1.0 - real_logits).mean() + F.relu(1.0 + fake_logits).mean()


def _hinge_generator(*, fake_logits: Tensor) -> Tensor:
    return -fake_logits.mean()


def _least_squares_discriminator(*, real_logits: Tensor, fake_logits: Tensor, real_target: float = 1.0) -> Tensor:
    """½E[(D(x) - 1)²] + ½E[D(G(z))²]: LSGAN (Mao et al. 2017) with targets 0/1."""
    return 0.5 * (real_logits - real_target).pow(2).mean() + 0.5 * fake_logits.pow(2).mean()


def _least_squares_generator(*, fake_logits: Tensor) -> Tensor:
    """½E[(D(G(z)) - 1)²]."""
    return 0.5 * (fake_logits - 1.0).pow(2).mean()


def _reject_smoothing(name: str, real_target: float) -> None:
    if real_target != 1.0:
        raise ConfigError(
            f"label smoothing has no meaning for the {name} loss (it has no real target); "
            "set loss.label_smoothing: 0 or use nonsaturating/minimax/least_squares"
        )


minimax = GANLoss("minimax", _bce_discriminator, _minimax_generator, supports_label_smoothing=True)
nonsaturating = GANLoss("nonsaturating", _bce_discriminator, _nonsaturating_generator, supports_label_smoothing=True)
wasserstein = GANLoss("wasserstein", _wasserstein_discriminator, _wasserstein_generator, supports_label_smoothing=False)
hinge = GANLoss("hinge", _hinge_discriminator, _hinge_generator, supports_label_smoothing=False)
least_squares = GANLoss(
    "least_squares", _least_squares_discriminator, _least_squares_generator, supports_label_smoothing=True
)

_REGISTRY: dict[str, GANLoss] = {
    loss.name: loss for loss in (minimax, nonsaturating, wasserstein, hinge, least_squares)
}


def names() -> list[str]:
    """The registered objective names."""
    return list(_REGISTRY)


def get(name: str) -> GANLoss:
    """Look an objective up by name; unknown names raise a ConfigError listing the valid ones."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ConfigError(f"unknown loss {name!r}; valid losses: {', '.join(_REGISTRY)}") from None
