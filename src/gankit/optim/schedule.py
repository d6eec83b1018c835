"""Learning-rate schedules that compose with NaN rollbacks and with resuming.

Each optimizer parameter group holds `base_lr` (the configured rate, lowered by every NaN rollback)
and `lr_scale` (the schedule's factor at the current step); the rate the optimizer uses is always
`lr = base_lr * lr_scale`, computed afresh, so a run resumed from a checkpoint takes the same rates
as one that never stopped. Both keys travel in the optimizer's state_dict.
"""

from __future__ import annotations

from torch.optim import Optimizer

__all__ = ["linear_decay", "scale_base_lr", "set_base_lr", "set_lr_scale"]

_BASE, _SCALE = "base_lr", "lr_scale"


def linear_decay(step: int, total_steps: int, start: float) -> float:
    """The factor at `step` (0-based) of a schedule constant for the first `start` fraction of `total_steps`,
    then falling linearly to 0 at `total_steps` (CycleGAN: start 0.5); the last step keeps a positive rate."""
    first_decayed = int(start * total_steps)
    if step < first_decayed:
        return 1.0
    return (total_steps - step) / (total_steps - first_decayed)


def set_base_lr(optimizer: Optimizer, lr: float) -> None:
    """Set every group's base rate to `lr` (the rate used is `lr` times the group's current schedule factor)."""
    for group in optimizer.param_groups:
        group[_BASE] = lr
        group["lr"] = lr * group.get(_SCALE, 1.0)


def scale_base_lr(optimizer: Optimizer, factor: float) -> None:
    """Multiply every group's base rate by `factor` (a NaN rollback), keeping its schedule factor."""
    for group in optimizer.param_groups:
        base = group.get(_BASE, group["lr"] / group.get(_SCALE, 1.0)) * factor
        group[_BASE] = base
        group["lr"] = base * group.get(_SCALE, 1.0)


def set_lr_scale(optimizer: Optimizer, scale: float) -> None:
    """Set every group's schedule factor to `scale`: the rate used becomes base rate × `scale`."""
    for group in optimizer.param_groups:
        group.setdefault(_BASE, group["lr"] / group.get(_SCALE, 1.0))
        group[_SCALE] = scale
        group["lr"] = group[_BASE] * scale
