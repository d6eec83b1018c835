"""Build one player's optimizer from the config's optimizer section."""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn
from torch.optim import Optimizer

__all__ = ["make_optimizer"]


def make_optimizer(name: str, params: Iterable[nn.Parameter], lr: float, betas: tuple[float, float]) -> Optimizer:
    """Adam (with `betas`), SGD, or RMSprop over `params` with learning rate `lr`."""
    params = list(params)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, betas=betas)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    raise ValueError(f"unknown optimizer {name!r}")
