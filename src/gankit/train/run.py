"""A whole training run from a Config, and sampling from a finished run directory."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from rich.console import Console
from torch import Tensor, nn

from gankit.atomic import atomic_write, atomic_write_text
from gankit.config import Config, config_to_yaml, load_config
from gankit.data import MIXTURES
from gankit.errors import CheckpointError, ConfigError, DataError
from gankit.experiment import Experiment, build_experiment, build_players, resolve_device
from gankit.nn.conditional import ConditionalGenerator, ConditionSpec
from gankit.nn.infogan import InfoGANGenerator
from gankit.sampling import class_grid_conditions, draw, eval_forward, generator_inputs, traversal_inputs
from gankit.optim import ExponentialMovingAverage
from gankit.distributed import Topology, init_from_env, local_device, shutdown, topology_from_env
from gankit.train.alarms import AlarmMonitor
from gankit.train.callbacks import (
    BestCheckpoint,
    Checkpointer,
    EMACallback,
    EvalCallback,
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
from gankit.viz import save_image_grid, save_scatter

__all__ = ["train", "load_generator", "sample_from_run", "traverse_run"]

_CONSOLE = Console(stderr=True)


def train(
    config: Config, out: str | Path, *, progress: bool = True, resume: bool = False, changes: Sequence[str] = ()
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
    config: Config, out: Path, topology: Topology, *, progress: bool, resume: bool, changes: Sequence[str]
) -> RunDir:
    exp = build_experiment(config)
    writes = topology.is_main
    callbacks: list[Callback] = [StatsAverager(config.train.log_every)] if topology.distributed else []
    generator: nn.Module = exp.game.generator
    if config.train.ema_decay is not None and writes:
        ema = ExponentialMovingAverage(exp.game.generator, config.train.ema_decay)
        callbacks.append(EMACallback(ema))
        generator = ema.shadow
    if config.train.eval_every is not None and writes:  # before the run directory exists: bad data fails first
        callbacks.append(EvalCallback(_evaluator(exp, generator), config.train.eval_every))
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
    alarms = AlarmMonitor(run.path / "alarms.jsonl", every, notify=_CONSOLE.print if progress else None)
    recovery = None  # on every rank: a rollback must happen everywhere or nowhere
    if config.train.nan_retries > 0:
        recovery = NaNRecovery(every, config.train.keep_good_every, retries=config.train.nan_retries,
                               lr_factor=config.train.nan_lr_factor, alarms=alarms if writes else None)
    checkpointer = Checkpointer(run, config.train.checkpoint_every, config.train.keep_checkpoints, _meta(exp))
    metrics = MetricsCSV(run.metrics_path, every)
    if writes:
        callbacks += _writer_callbacks(exp, generator, run, metrics, checkpointer, alarms, recovery, progress)
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
    """What a checkpoint records about the data, so a generator can be rebuilt without it."""
    return {
        "sample_shape": list(exp.real.samples.shape[1:]),
        "ema": exp.config.train.ema_decay is not None,
        "condition": exp.condition.to_dict() if exp.condition is not None else None,
    }


def _writer_callbacks(
    exp: Experiment, generator: nn.Module, run: RunDir, metrics: MetricsCSV, checkpointer: Checkpointer,
    alarms: AlarmMonitor, recovery: NaNRecovery | None, progress: bool,
) -> list[Callback]:
    """The callbacks of the process that writes the run: diagnostics, alarms, metrics, pictures, checkpoints.

    NaN recovery goes after the diagnostics (their statistics are checked too) and before every writer.
    """
    config = exp.config
    every = config.train.log_every
    inputs, columns = _fixed_inputs(exp, generator)
    draw_fixed = lambda: eval_forward(generator, *inputs)  # noqa: E731
    callbacks: list[Callback] = []
    if config.train.diagnostics:
        rows = torch.randperm(len(exp.real.samples), generator=torch.Generator().manual_seed(config.seed + 4))
        real_batch = exp.real.samples[rows[:256]]
        callbacks.append(Diagnostics(draw_fixed, real_batch, every, mixture=exp.real.mixture))
    if recovery is not None:
        callbacks.append(recovery)
    if config.train.diagnostics:
        callbacks.append(alarms)
    callbacks += [
        metrics,
        SampleWriter(draw_fixed, _sample_saver(exp, columns), run, config.train.sample_every),
        checkpointer,
    ]
    if config.train.best_metric is not None:
        callbacks.append(BestCheckpoint(run, config.train.best_metric, checkpointer.meta))
    if config.train.tensorboard:
        callbacks.append(TensorBoardLogger(run.path / "tb", every, config.train.sample_every, draw_fixed,
                                           _d_outputs(exp, inputs), columns))
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


def _evaluator(exp: Experiment, generator: nn.Module) -> Callable[[], dict[str, float]]:
    """Scores of `generator` on the config's data with the metrics of train.eval_metrics."""
    from gankit.metrics.evaluate import evaluate_generator, feature_space

    config = exp.config
    space = feature_space(config, tuple(exp.real.samples.shape[1:]))
    metrics, n = config.train.eval_metrics, config.train.eval_n
    # The data loaded at the start, not the file again: a data file changed or gone mid-run cannot matter.
    return lambda: evaluate_generator(
        generator, config, metrics=metrics, n=n, seed=config.seed, space=space, real_data=exp.real
    )


