"""Callbacks the run uses: EMA, learning-rate decay, metrics CSV, sample pictures, checkpoints, progress bar."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from gankit.atomic import atomic_write_text
from gankit.dynamics.base import StepResult
from gankit.metrics.names import LOWER_IS_BETTER
from gankit.errors import CheckpointError, GankitError
from gankit.optim.ema import ExponentialMovingAverage
from gankit.optim.schedule import linear_decay, set_lr_scale
from gankit.train.checkpoint import save_checkpoint
from gankit.train.run_dir import RunDir
from gankit.train.trainer import Callback, Trainer

__all__ = ["EMACallback", "EvalCallback", "LinearDecay", "MetricsCSV", "SampleWriter", "Checkpointer", "BestCheckpoint",
           "ProgressBar", "TrainingDiverged", "write_state"]


class TrainingDiverged(GankitError):
    """A loss or statistic became NaN or infinite."""


class EMACallback(Callback):
    """Update an exponential moving average of a player's weights after every step."""

    def __init__(self, ema: ExponentialMovingAverage) -> None:
        self.ema = ema

    def on_step_end(self, trainer: Trainer, result: StepResult) -> None:
        self.ema.update()

    def state_dict(self) -> dict[str, Any]:
        return self.ema.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.ema.load_state_dict(state)


class LinearDecay(Callback):
    """Learning rates constant for the first `start` fraction of the run, then falling linearly towards 0
    (CycleGAN's schedule, optim.decay linear): before every step each rate is its base rate (lowered by NaN
    rollbacks) times :func:`gankit.optim.linear_decay` of the step about to run.

    Place it before NaN recovery: a rollback then restores the rates of the step it returns to.
    """

    def __init__(self, start: float) -> None:
        self.start = start

    def on_train_start(self, trainer: Trainer) -> None:
        self._set(trainer)

    def on_step_end(self, trainer: Trainer, result: StepResult) -> None:
        self._set(trainer)

    def _set(self, trainer: Trainer) -> None:
        if trainer.step >= trainer.total_steps:
            return
        scale = linear_decay(trainer.step, trainer.total_steps, self.start)
        for optimizer in trainer.optimizers.values():
            set_lr_scale(optimizer, scale)


class MetricsCSV(Callback):
    """Append the step's statistics to a CSV every `every` steps; stop on NaN/Inf.

    A statistic that first appears later (lazy R1, evaluation metrics) adds a column: the
    file is rewritten once, atomically, with the wider header; missing cells stay empty.
    """

    def __init__(self, path: Path, every: int) -> None:
        self.path = path
        self.every = every
        self.columns: list[str] = []
        self.last: dict[str, float] = {}

    def on_step_end(self, trainer: Trainer, result: StepResult) -> None:
        if (trainer.step % self.every and trainer.step != trainer.total_steps) or not result.stats:
            return  # no statistics: a step undone by NaN recovery
        values = {name: float(value) for name, value in result.stats.items()}
        bad = sorted(name for name, value in values.items() if not math.isfinite(value) and not _is_metric(name))
        if bad:
            raise TrainingDiverged(
                f"{', '.join(bad)} became non-finite at step {trainer.step}; "
                "lower the learning rates (optim.lr_g / optim.lr_d) or add a regularizer (loss.gp_weight, "
                "loss.r1_gamma, model.spectral_norm); everything written before this step is kept"
            )
        self.last = values
        new = [name for name in values if name not in self.columns]
        if new:
            self._widen(new)
        with self.path.open("a", newline="") as handle:
            row = [trainer.step, *(_fmt(values.get(c)) for c in self.columns)]
            csv.writer(handle).writerow(row)

    def continue_from(self, step: int) -> None:
        """Resume an existing file: keep its columns and the rows up to `step`, drop later ones (atomically)."""
        if not self.path.exists():
            return
        with self.path.open(newline="") as handle:
            reader = csv.DictReader(handle)
            self.columns = [c for c in (reader.fieldnames or []) if c != "step"]
            rows = [r for r in reader if r.get("step", "").isdigit() and int(r["step"]) <= step]
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=["step", *self.columns], restval="")
        writer.writeheader()
        writer.writerows(rows)
        atomic_write_text(self.path, buffer.getvalue())

    def _widen(self, new: list[str]) -> None:
        rows = []
        if self.columns:
            with self.path.open(newline="") as handle:
                rows = list(csv.DictReader(handle))
        self.columns += new
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=["step", *self.columns], restval="")
        writer.writeheader()
        writer.writerows(rows)
        atomic_write_text(self.path, buffer.getvalue())


def _is_metric(name: str) -> bool:
    """Evaluation numbers may legitimately be infinite (e.g. a mode KL with no high-quality sample)."""
    return name.startswith("eval/")


class EvalCallback(Callback):
    """Every `every` steps, score the players (a kind's evaluator, called with the step) and add the numbers to the
    step's stats.

    Values are logged as `eval/<protocol>`; evaluation draws its own latents, so the training
    random stream is untouched.
    """

    def __init__(self, evaluate: Callable[[int], dict[str, float]], every: int) -> None:
        self.evaluate = evaluate
        self.every = every

    def on_step_end(self, trainer: Trainer, result: StepResult) -> None:
        if trainer.step % self.every == 0 or trainer.step == trainer.total_steps:
            for protocol, value in self.evaluate(trainer.step).items():
                result.stats[f"eval/{protocol}"] = torch.tensor(value)


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"


