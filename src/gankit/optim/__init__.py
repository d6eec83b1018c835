"""Optimizer helpers: per-player optimizers, extrapolation, trust regions and weight averaging."""

from gankit.optim.ema import ExponentialMovingAverage
from gankit.optim.extrapolation import ExtraAdam, Extrapolation, ExtraSGD
from gankit.optim.factory import make_optimizer
from gankit.optim.trust_region import TrustRegion

__all__ = ["ExponentialMovingAverage", "ExtraAdam", "ExtraSGD", "Extrapolation", "TrustRegion", "make_optimizer"]
