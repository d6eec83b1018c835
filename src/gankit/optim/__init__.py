"""Optimizer helpers: per-player optimizers, extrapolation, trust regions, weight averaging, LR schedules."""

from gankit.optim.ema import ExponentialMovingAverage
from gankit.optim.extrapolation import ExtraAdam, Extrapolation, ExtraSGD
from gankit.optim.factory import make_optimizer
from gankit.optim.schedule import linear_decay, scale_base_lr, set_base_lr, set_lr_scale
from gankit.optim.trust_region import TrustRegion

__all__ = ["ExponentialMovingAverage", "ExtraAdam", "ExtraSGD", "Extrapolation", "TrustRegion", "linear_decay", "make_optimizer",
           "scale_base_lr", "set_base_lr", "set_lr_scale"]
