"""Alarms: the known failure modes of GAN training, detected from the logged statistics, with advice.

Each rule looks at the rows logged so far (one dict of floats per logging step) and returns a
message when its failure is present. An alarm fires once when its condition starts holding and
re-arms only after the condition has stayed clear for `rearm` logs (so a value wobbling around a
threshold does not fire again and again); every firing goes to `alarms.jsonl` in the run directory
(`{"step", "alarm", "message", "advice"}` per line), to the console and so to the run report.
"""

from __future__ import annotations

import json
import math
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from pydantic import BaseModel

from gankit.config import RunConfig
from gankit.dynamics.base import StepResult
from gankit.train.trainer import Callback, Trainer

__all__ = ["ADVICE", "Alarm", "AlarmMonitor", "RULES", "Remedy", "advice", "collapse", "divergence", "saturation"]

Rows = Sequence[dict[str, float]]


@dataclass(frozen=True)
class Remedy:
    """One piece of advice: its `text`, the config `keys` it names, and `done`, which is given the values of those
    keys and says whether the config already does it (or can do no more of it: fewer than one D step)."""

    text: str
    keys: tuple[str, ...] = ()
    done: Callable[..., bool] = lambda *values: False


_SPECTRAL_NORM = Remedy("add model.spectral_norm=true", ("model.spectral_norm",), bool)
_R1 = Remedy("add loss.r1_gamma", ("loss.r1_gamma",), lambda gamma: gamma > 0)

# Per alarm: what the advice opens with, and the remedies it may propose.
ADVICE: dict[str, tuple[str, tuple[Remedy, ...]]] = {
    "saturation": ("", (
        Remedy("use loss.name=nonsaturating", ("loss.name",), lambda name: name == "nonsaturating"),
        Remedy("use loss.name=wasserstein with loss.gp_weight=10", ("loss.name", "loss.gp_weight"),
               lambda name, weight: name == "wasserstein" and weight > 0),
        _SPECTRAL_NORM,
        Remedy("lower optim.lr_d", ("optim.lr_d",)),
        Remedy("use fewer dynamics.d_steps", ("dynamics.d_steps",), lambda steps: steps <= 1),
    )),
    "collapse": ("", (
        _R1, _SPECTRAL_NORM,
        Remedy("try dynamics.name=unrolled", ("dynamics.name",), lambda name: name == "unrolled"),
        Remedy("lower optim.lr_g", ("optim.lr_g",)),
    )),
    "divergence": ("", (
        Remedy("lower the learning rates"),
        Remedy("use TTUR (optim.lr_d > optim.lr_g)", ("optim.lr_d", "optim.lr_g"), lambda lr_d, lr_g: lr_d > lr_g),
        Remedy("try dynamics.name=extragradient", ("dynamics.name",), lambda name: name == "extragradient"),
        Remedy("constrain D with loss.gp_weight", ("loss.gp_weight",), lambda weight: weight > 0),
        _SPECTRAL_NORM,
    )),
    "nan": ("gankit rolls back and lowers the learning rates (train.nan_retries); if it keeps failing, ", (
        Remedy("lower optim.lr_g / optim.lr_d", ("optim.lr_g", "optim.lr_d")), _R1,
    )),
}

_ABSENT = object()


def advice(alarm: str, config: RunConfig) -> str:
    """The advice of `alarm` for a run of `config`: only the remedies that name keys this config has and that it
    does not already use; "lower the learning rates" when none is left."""
    lead, remedies = ADVICE[alarm]
    left = []
    for remedy in remedies:
        values = [_setting(config, key) for key in remedy.keys]
        if all(value is not _ABSENT for value in values) and not remedy.done(*values):
            left.append(remedy.text)
    if not left:
        left = ["lower the learning rates"]
    return lead + (", ".join(left[:-1]) + " or " if len(left) > 1 else "") + left[-1]


def _setting(config: BaseModel, key: str) -> object:
    """The value of dotted `key` in `config`, or _ABSENT when the config has no such key."""
    node: object = config
    for part in key.split("."):
        if not isinstance(node, BaseModel) or part not in type(node).model_fields:
            return _ABSENT
        node = getattr(node, part)
    return node


@dataclass
class Alarm:
    step: int
    alarm: str
    message: str
    advice: str


