"""Drive a sweep: build the batched groups, train them, write every member's folder and the summaries.

    OUT/member_XXX/config.yaml     the member's fully resolved config (gankit train config.yaml reruns it)
    OUT/member_XXX/metrics.csv     losses, D outputs and gradient norms every train.log_every steps;
                                   every --eval-every steps modes, hq_fraction, reverse_kl (2D) or
                                   fid, precision, recall, density, coverage (images)
    OUT/member_XXX/samples/        the final fixed-latent samples (over the true modes for 2D data)
    OUT/member_XXX/checkpoints/    the final weights (gankit sample / gankit eval read them; not resumable)
    OUT/sweep.csv, OUT/sweep.json  one row per member: seed, grid values, final numbers
    OUT/sweep_heatmap.png          per grid cell mean ± std over seeds of modes and high-quality fraction
                                   (2D) or FID and recall (images)
"""

from __future__ import annotations

import csv
import io
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from gankit.atomic import atomic_write_text
from gankit.config import config_to_yaml
from gankit.errors import CheckpointError
from gankit.sampling import draw
from gankit.sweep.engine import StackedGAN
from gankit.sweep.grid import GridAxis, Member
from gankit.sweep.heatmap import Cell, save_heatmap
from gankit.sweep.memory import retain_freed_memory
from gankit.sweep.scoring import Scoring, scoring_for
from gankit.sweep.support import group_members
from gankit.train.checkpoint import save_checkpoint
from gankit.train.run_dir import RunDir
from gankit.viz import save_image_grid, save_scatter

__all__ = ["SweepResult", "run_sweep", "DEFAULT_EVAL_N"]

DEFAULT_EVAL_N = 1000  # samples per member for the FID of image sweeps


@dataclass
class SweepResult:
    """What a sweep wrote: its folder, members, sweep.csv rows, heat-map cells, scoring and timing."""

    out: Path
    members: list[Member]
    rows: list[dict[str, Any]]
    cells: list[Cell]
    groups: list[list[int]]
    scoring: Scoring
    train_seconds: float
    member_steps_per_second: float = field(default=math.nan)


def _prepare_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise CheckpointError(f"--out {out} is a file; give a directory for the sweep")
    if out.is_dir() and any(out.iterdir()):
        raise CheckpointError(f"sweep directory {out} is not empty; choose a new --out so nothing in it is overwritten")
    out.mkdir(parents=True, exist_ok=True)


