"""A whole training run from a Config, and sampling from a finished run directory."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from gankit.atomic import atomic_write, atomic_write_text
from gankit.config import Config, config_to_yaml, load_config
from gankit.data import MIXTURES
from gankit.errors import ConfigError
from gankit.experiment import Experiment, build_experiment, build_players, resolve_device
from gankit.nn.conditional import ConditionalGenerator, ConditionSpec
from gankit.nn.infogan import InfoGANGenerator
from gankit.sampling import class_grid_conditions, draw, eval_forward, generator_inputs, traversal_inputs
from gankit.optim import ExponentialMovingAverage
from gankit.train.callbacks import Checkpointer, EMACallback, EvalCallback, MetricsCSV, ProgressBar, SampleWriter
from gankit.train.checkpoint import load_checkpoint
from gankit.train.run_dir import RunDir
from gankit.train.trainer import Callback, Trainer
from gankit.viz import save_image_grid, save_scatter

__all__ = ["train", "load_generator", "sample_from_run", "traverse_run"]


def train(config: Config, out: str | Path, *, progress: bool = True) -> RunDir:
    """Train `config` into the new run directory `out`; data and config are checked before anything is written."""
    exp = build_experiment(config)
    callbacks: list[Callback] = []
    generator: nn.Module = exp.game.generator
    if config.train.ema_decay is not None:
        ema = ExponentialMovingAverage(exp.game.generator, config.train.ema_decay)
        callbacks.append(EMACallback(ema))
        generator = ema.shadow
    if config.train.eval_every is not None:  # before the run directory exists: unsupported data fails first
        callbacks.append(EvalCallback(_evaluator(exp, generator), config.train.eval_every))
    run = RunDir.create(out)
    atomic_write_text(run.config_path, config_to_yaml(config))
    metrics = MetricsCSV(run.metrics_path, config.train.log_every)
    meta = {
        "sample_shape": list(exp.real.samples.shape[1:]),
        "ema": config.train.ema_decay is not None,
        "condition": exp.condition.to_dict() if exp.condition is not None else None,
    }
    draw_fixed, columns = _fixed_sampler(exp, generator)
    callbacks += [
        metrics,
        SampleWriter(draw_fixed, _sample_saver(exp, columns), run, config.train.sample_every),
        Checkpointer(run, config.train.checkpoint_every, config.train.keep_checkpoints, meta),
    ]
    if progress:
        callbacks.append(ProgressBar(config.train.log_every, lambda: metrics.last))
    trainer = Trainer(
        exp.game, exp.dynamics, exp.optimizers, exp.batches, steps=config.train.steps, callbacks=callbacks
    )
    trainer.fit()
    return run


def _evaluator(exp: Experiment, generator: nn.Module) -> Callable[[], dict[str, float]]:
    """Scores of `generator` on the config's data with the metrics of train.eval_metrics."""
    from gankit.metrics.evaluate import evaluate_generator, feature_space

    config = exp.config
    space = feature_space(config, tuple(exp.real.samples.shape[1:]))
    metrics, n = config.train.eval_metrics, config.train.eval_n
    return lambda: evaluate_generator(generator, config, metrics=metrics, n=n, seed=config.seed, space=space)


def _fixed_sampler(exp: Experiment, generator: nn.Module) -> tuple[Callable[[], Tensor], int | None]:
    """Samples of `generator` in eval mode from fixed inputs (the global RNG untouched), and the grid's columns.

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
    inputs = [x.to(exp.device) for x in generator_inputs(generator, n, rng, conditions)]
    return (lambda: eval_forward(generator, *inputs)), columns


def _sample_saver(exp: Experiment, columns: int | None) -> Callable[[Tensor, Path], None]:
    if exp.real.samples.dim() == 2:
        means = exp.real.mixture.means if exp.real.mixture is not None else None
        return lambda samples, path: save_scatter(samples[:, :2], path, means, title=path.stem)
    return lambda samples, path: save_image_grid(samples, path, nrow=columns)


def load_generator(run_dir: str | Path, device: str = "cpu") -> tuple[nn.Module, Config, int]:
    """The generator of a run's latest checkpoint (its EMA weights when the run kept them), config and step."""
    run = RunDir.open(run_dir)
    config = load_config(str(run.config_path))
    state = load_checkpoint(run.latest_checkpoint())
    condition = state["meta"].get("condition")
    spec = ConditionSpec.from_dict(condition) if condition else None
    generator, _ = build_players(config, tuple(state["meta"]["sample_shape"]), spec)
    weights = state["callbacks"].get("EMACallback") if state["meta"]["ema"] else None
    generator.load_state_dict(weights or state["players"]["generator"])
    return generator.to(resolve_device(device)).eval(), config, int(state["step"])


def sample_from_run(
    run_dir: str | Path, n: int, out: str | Path, seed: int = 0, conditions: Tensor | None = None
) -> Tensor:
    """Draw `n` samples from a run and write them to `out`: a .png grid (or 2D scatter) or a .npy array.

    `conditions` are the label(s) or condition vector(s) of a conditional run; without them a
    label-conditional run draws one row per class.
    """
    out = Path(out)
    if out.suffix not in (".png", ".npy"):
        raise ConfigError(f"--out {out} must end in .png (a grid) or .npy (an array)")
    generator, config, _ = load_generator(run_dir)
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


def traverse_run(run_dir: str | Path, index: int, out: str | Path, *, steps: int = 9, seed: int = 0) -> Tensor:
    """Write an InfoGAN latent-traversal grid of continuous code `index` (see sampling.traversal_inputs)."""
    generator, _, _ = load_generator(run_dir)
    if not isinstance(generator, InfoGANGenerator) or not generator.codes.continuous:
        raise ConfigError(f"--traverse needs an InfoGAN run with continuous codes (infogan.continuous); {run_dir} has none")
    if Path(out).suffix != ".png":
        raise ConfigError(f"--out {out} must end in .png for a traversal grid")
    z, codes = traversal_inputs(generator.codes, generator.latent_dim, index, steps=steps, seed=seed)
    images = eval_forward(generator, z, codes)
    save_image_grid(images, out, nrow=steps)
    return images