def _fixed_inputs(exp: Experiment, generator: nn.Module) -> tuple[list[Tensor], int | None]:
    """Fixed generator inputs for sample grids and diagnostics (the global RNG untouched), and the grid's columns.

    A generator with classes (labels, or an InfoGAN categorical code) draws one row per class.
    """
    config = exp.config
    rng = torch.Generator().manual_seed(config.seed + 1)
    n = config.train.grid_size if exp.real.mixture is None else 2500
    columns = None
    conditions = None
    classes = class_grid_conditions(generator, 1)
    if classes is not None:
        columns = max(1, n // len(classes))
        conditions = class_grid_conditions(generator, columns)
        n = len(conditions)
    elif exp.condition is not None:  # condition vectors: those of the first training samples
        conditions = exp.real.labels[:n]
        n = len(conditions)
    return [x.to(exp.device) for x in generator_inputs(generator, n, rng, conditions)], columns


def _d_outputs(exp: Experiment, inputs: list[Tensor]) -> Callable[[], tuple[Tensor, Tensor]]:
    """D's logits (eval mode, BatchNorm statistics untouched) on a fixed real batch and on the fixed samples."""
    game = exp.game
    rows = torch.randperm(len(exp.real.samples), generator=torch.Generator().manual_seed(exp.config.seed + 3))[:256]
    real = exp.real.samples[rows].to(exp.device)
    real_context = exp.real.labels[rows].to(exp.device) if exp.condition is not None else None
    fake_context = inputs[1] if exp.condition is not None else None

    def outputs() -> tuple[Tensor, Tensor]:
        fake = eval_forward(game.generator, *inputs)
        was_training = game.discriminator.training
        game.discriminator.eval()
        with torch.no_grad():
            logits = game.discriminate(real, real_context)[0], game.discriminate(fake, fake_context)[0]
        game.discriminator.train(was_training)
        return logits

    return outputs


def _sample_saver(exp: Experiment, columns: int | None) -> Callable[[Tensor, Path], None]:
    if exp.real.samples.dim() == 2:
        means = exp.real.mixture.means if exp.real.mixture is not None else None
        return lambda samples, path: save_scatter(samples[:, :2], path, means, title=path.stem)
    return lambda samples, path: save_image_grid(samples, path, nrow=columns)


def load_generator(
    run_dir: str | Path, device: str = "cpu", checkpoint: str = "latest"
) -> tuple[nn.Module, Config, int]:
    """The generator of a run's checkpoint (its EMA weights when the run kept them), config and step.

    `checkpoint` is `latest`, `best` (checkpoints/best.pt, see train.best_metric) or a step number.
    """
    run = RunDir.open(run_dir)
    config = load_config(str(run.config_path))
    path = run.find_checkpoint(checkpoint)
    state = load_checkpoint(path)
    condition = state["meta"].get("condition")
    spec = ConditionSpec.from_dict(condition) if condition else None
    generator, _ = build_players(config, tuple(state["meta"]["sample_shape"]), spec)
    weights = state["callbacks"].get("EMACallback") if state["meta"]["ema"] else None
    load_module_state(generator, weights or state["players"]["generator"], f"the generator in {path}",
                      "the run's config.yaml no longer matches its checkpoints; restore the config it was trained with")
    return generator.to(resolve_device(device)).eval(), config, int(state["step"])


def sample_from_run(
    run_dir: str | Path, n: int, out: str | Path, seed: int = 0, conditions: Tensor | None = None,
    checkpoint: str = "latest",
) -> Tensor:
    """Draw `n` samples from a run and write them to `out`: a .png grid (or 2D scatter) or a .npy array.

    `conditions` are the label(s) or condition vector(s) of a conditional run; without them a
    label-conditional run draws one row per class.
    """
    out = Path(out)
    if out.suffix not in (".png", ".npy"):
        raise ConfigError(f"--out {out} must end in .png (a grid) or .npy (an array)")
    generator, config, _ = load_generator(run_dir, checkpoint=checkpoint)
    columns = None
    if conditions is None and isinstance(generator, ConditionalGenerator):
        classes = class_grid_conditions(generator, 1)
        if classes is not None:
            columns = max(1, n // len(classes))
            conditions = class_grid_conditions(generator, columns)
            n = len(conditions)
    samples = draw(generator, n, seed=seed, conditions=conditions)
    if out.suffix == ".npy":
        atomic_write(out, lambda handle: np.save(handle, samples.numpy()))
    elif samples.dim() == 2:
        mixture = MIXTURES.get(config.data.name)
        save_scatter(samples[:, :2], out, mixture().means if mixture else None)
    else:
        save_image_grid(samples, out, nrow=columns)
    return samples


def traverse_run(
    run_dir: str | Path, index: int, out: str | Path, *, steps: int = 9, seed: int = 0, checkpoint: str = "latest"
) -> Tensor:
    """Write an InfoGAN latent-traversal grid of continuous code `index` (see sampling.traversal_inputs)."""
    generator, _, _ = load_generator(run_dir, checkpoint=checkpoint)
    if not isinstance(generator, InfoGANGenerator) or not generator.codes.continuous:
        raise ConfigError(f"--traverse needs an InfoGAN run with continuous codes (infogan.continuous); {run_dir} has none")
    if Path(out).suffix != ".png":
        raise ConfigError(f"--out {out} must end in .png for a traversal grid")
    z, codes = traversal_inputs(generator.codes, generator.latent_dim, index, steps=steps, seed=seed)
    images = eval_forward(generator, z, codes)
    save_image_grid(images, out, nrow=steps)
    return images
