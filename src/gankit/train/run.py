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
from gankit.experiment import Experiment, build_experiment, build_players, eval_forward, resolve_device
from gankit.optim import ExponentialMovingAverage
from gankit.train.callbacks import Checkpointer, EMACallback, EvalCallback, MetricsCSV, ProgressBar, SampleWriter
from gankit.train.checkpoint import load_checkpoint
from gankit.train.run_dir import RunDir
from gankit.train.trainer import Callback, Trainer
from gankit.viz import save_image_grid, save_scatter

__all__ = ["train", "load_generator", "sample_from_run"]


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
    meta = {"sample_shape": list(exp.real.samples.shape[1:]), "ema": config.train.ema_decay is not None}
    callbacks += [
        metrics,
        SampleWriter(_fixed_sampler(exp, generator), _sample_saver(exp), run, config.train.sample_every),
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


def _fixed_sampler(exp: Experiment, generator: nn.Module) -> Callable[[], Tensor]:
    """Samples of `generator` in eval mode from one fixed latent batch, without touching the global RNG."""
    n = exp.config.train.grid_size if exp.real.mixture is None else 2500
    z = torch.randn(n, exp.config.model.latent_dim, generator=torch.Generator().manual_seed(exp.config.seed + 1))
    z = z.to(exp.device)

    return lambda: eval_forward(generator, z)


def _sample_saver(exp: Experiment) -> Callable[[Tensor, Path], None]:
    if exp.real.mixture is not None:
        means = exp.real.mixture.means
        return lambda samples, path: save_scatter(samples, path, means, title=path.stem)
    return lambda samples, path: save_image_grid(samples, path)


def load_generator(run_dir: str | Path, device: str = "cpu") -> tuple[nn.Module, Config, int]:
    """The generator of a run's latest checkpoint (its EMA weights when the run kept them), config and step."""
    run = RunDir.open(run_dir)
    config = load_config(str(run.config_path))
    state = load_checkpoint(run.latest_checkpoint())
    generator, _ = build_players(config.model, tuple(state["meta"]["sample_shape"]))
    weights = state["callbacks"].get("EMACallback") if state["meta"]["ema"] else None
    generator.load_state_dict(weights or state["players"]["generator"])
    return generator.to(resolve_device(device)).eval(), config, int(state["step"])


def sample_from_run(run_dir: str | Path, n: int, out: str | Path, seed: int = 0) -> Tensor:
    """Draw `n` samples from a run and write them to `out`: a .png grid (or 2D scatter) or a .npy array."""
    out = Path(out)
    if out.suffix not in (".png", ".npy"):
        raise ConfigError(f"--out {out} must end in .png (a grid) or .npy (an array)")
    generator, config, _ = load_generator(run_dir)
    z = torch.randn(n, config.model.latent_dim, generator=torch.Generator().manual_seed(seed))
    samples = eval_forward(generator, z)
    if out.suffix == ".npy":
        atomic_write(out, lambda handle: np.save(handle, samples.numpy()))
    elif samples.dim() == 2:
        mixture = MIXTURES.get(config.data.name)
        save_scatter(samples, out, mixture().means if mixture else None)
    else:
        save_image_grid(samples, out)
    return samples
