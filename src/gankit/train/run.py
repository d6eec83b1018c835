"""A whole training run from a config, for any game kind (finished runs are restored by gankit.runs)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from torch import nn

from gankit.atomic import atomic_write_text
from gankit.config import RunConfig, config_to_yaml
from gankit.errors import CheckpointError, ConfigError, DataError
from gankit.experiment import Experiment, apply_optimizer_settings, build_experiment, resolve_device
from gankit.kinds import Preview
from gankit.optim import ExponentialMovingAverage
from gankit.distributed import Topology, init_from_env, local_device, shutdown, topology_from_env
from gankit.train.alarms import AlarmMonitor
from gankit.train.callbacks import (
    BestCheckpoint,
    Checkpointer,
    EMACallback,
    EvalCallback,
    LinearDecay,
    MetricsCSV,
    ProgressBar,
    SampleWriter,
)
from gankit.train.diagnostics import Diagnostics
from gankit.train.recovery import NaNRecovery
from gankit.train.interrupt import TrainingInterrupted, stop_on_signals
from gankit.train.parallel import StatsAverager, StopAgreement
from gankit.train.resume import record_config_change
from gankit.train.tensorboard import TensorBoardLogger
from gankit.train.checkpoint import load_checkpoint, load_module_state
from gankit.train.run_dir import RunDir
from gankit.train.trainer import Callback, Trainer

__all__ = ["train"]

_CONSOLE = Console(stderr=True)


def train(
    config: RunConfig, out: str | Path, *, progress: bool = True, resume: bool = False, changes: Sequence[str] = ()
) -> RunDir:
    """Train `config` into the new run directory `out`; data and config are checked before anything is written.

    With `resume`, `out` is an existing run: training continues exactly from its newest checkpoint
    (weights, optimizers, data order, RNG states, callbacks), metrics rows written after that checkpoint
    are replaced, and `changes` (from gankit.train.resume.resume_config) are recorded once it has loaded.
    Under torchrun every process trains its share of each batch and rank 0 alone writes the run
    (see gankit.distributed).
    """
    topology = init_from_env(resolve_device(local_device(config.device, topology_from_env())))
    try:
        return _train(config, Path(out), topology, progress=progress and topology.is_main, resume=resume,
                      changes=changes)
    finally:
        shutdown()


def _train(
    config: RunConfig, out: Path, topology: Topology, *, progress: bool, resume: bool, changes: Sequence[str]
) -> RunDir:
    exp = build_experiment(config)
    writes = topology.is_main
    callbacks: list[Callback] = [StatsAverager(config.train.log_every)] if topology.distributed else []
    if config.optim.decay == "linear":  # on every rank, before NaN recovery (see LinearDecay)
        callbacks.append(LinearDecay(config.optim.decay_start))
    drawn: dict[str, nn.Module] = dict(exp.game.players)  # what previews and evaluations draw from
    averaged = exp.kind.averaged_player
    if config.train.ema_decay is not None and writes:
        ema = ExponentialMovingAverage(exp.game.players[averaged], config.train.ema_decay)
        callbacks.append(EMACallback(ema))
        drawn[averaged] = ema.shadow
    if config.train.eval_every is not None and writes:  # before the run directory exists: bad data fails first
        evaluator = exp.kind.evaluator(config, exp.setup, drawn)
        if evaluator is None:
            raise ConfigError(f"train.eval_every: the {exp.kind.name} kind has no evaluation during training; "
                              "remove it")
        callbacks.append(EvalCallback(evaluator, config.train.eval_every))
    state = None
    if resume:
        run = RunDir.open(out)
        state = load_checkpoint(run.latest_checkpoint())
        if writes:
            run.remove_stale_temporaries()
    elif writes:
        run = RunDir.create(out)
        atomic_write_text(run.config_path, config_to_yaml(config))
    else:
        run = RunDir(out)
    every = config.train.log_every
    alarms = AlarmMonitor(run.path / "alarms.jsonl", every, config, notify=_CONSOLE.print if progress else None)
    recovery = None  # on every rank: a rollback must happen everywhere or nowhere
    if config.train.nan_retries > 0:
        recovery = NaNRecovery(every, config.train.keep_good_every, retries=config.train.nan_retries,
                               lr_factor=config.train.nan_lr_factor, alarms=alarms if writes else None)
    checkpointer = Checkpointer(run, config.train.checkpoint_every, config.train.keep_checkpoints, _meta(exp))
    metrics = MetricsCSV(run.metrics_path, every)
    if writes:
        preview = exp.kind.preview(config, exp.setup, drawn)
        callbacks += _writer_callbacks(exp, preview, run, metrics, checkpointer, alarms, recovery, progress)
    elif recovery is not None:
        callbacks.append(recovery)
    agreement = StopAgreement(exp.device, every) if topology.distributed else None
    if agreement is not None:
        callbacks.append(agreement)
    trainer = Trainer(
        exp.game, exp.dynamics, exp.optimizers, exp.batches, steps=config.train.steps, callbacks=callbacks
    )
    if state is not None:
        _load_state(trainer, exp, run, state)
        rollbacks = recovery.failures if recovery is not None else 0
        apply_optimizer_settings(exp.optimizers, exp.kind.optimizer_settings(config), rollbacks=rollbacks,
                                 lr_factor=config.train.nan_lr_factor)
        if writes:
            metrics.continue_from(trainer.step)
            if changes:
                record_config_change(run, trainer.step, list(changes), config)
    # The handlers stay installed until the report is written: a signal then lets it finish.
    with stop_on_signals(trainer, agreement.request if agreement is not None else None) as received:
        try:
            if writes:
                _fit_or_stop_cleanly(trainer, checkpointer, run)
            else:
                trainer.fit()
            if received and trainer.step < trainer.total_steps:
                if writes:
                    checkpointer.save(trainer)
                how = "the same torchrun command with " if topology.distributed else "`gankit train "
                raise TrainingInterrupted(
                    f"stopped by {received[0]} at step {trainer.step}; a checkpoint was written: continue with "
                    f"{how}--resume {run.path}" + ("" if topology.distributed else "`")
                )
        finally:  # also after a divergence or an interruption: the report shows what was written
            if writes:
                _write_report(run)
    return run


def _meta(exp: Experiment) -> dict[str, object]:
    """What a checkpoint records so that the kind can rebuild its players without the data."""
    return {**exp.setup.meta, "ema": exp.config.train.ema_decay is not None}


def _writer_callbacks(
    exp: Experiment, preview: Preview | None, run: RunDir, metrics: MetricsCSV, checkpointer: Checkpointer,
    alarms: AlarmMonitor, recovery: NaNRecovery | None, progress: bool,
) -> list[Callback]:
    """The callbacks of the process that writes the run: diagnostics, alarms, metrics, pictures, checkpoints.

    NaN recovery goes after the diagnostics (their statistics are checked too) and before every writer.
    Sample diagnostics, grids and TensorBoard images need the kind's preview; a kind without one gets
    the rest.
    """
    config = exp.config
    every = config.train.log_every
    callbacks: list[Callback] = []
    if config.train.diagnostics and preview is not None:
        callbacks.append(Diagnostics(preview.draw, preview.real_batch, every, mixture=preview.mixture))
    if recovery is not None:
        callbacks.append(recovery)
    if config.train.diagnostics:
        callbacks.append(alarms)
    callbacks.append(metrics)
    if preview is not None:
        callbacks.append(SampleWriter(preview.draw, preview.save, run, config.train.sample_every))
    callbacks.append(checkpointer)
    if config.train.best_metric is not None:
        callbacks.append(BestCheckpoint(run, config.train.best_metric, checkpointer.meta))
    if config.train.tensorboard:
        callbacks.append(TensorBoardLogger(
            run.path / "tb", every, config.train.sample_every, preview.draw if preview else None,
            preview.critic_outputs if preview else None, preview.columns if preview else None,
        ))
    if progress:
        callbacks.append(ProgressBar(every, lambda: metrics.last))
    return callbacks


def _load_state(trainer: Trainer, exp: Experiment, run: RunDir, state: dict) -> None:
    """Restore a checkpoint into the trainer, or one CheckpointError naming what does not fit."""
    for name, module in exp.game.players.items():
        load_module_state(module, state["players"].get(name, {}), f"the {name} in {run.latest_checkpoint()}",
                          "resume with the config it was written with")
    try:
        trainer.load_state_dict(state)
    except (RuntimeError, KeyError, ValueError) as err:
        raise CheckpointError(
            f"the newest checkpoint of {run.path} does not fit this config ({_first_line(err)}); resume with the "
            "config it was written with"
        ) from None


def _fit_or_stop_cleanly(trainer: Trainer, checkpointer: Checkpointer, run: RunDir) -> None:
    """trainer.fit(); a file fault mid-run (disk full, a file gone or unreadable) stops with a checkpoint when
    the state is whole and one can still be written, and one message saying what failed and how to continue."""
    try:
        trainer.fit()
    except (OSError, DataError) as err:
        reason = f"{err.strerror or err}: {err.filename}" if isinstance(err, OSError) and err.filename else str(err)
        kept = run.checkpoints()
        saved = f"the newest intact checkpoint is {kept[-1]}" if kept else "no checkpoint was written yet"
        if not trainer.in_step:  # the fault came between updates: the state is whole
            try:
                checkpointer.save(trainer)
                saved = f"a checkpoint was written at step {trainer.step}"
            except CheckpointError as save_err:
                saved = str(save_err)
        raise CheckpointError(
            f"stopped at step {trainer.step}: {reason}. {saved}; fix the cause, then continue with "
            f"`gankit train --resume {run.path}`"
        ) from None


def _first_line(err: Exception) -> str:
    return str(err).strip().splitlines()[0][:300] if str(err).strip() else type(err).__name__


def _write_report(run: RunDir) -> None:
    """RUN/report.html; a report that cannot be written is a note, never the run's failure."""
    from gankit.report import write_report

    try:
        write_report(run.path)
    except Exception as err:  # noqa: BLE001 - the run's own outcome matters more than its report
        _CONSOLE.print(f"note: could not write {run.path / 'report.html'} ({err}); run `gankit report {run.path}`")