def _csv_text(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows([{k: _cell(v) for k, v in row.items()} for row in rows])
    return buffer.getvalue()


def _cell(value: Any) -> Any:
    return f"{value:.6g}" if isinstance(value, float) else value


def _columns(rows: Sequence[dict[str, Any]]) -> list[str]:
    return list(dict.fromkeys(k for row in rows for k in row))


class _GroupRun:
    """One batched group: its engine, members, and the metrics rows it has logged so far."""

    def __init__(self, members: list[Member], eval_n: int) -> None:
        self.members = members
        self.engine = StackedGAN([m.config for m in members])
        self.scoring = scoring_for(self.engine, eval_n)
        self.rows: list[list[dict[str, Any]]] = [[] for _ in members]
        self.diverged: list[int | None] = [None] * len(members)

    def log(self, step: int, stats: dict[str, torch.Tensor], evaluate: bool) -> None:
        values = {name: tensor.detach().cpu().tolist() for name, tensor in stats.items()}
        scores = self.scoring.score(self.engine) if evaluate else None
        for m in range(len(self.members)):
            row: dict[str, Any] = {"step": step, **{name: float(v[m]) for name, v in values.items()}}
            if self.diverged[m] is None and not all(math.isfinite(row[k]) for k in ("loss_d", "loss_g") if k in row):
                self.diverged[m] = step
            if scores is not None:
                row.update(scores[m])
            self.rows[m].append(row)


def run_sweep(
    members: Sequence[Member],
    out: str | Path,
    axes: Sequence[GridAxis],
    *,
    eval_every: int | None = None,
    eval_n: int = DEFAULT_EVAL_N,
    notify: Callable[[str], None] | None = None,
) -> SweepResult:
    """Train every member (batched per group) and write OUT; all configs are checked before anything is written.

    `eval_every` (default: each member's train.sample_every) is how often members are scored (see
    `gankit.sweep.scoring`; `eval_n` samples per image member); they are always scored at the last step.
    """
    out = Path(out)
    members = list(members)
    retain_freed_memory()
    groups = group_members([m.config for m in members])
    runs = [_GroupRun([members[i] for i in group], eval_n) for group in groups]  # builds (and checks data) first
    _prepare_out(out)
    for member in members:
        run = RunDir.create(out / member.name)
        atomic_write_text(run.config_path, config_to_yaml(member.config))
    started = time.perf_counter()
    member_steps = 0
    for g, run in enumerate(runs):
        config = run.members[0].config
        steps, log_every = config.train.steps, config.train.log_every
        every = eval_every or config.train.sample_every
        for step in range(steps):
            stats = run.engine.step(step)
            done = step + 1
            evaluate = done % every == 0 or done == steps
            if done % log_every == 0 or evaluate:
                run.log(done, stats, evaluate)
            if evaluate:
                _write_metrics(out, run)
                if notify is not None:
                    notify(_progress(g, len(runs), done, steps, run))
        member_steps += steps * len(run.members)
        _write_finals(out, run)
    seconds = time.perf_counter() - started
    scoring = runs[0].scoring
    rows = _summary_rows(runs, groups, axes, scoring)
    keys = [axis.key for axis in axes]
    title = f"{members[0].config.data.name}, {members[0].config.train.steps} steps"
    table = save_heatmap(rows, keys, out / "sweep_heatmap.png", panels=scoring.panels, metrics=scoring.columns,
                         title=title)
    result = SweepResult(out, members, rows, table, groups, scoring, seconds,
                         member_steps / seconds if seconds else math.nan)
    atomic_write_text(out / "sweep.csv", _csv_text(rows, _columns(rows)))
    atomic_write_text(out / "sweep.json", json.dumps(_finite(_summary_json(result, axes)), indent=2) + "\n")
    return result


def _progress(g: int, n_groups: int, step: int, steps: int, run: _GroupRun) -> str:
    panel = run.scoring.panels[0]
    values = [rows[-1][panel.metric] for rows in run.rows]
    group = f"group {g + 1}/{n_groups}, " if n_groups > 1 else ""
    return (f"{group}step {step}/{steps}: {panel.title} mean {sum(values) / len(values):.3g} "
            f"(min {min(values):.3g}, max {max(values):.3g}) over {len(values)} members")


def _write_metrics(out: Path, run: _GroupRun) -> None:
    for member, rows in zip(run.members, run.rows, strict=True):
        atomic_write_text(RunDir(out / member.name).metrics_path, _csv_text(rows, _columns(rows)))


def _write_finals(out: Path, run: _GroupRun) -> None:
    """Final samples (a scatter over the true modes, or the image grid gankit train draws) and final weights."""
    engine = run.engine
    points = engine.fixed_samples().cpu() if engine.mixture is not None else None
    steps = run.members[0].config.train.steps
    for m, member in enumerate(run.members):
        folder = RunDir(out / member.name)
        if points is not None:
            save_scatter(points[m], folder.sample_path(steps), engine.mixture.means,
                         title=f"{member.name} step {steps}")
        else:  # the fixed latents of gankit train's sample grids: seed + 1
            grid = draw(engine.member_generator(m), engine.members[m].experiment.data.inputs,
                        member.config.train.grid_size, seed=member.config.seed + 1)
            save_image_grid(grid, folder.sample_path(steps))
        ema = engine.member_ema(m)
        shape = list(engine.members[m].experiment.data.real.samples.shape[1:])
        meta = {"sample_shape": shape, "ema": ema is not None, "condition": None, "sweep": True}
        state = {"meta": meta, "step": steps, "players": engine.member_players(m),
                 "callbacks": {"EMACallback": ema} if ema is not None else {}}
        save_checkpoint(state, folder.checkpoint_path(steps))


def _summary_rows(
    runs: Sequence[_GroupRun], groups: Sequence[Sequence[int]], axes: Sequence[GridAxis], scoring: Scoring
) -> list[dict]:
    """One row per member, in member order: grid values, seed, group and final numbers."""
    by_index: dict[int, dict[str, Any]] = {}
    for g, run in enumerate(runs):
        for m, member in enumerate(run.members):
            last = run.rows[m][-1]
            row: dict[str, Any] = {"member": member.name, "seed": member.seed}
            row.update({axis.key: member.values[axis.key] for axis in axes})
            row.update({"group": g, "steps": last["step"]})
            row.update({name: last[name] for name in (*scoring.columns, "loss_d", "loss_g")})
            row["diverged_at"] = run.diverged[m] if run.diverged[m] is not None else ""
            by_index[member.index] = row
    return [by_index[i] for i in sorted(by_index)]


def _finite(value: Any) -> Any:
    """Non-finite floats as null, so sweep.json is strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def _summary_json(result: SweepResult, axes: Sequence[GridAxis]) -> dict[str, Any]:
    keys = [axis.key for axis in axes]
    return {
        "grid": {axis.key: list(dict.fromkeys(m.values[axis.key] for m in result.members)) for axis in axes},
        "seeds": sorted({m.seed for m in result.members}),
        "protocol": result.scoring.protocol,
        "members": result.rows,
        "groups": [[result.members[i].name for i in group] for group in result.groups],
        "cells": [
            {"values": dict(zip(keys, cell.values, strict=True)), "seeds": len(next(iter(cell.numbers.values()))),
             **{f"{metric}_mean": cell.mean(metric) for metric in cell.numbers},
             **{f"{metric}_std": cell.std(metric) for metric in cell.numbers}}
            for cell in result.cells
        ],
        "train_seconds": result.train_seconds,
        "member_steps_per_second": result.member_steps_per_second,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
    }
