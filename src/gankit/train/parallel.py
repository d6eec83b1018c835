"""Callbacks that keep data-parallel ranks in step (see gankit.distributed)."""

from __future__ import annotations

import torch

from gankit.distributed import any_rank, average_stats
from gankit.dynamics.base import StepResult
from gankit.train.trainer import Callback, Trainer

__all__ = ["StatsAverager", "StopAgreement"]


class StatsAverager(Callback):
    """First callback on every rank: at logging steps, each statistic becomes its mean over ranks, so what
    is logged, checked for NaN and alarmed on is the global batch's value, the same on every rank."""

    def __init__(self, every: int) -> None:
        self.every = every

    def on_step_end(self, trainer: Trainer, result: StepResult) -> None:
        if trainer.step % self.every == 0 or trainer.step == trainer.total_steps:
            average_stats(result.stats)


class StopAgreement(Callback):
    """Last callback on every rank: a stop asked for on any rank stops all of them after the same step, so
    no rank waits forever in a collective the others left.

    Ranks agree at logging steps only (one flag all-reduced; no host sync on the other steps), so a stop
    takes effect within `every` steps. Signals go through :meth:`request`; a callback that sets
    `trainer.should_stop` directly is deferred to the next agreement the same way.
    """

    def __init__(self, device: torch.device, every: int) -> None:
        self.device = device
        self.every = every
        self.requested = False

    def request(self) -> None:
        self.requested = True

    def on_step_end(self, trainer: Trainer, result: StepResult) -> None:
        self.requested = self.requested or trainer.should_stop
        trainer.should_stop = False
        if trainer.step % self.every == 0 or trainer.step == trainer.total_steps:
            trainer.should_stop = any_rank(self.requested, self.device)