def saturation(rows: Rows, window: int = 5) -> str | None:
    """D right on ≥ 99% of real and fake samples for `window` logs while G's gradient fell below 10% of its start."""
    recent = rows[-window:]
    if len(rows) < 2 * window or any("d_acc_real" not in r or "grad_norm_generator" not in r for r in recent):
        return None
    if min(min(r["d_acc_real"], r["d_acc_fake"]) for r in recent) < 0.99:
        return None
    start = max(r.get("grad_norm_generator", 0.0) for r in rows[:window])
    now = recent[-1]["grad_norm_generator"]
    if not now < 0.1 * start:
        return None
    return (f"discriminator saturated: it is right on every real and fake sample for the last {window} logs and "
            f"the generator's gradient norm fell to {now:.3g} (from {start:.3g}): the generator stops learning")


def collapse(rows: Rows, window: int = 5, threshold: float = 0.25, warmup: int = 40) -> str | None:
    """Sample diversity below `threshold` × the data's for `window` logs, after it had been at least twice that
    (a generator at initialization draws one blob: not yet a collapse) or after `warmup` logs."""
    recent = rows[-window:]
    if len(recent) < window or any("diag/diversity" not in r for r in recent):
        return None
    worst = max(r["diag/diversity"] for r in recent)
    peak = max(r.get("diag/diversity", 0.0) for r in rows)
    if worst < threshold and (peak >= 2 * threshold or len(rows) >= warmup):
        return (f"mode collapse: samples from fixed latents are {worst:.2f}× as spread out as real data "
                f"for the last {window} logs (1 = as diverse as the data)")
    return None


def divergence(rows: Rows, growth: float = 10.0, limit: float = 1e4) -> str | None:
    """A parameter norm grown `growth`× since the first log, or a loss/gradient norm beyond `limit`."""
    if not rows:
        return None
    first, last = rows[0], rows[-1]
    for key, value in last.items():
        if key.startswith("diag/param_norm_") and key in first and value > growth * max(first[key], 1e-12):
            return f"divergence: {key.removeprefix('diag/')} grew from {first[key]:.3g} to {value:.3g}"
        if (key.startswith("loss_") or key.startswith("grad_norm_")) and math.isfinite(value) and abs(value) > limit:
            return f"divergence: {key} reached {value:.3g}"
    return None


RULES: dict[str, Callable[[Rows], str | None]] = {
    "saturation": saturation, "collapse": collapse, "divergence": divergence,
}


class AlarmMonitor(Callback):
    """Check every rule at each logging step; write each firing to `path` (JSON lines) and `notify` it, with the
    advice that fits `config` (gankit.train.alarms.advice)."""

    def __init__(self, path: Path | None, every: int, config: RunConfig, notify: Callable[[str], None] | None = None,
                 rearm: int = 20) -> None:
        self.path = path
        self.every = every
        self.advice = {name: advice(name, config) for name in ADVICE}
        self.notify = notify
        self.rearm = rearm
        self.first: list[dict[str, float]] = []  # the opening logs, the rules' baseline
        self.recent: deque[dict[str, float]] = deque(maxlen=50)
        self.fired: list[Alarm] = []
        self._active: dict[str, int] = {}  # alarm -> consecutive clear logs since it fired

    def on_step_end(self, trainer: Trainer, result: StepResult) -> None:
        if trainer.step % self.every and trainer.step != trainer.total_steps:
            return
        if not result.stats:  # a step rolled back by NaN recovery
            return
        row = {k: float(v) for k, v in result.stats.items() if not k.startswith("eval/")}
        (self.first if len(self.first) < 10 else self.recent).append(row)
        rows = self.first + list(self.recent)
        for name, rule in RULES.items():
            message = rule(rows)
            if name in self._active:
                self._active[name] = self._active[name] + 1 if message is None else 0
                if self._active[name] >= self.rearm:
                    del self._active[name]
            elif message is not None:
                self._active[name] = 0
                self.raise_alarm(trainer.step, name, message)

    def raise_alarm(self, step: int, name: str, message: str) -> None:
        """Record one alarm: remembered, appended to the alarms file, and shown."""
        alarm = Alarm(step, name, message, self.advice[name])
        self.fired.append(alarm)
        if self.path is not None:
            with self.path.open("a") as handle:
                handle.write(json.dumps(asdict(alarm)) + "\n")
        if self.notify is not None:
            self.notify(f"alarm at step {step}: {message}; advice: {alarm.advice}")

    def state_dict(self) -> dict[str, object]:
        return {"first": self.first, "recent": list(self.recent), "active": dict(self._active)}

    def load_state_dict(self, state: dict[str, object]) -> None:
        self.first = list(state["first"])  # type: ignore[arg-type]
        self.recent = deque(state["recent"], maxlen=50)  # type: ignore[arg-type]
        self._active = dict(state["active"])  # type: ignore[arg-type]