class SampleWriter(Callback):
    """Draw samples from a fixed latent batch at the start, every `every` steps, and at the end."""

    def __init__(self, draw: Callable[[], torch.Tensor], save: Callable[[torch.Tensor, Path], None],
                 run: RunDir, every: int) -> None:
        self.draw = draw
        self.save = save
        self.run = run
        self.every = every

    def on_train_start(self, trainer: Trainer) -> None:
        self._write(trainer.step)

    def on_step_end(self, trainer: Trainer, result: StepResult) -> None:
        if trainer.step % self.every == 0 or trainer.step == trainer.total_steps:
            self._write(trainer.step)

    def _write(self, step: int) -> None:
        self.save(self.draw(), self.run.sample_path(step))


class Checkpointer(Callback):
    """Save the trainer's full state every `every` steps and at the end, keeping the newest `keep`."""

    def __init__(self, run: RunDir, every: int, keep: int, meta: dict[str, Any]) -> None:
        self.run = run
        self.every = every
        self.keep = keep
        self.meta = meta

    def on_step_end(self, trainer: Trainer, result: StepResult) -> None:
        if trainer.step % self.every == 0 or trainer.step == trainer.total_steps:
            self.save(trainer)

    def save(self, trainer: Trainer) -> None:
        """Write the trainer's state at its current step now, then drop all but the newest `keep`."""
        write_state(self.run.checkpoint_path(trainer.step), {"meta": self.meta, **trainer.state_dict()}, self.run)
        for old in self.run.checkpoints()[: -self.keep]:
            old.unlink()


class BestCheckpoint(Callback):
    """Keep RUN/checkpoints/best.pt: the full state at the evaluation with the best `metric` so far.

    `metric` is a score of gankit.metrics.names.SCORES (e.g. `fid`); the logged `eval/<metric>_<protocol>` with
    the shortest name is used, so per-class numbers never compete with the overall one.
    """

    def __init__(self, run: RunDir, metric: str, meta: dict[str, Any]) -> None:
        self.run = run
        self.metric = metric
        self.lower_is_better = metric in LOWER_IS_BETTER
        self.meta = meta
        self.best: dict[str, Any] | None = None  # {"metric": protocol, "value": v, "step": s}

    def on_step_end(self, trainer: Trainer, result: StepResult) -> None:
        keys = [k for k in result.stats if k.startswith(f"eval/{self.metric}_") and not k.endswith("_std")]
        if not keys:
            return
        key = min(keys, key=len)
        value = float(result.stats[key])
        if not math.isfinite(value) or (self.best is not None and not self._improves(value)):
            return
        self.best = {"metric": key.removeprefix("eval/"), "value": value, "step": trainer.step}
        state = {"meta": self.meta, "best": dict(self.best), **trainer.state_dict()}
        write_state(self.run.best_checkpoint_path, state, self.run)

    def _improves(self, value: float) -> bool:
        best = self.best["value"]
        return value < best if self.lower_is_better else value > best

    def state_dict(self) -> dict[str, Any]:
        return dict(self.best) if self.best is not None else {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best = dict(state) or None


def write_state(path: Path, state: dict[str, Any], run: RunDir) -> None:
    """save_checkpoint, turning a failed write (full disk, lost permissions) into a CheckpointError that says
    which checkpoint is still intact and how to go on."""
    try:
        save_checkpoint(state, path)
    except OSError as err:
        kept = run.checkpoints()
        intact = f"the newest intact checkpoint is {kept[-1]}" if kept else "no earlier checkpoint exists"
        raise CheckpointError(
            f"could not write {path} ({err.strerror or err}); nothing was overwritten and {intact}. Free space "
            f"(or fix permissions) in {path.parent}, then continue with `gankit train --resume {run.path}`"
        ) from None


class ProgressBar(Callback):
    """A console progress bar with ETA and the latest losses (refreshed every `every` steps)."""

    def __init__(self, every: int, read_stats: Callable[[], dict[str, float]]) -> None:
        self.every = every
        self.read_stats = read_stats
        self.progress = Progress(
            TextColumn("[bold]train"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(), TextColumn("{task.fields[losses]}"),
        )
        self.task = None

    def on_train_start(self, trainer: Trainer) -> None:
        self.progress.start()
        self.task = self.progress.add_task("train", total=trainer.total_steps, completed=trainer.step, losses="")

    def on_step_end(self, trainer: Trainer, result: StepResult) -> None:
        if trainer.step % self.every == 0 or trainer.step == trainer.total_steps:
            stats = self.read_stats()
            losses = "  ".join(f"{k} {stats[k]:.3f}" for k in ("loss_d", "loss_g") if k in stats)
            self.progress.update(self.task, completed=trainer.step, losses=losses)

    def on_train_end(self, trainer: Trainer) -> None:
        self.progress.stop()
