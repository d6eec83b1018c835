"""Optimizer helpers: per-player optimizers and weight averaging."""

from gankit.optim.ema import ExponentialMovingAverage
from gankit.optim.factory import make_optimizer

__all__ = ["ExponentialMovingAverage", "make_optimizer"]
