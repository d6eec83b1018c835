"""NaN/Inf recovery: roll back to the last good state held in memory, lower the learning rates, go on."""

from __future__ import annotations

import copy
import math
from typing import Any

import torch

from gankit.distributed import any_rank
from gankit.dynamics.base import StepResult
from gankit.optim.schedule import scale_base_lr
from gankit.train.alarms import AlarmMonitor
from gankit.train.callbacks import TrainingDiverged
from gankit.train.trainer import Callback, Trainer

__all__ = ["NaNRecovery"]

_PERSISTENT = ("AlarmMonitor", "NaNRecovery")


class NaNRecovery(Callback):
    """At each logging step, check the statistics and the weights; keep a good state every `keep_every` steps.

    On a non-finite loss, statistic or weight: restore the last good state (weights, optimizers,
    data order, RNG), multiply every learning rate by `lr_factor`, record a `nan` alarm, and continue.
    After `retries` such rollbacks, stop with TrainingDiverged (what was written so far stays).
    Place it before the callbacks that write statistics: a rolled-back step's statistics are cleared.
    """

    def __init__(self, every: int, keep_every: int, *, retries: int = 3, lr_factor: float = 0.5,
                 alarms: AlarmMonitor | None = None) -> None:
        self.every = every
        self.keep_every = keep_every
        self.retries = retries
        self.lr_factor = lr_factor
        self.alarms = alarms
        self.failures = 0
        self._good: dict[str, Any] | None = None

    def on_train_start(self, trainer: Trainer) -> None:
        self._good = _snapshot(trainer)

    def on_step_end(self, trainer: Trainer, result: StepResult) -> None:
        if trainer.step % self.every and trainer.step != trainer.total_steps:
            return
        bad = sorted(k for k, v in result.stats.items() if not k.startswith("eval/") and not math.isfinite(float(v)))
        if not bad and not _weights_finite(trainer):
            bad = ["the weights"]
        if any_rank(bool(bad), _device(trainer)) and not bad:  # under torchrun all ranks roll back, or none
            bad = ["a statistic on another process"]
        if not bad:
            if trainer.step % self.keep_every == 0:
                self._good = _snapshot(trainer)
            return
        self.failures += 1
        step = trainer.step
        if self.failures > self.retries or self._good is None:
            raise TrainingDiverged(
                f"{', '.join(bad)} became non-finite at step {step} again after {self.retries} rollbacks with lower "
                "learning rates; lower optim.lr_g / optim.lr_d or add loss.r1_gamma; everything written before "
                "this step is kept"
            )
        trainer.load_state_dict(copy.deepcopy(self._good))
        for optimizer in trainer.optimizers.values():
            scale_base_lr(optimizer, self.lr_factor)
        result.stats.clear()
        if self.alarms is not None:
            self.alarms.raise_alarm(step, "nan", f"{', '.join(bad)} became non-finite at step {step}: rolled back "
                                                 f"to step {trainer.step}, learning rates × {self.lr_factor}")

    def state_dict(self) -> dict[str, Any]:
        return {"failures": self.failures}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.failures = int(state["failures"])


def _snapshot(trainer: Trainer) -> dict[str, Any]:
    state = trainer.state_dict()
    # Weight-like callback state (EMA) rolls back too; the record of what happened (alarms, failures) does not.
    state["callbacks"] = {k: v for k, v in state["callbacks"].items() if k not in _PERSISTENT}
    return copy.deepcopy(state)


def _device(trainer: Trainer) -> torch.device:
    return next(next(iter(trainer.game.players.values())).parameters()).device


def _weights_finite(trainer: Trainer) -> bool:
    checks = [torch.isfinite(p).all() for module in trainer.game.players.values() for p in module.parameters()]
    return bool(torch.stack(checks).all())  # one host sync, not one per tensor
