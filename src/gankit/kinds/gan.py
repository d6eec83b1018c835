"""The `gan` kind: generator vs discriminator, plain, conditional or InfoGAN, on any shipped or user data."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torch.optim import Optimizer

from gankit import distributed
from gankit.config import GANConfig
from gankit.data import MIXTURES, InfiniteBatches, RealData
from gankit.errors import ConfigError, DataError
from gankit.game import LABELS, SAMPLES
from gankit.kinds.base import GameKind, PlayerOptimizer, Preview, Setup, critic_outputs, penalty_keys
from gankit.kinds.gan_players import build_game, build_players, condition_spec, generator_inputs, load_real_data
from gankit.metrics.evaluate import FeatureOptions, evaluate_generator, feature_space
from gankit.nn.conditional import ConditionSpec
from gankit.optim import TrustRegion
from gankit.sampling import CodeInputs, LatentInputs, draw, eval_forward, traversal_inputs
from gankit.viz import save_image_grid, save_scatter

__all__ = ["GANData", "GANKind"]


@dataclass
class GANData:
    """The gan kind's data of a run: the real samples, the condition read off them, what G takes."""

    real: RealData
    condition: ConditionSpec | None
    inputs: LatentInputs


class GANKind(GameKind):
    name = "gan"
    takes_feature_options = True
    averaged_player = "generator"
    unrolled_roles = ("generator", "discriminator")

    def build(self, config: GANConfig, device: torch.device) -> Setup:
        real = load_real_data(config.data, config.seed)
        if config.train.batch_size > len(real.samples):
            raise DataError(f"train.batch_size {config.train.batch_size} exceeds the {len(real.samples)} samples in "
                            "the data; lower it")
        condition = condition_spec(config, real)
        generator, discriminator = build_players(config, tuple(real.samples.shape[1:]), condition)
        game = build_game(config, generator.to(device), discriminator.to(device))
        tensors = {SAMPLES: real.samples}
        if condition is not None:
            tensors[LABELS] = real.labels
        batches = InfiniteBatches(tensors, config.train.batch_size, seed=config.seed, device=device)
        meta = {"sample_shape": list(real.samples.shape[1:]),
                "condition": condition.to_dict() if condition is not None else None}
        return Setup(game, batches, GANData(real, condition, generator_inputs(config, condition)), meta)

    def optimizer_settings(self, config: GANConfig) -> dict[str, PlayerOptimizer]:
        betas = (config.optim.beta1, config.optim.beta2)
        return {"generator": PlayerOptimizer(config.optim.lr_g, betas),
                "discriminator": PlayerOptimizer(config.optim.lr_d, betas)}

    def dynamics_steps(self, config: GANConfig) -> dict[str, int]:
        return {"discriminator": config.dynamics.d_steps, **config.dynamics.steps}

    def double_backward(self, config: GANConfig) -> list[str]:
        return penalty_keys(config.loss)

    def check(self, config: GANConfig) -> None:
        super().check(config)
        region = config.dynamics.trust_region
        if region is not None and config.train.precision != "fp32":
            raise ConfigError(
                f"dynamics.trust_region compares loss values before and after each step, which train.precision "
                f"{config.train.precision} rounding swamps; use train.precision fp32 with a trust region"
            )
        if region is not None and distributed.current().distributed:
            raise ConfigError("dynamics.trust_region tests each step on one rank's loss, so ranks would disagree; "
                              "run it in one process (without torchrun)")
        if config.dynamics.name != "alternating" and config.dynamics.d_steps != 1:
            raise ConfigError(f"dynamics.d_steps applies to dynamics.name 'alternating' only, not "
                              f"{config.dynamics.name!r}; remove it")
        if config.dynamics.trust_region is not None and config.dynamics.name in ("extragradient", "unrolled"):
            raise ConfigError(
                f"dynamics.trust_region works with simultaneous, alternating and optimistic dynamics, not "
                f"{config.dynamics.name!r} (its generator step is not a single step from one evaluated point); "
                "remove dynamics.trust_region"
            )

    def wrap_optimizers(
        self, config: GANConfig, setup: Setup, optimizers: dict[str, Optimizer], device: torch.device
    ) -> dict[str, Optimizer]:
        """A trust region on the generator's updates when dynamics.trust_region is set."""
        region = config.dynamics.trust_region
        if region is None:
            return optimizers
        probe = None
        if region.measure == "outputs":
            data: GANData = setup.data
            vectors = data.condition is not None and not data.condition.is_label
            conditions = data.real.labels[:256] if vectors else None
            rng = torch.Generator().manual_seed(config.seed + 2)
            inputs = [x.to(device) for x in data.inputs.draw(256 if conditions is None else len(conditions), rng,
                                                              conditions)]
            generator = setup.game.generator
            probe = lambda: eval_forward(generator, *inputs)  # noqa: E731
        optimizers["generator"] = TrustRegion(
            optimizers["generator"], radius=region.radius, measure=region.measure, probe=probe,
            min_radius=region.min_radius, max_radius=region.max_radius,
        )
        return optimizers

    def preview(self, config: GANConfig, setup: Setup, drawn: dict[str, nn.Module]) -> Preview:
        data: GANData = setup.data
        real, device = data.real, _device(setup.game.generator)
        inputs, columns = _fixed_inputs(config, data, device)
        generator = drawn["generator"]
        rows = torch.randperm(len(real.samples), generator=torch.Generator().manual_seed(config.seed + 4))
        return Preview(
            draw=lambda: eval_forward(generator, *inputs),
            save=_saver(real, columns),
            real_batch=real.samples[rows[:256]],
            critic_outputs=_critic_outputs(config, setup, inputs),
            mixture=real.mixture,
            columns=columns,
        )

    def evaluator(
        self, config: GANConfig, setup: Setup, drawn: dict[str, nn.Module]
    ) -> Callable[[int], dict[str, float]]:
        data: GANData = setup.data
        space = feature_space(config.data.name, tuple(data.real.samples.shape[1:]))
        generator, train = drawn["generator"], config.train
        # The data loaded at the start, not the file again: a data file changed or gone mid-run cannot matter.
        return lambda step: evaluate_generator(generator, data.inputs, data.real, space, data_name=config.data.name,
                                          metrics=train.eval_metrics, n=train.eval_n, seed=config.seed)

    def restore(self, config: GANConfig, meta: dict[str, Any]) -> dict[str, nn.Module]:
        generator, discriminator = build_players(config, tuple(meta["sample_shape"]), _condition(meta))
        return {"discriminator": discriminator, "generator": generator}

    def sample(
        self, config: GANConfig, players: dict[str, nn.Module], meta: dict[str, Any], n: int, *, seed: int,
        conditions: Tensor | None,
    ) -> tuple[Tensor, int | None, Callable[[Tensor, Path, int | None], None]]:
        """A label-conditional run draws one row per class unless `conditions` are given."""
        inputs = generator_inputs(config, _condition(meta))
        columns = None
        if conditions is None and inputs.class_source == "label":
            columns = max(1, n // len(inputs.class_grid(1)))
            conditions = inputs.class_grid(columns)
            n = len(conditions)
        samples = draw(players["generator"], inputs, n, seed=seed, conditions=conditions)
        mixture = MIXTURES.get(config.data.name)
        means = mixture().means if mixture else None

        def save(x: Tensor, path: Path, nrow: int | None) -> None:
            if x.dim() == 2:
                save_scatter(x[:, :2], path, means)
            else:
                save_image_grid(x, path, nrow=nrow)

        return samples, columns, save

    def evaluate(
        self, config: GANConfig, players: dict[str, nn.Module], meta: dict[str, Any], metrics: Collection[str], *,
        n: int, seed: int, features: FeatureOptions,
    ) -> dict[str, float]:
        real = load_real_data(config.data, config.seed)
        space = feature_space(config.data.name, tuple(real.samples.shape[1:]), features)
        inputs = generator_inputs(config, _condition(meta))
        return evaluate_generator(players["generator"], inputs, real, space, data_name=config.data.name,
                                  metrics=metrics, n=n, seed=seed)

    def traverse(
        self, config: GANConfig, players: dict[str, nn.Module], meta: dict[str, Any], index: int, *, steps: int,
        seed: int,
    ) -> Tensor:
        """An InfoGAN latent-traversal grid's images: continuous code `index` swept in `steps` columns."""
        inputs = generator_inputs(config, _condition(meta))
        if not isinstance(inputs, CodeInputs) or not inputs.codes.continuous:
            raise ConfigError("--traverse needs an InfoGAN run with continuous codes (infogan.continuous); this run "
                              "has none")
        z, codes = traversal_inputs(inputs.codes, inputs.latent_dim, index, steps=steps, seed=seed)
        return eval_forward(players["generator"], z, codes)


def _condition(meta: dict[str, Any]) -> ConditionSpec | None:
    saved = meta.get("condition")
    return ConditionSpec.from_dict(saved) if saved else None


def _device(module: nn.Module) -> torch.device:
    return next(module.parameters()).device


def _fixed_inputs(config: GANConfig, data: GANData, device: torch.device) -> tuple[list[Tensor], int | None]:
    """Fixed generator inputs for sample grids and diagnostics (the global RNG untouched), and the grid's columns.

    A generator with classes (labels, or an InfoGAN categorical code) draws one row per class.
    """
    rng = torch.Generator().manual_seed(config.seed + 1)
    n = config.train.grid_size if data.real.mixture is None else 2500
    columns = conditions = None
    classes = data.inputs.class_grid(1)
    if classes is not None:
        columns = max(1, n // len(classes))
        conditions = data.inputs.class_grid(columns)
        n = len(conditions)
    elif data.condition is not None:  # condition vectors: those of the first training samples
        conditions = data.real.labels[:n]
        n = len(conditions)
    return [x.to(device) for x in data.inputs.draw(n, rng, conditions)], columns


def _critic_outputs(config: GANConfig, setup: Setup, inputs: list[Tensor]) -> Callable[[], tuple[Tensor, Tensor]]:
    """D's logits (eval mode, BatchNorm statistics untouched) on a fixed real batch and on the fixed samples."""
    game, data = setup.game, setup.data
    device = _device(game.generator)
    rows = torch.randperm(len(data.real.samples), generator=torch.Generator().manual_seed(config.seed + 3))[:256]
    real = data.real.samples[rows].to(device)
    real_context = data.real.labels[rows].to(device) if data.condition is not None else None
    fake_context = inputs[1] if data.condition is not None else None
    return critic_outputs(game, real, real_context, inputs, fake_context)


def _saver(real: RealData, columns: int | None) -> Callable[[Tensor, Path], None]:
    if real.samples.dim() == 2:
        means = real.mixture.means if real.mixture is not None else None
        return lambda samples, path: save_scatter(samples[:, :2], path, means, title=path.stem)
    return lambda samples, path: save_image_grid(samples, path, nrow=columns)
