"""The `fields` kind: a spatial GAN of two-phase microstructures and facies (gankit.fields; docs/microstructures.md).
The critic learns fields drawn from a named source; a run is judged by the statistics of its fields against training
images and independent realizations (gankit.fields.evaluate), and draws fields of any valid size, conditioned on a
porosity and on observed cells by latent optimization (gankit.fields.conditioning)."""

from __future__ import annotations

from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from gankit.config import FieldsConfig
from gankit.data.loader import InfiniteBatches
from gankit.errors import ConfigError
from gankit.fields.conditioning import HardData, fit_latent
from gankit.fields.data import as_tensor, real_fields
from gankit.fields.evaluate import field_scores, generate
from gankit.fields.game import CRITIC, FIELDS, GENERATOR, POROSITY, FieldGame, draw_latent
from gankit.fields.spatial import SpatialCritic, SpatialGenerator
from gankit.kinds.base import GameKind, PlayerOptimizer, Preview, Setup, per_player_optimizers
from gankit.metrics.evaluate import FeatureOptions
from gankit.viz import save_image_grid

__all__ = ["FieldsKind", "save_fields"]

PREVIEW_FIELDS = 16
EVAL_FIELDS = 64  # fields per set at each evaluation during training


def _mid_slices(fields: Tensor) -> Tensor:
    """(n, 1, *spatial) ↦ (n, 1, H, W): 3-D fields shown by their middle slice."""
    return fields[:, :, fields.shape[2] // 2] if fields.dim() == 5 else fields


def save_fields(fields: Tensor, path: Path, nrow: int | None = None) -> None:
    """A .png grid of fields (3-D: middle slices), the phase 1 white."""
    save_image_grid(_mid_slices(fields).clamp(-1, 1), path, nrow=nrow, scale=2 if fields.shape[-1] <= 128 else 1)


class FieldsKind(GameKind):
    name = "fields"
    averaged_player = GENERATOR
    unrolled_roles = (GENERATOR, CRITIC)

    def build(self, config: FieldsConfig, device: torch.device) -> Setup:
        section = config.fields
        if config.train.batch_size > section.images:
            raise ConfigError(f"train.batch_size {config.train.batch_size} exceeds the {section.images} training "
                              "fields (fields.images); lower it")
        training = real_fields(config, section.images)
        players = {name: module.to(device) for name, module in self.restore(config, {}).items()}
        game = FieldGame(players[GENERATOR], players[CRITIC], section.loss,
                         gradient_penalty=section.gradient_penalty, r1_gamma=section.r1_gamma)
        porosities = torch.from_numpy(training.reshape(len(training), -1).mean(1)).float()
        batches = InfiniteBatches({FIELDS: as_tensor(training), POROSITY: porosities}, config.train.batch_size,
                                  seed=config.seed, device=device)
        meta = {"training_porosity": [float(porosities.min()), float(porosities.max())]}
        return Setup(game, batches, training, meta)

    def double_backward(self, config: FieldsConfig) -> list[str]:
        section = config.fields
        return [key for key, on in (("fields.gradient_penalty", section.gradient_penalty > 0),
                                    ("fields.r1_gamma", section.r1_gamma > 0)) if on]

    def optimizer_settings(self, config: FieldsConfig) -> dict[str, PlayerOptimizer]:
        return per_player_optimizers(config)

    def preview(self, config: FieldsConfig, setup: Setup, drawn: dict[str, nn.Module]) -> Preview:
        generator = drawn[GENERATOR]
        device = next(generator.parameters()).device
        training: Any = setup.data
        real = as_tensor(training[:256])
        z = draw_latent(generator, PREVIEW_FIELDS, config.fields.size, device=device,
                        random=torch.Generator().manual_seed(config.seed + 4))
        condition = (torch.from_numpy(training[:PREVIEW_FIELDS].reshape(PREVIEW_FIELDS, -1).mean(1)).float()
                     if generator.conditional else None)
        return Preview(draw=lambda: generate(generator, z, condition),
                       save=lambda fields, path: save_fields(fields, path, nrow=4), real_batch=_mid_slices(real),
                       columns=4)

    def evaluator(
        self, config: FieldsConfig, setup: Setup, drawn: dict[str, nn.Module]
    ) -> Callable[[int], dict[str, float]]:
        return lambda step: field_scores(config, drawn[GENERATOR], n=EVAL_FIELDS, seed=config.seed, full=False)

    def restore(self, config: FieldsConfig, meta: dict[str, Any]) -> dict[str, nn.Module]:
        section = config.fields
        critic_layers = section.layers if section.critic_layers is None else section.critic_layers
        return {CRITIC: SpatialCritic(section.dims, section.width, critic_layers, section.conditional),
                GENERATOR: SpatialGenerator(section.dims, section.latent_channels, section.width, section.layers,
                                            section.conditional, section.latent_layers)}

    def sample(
        self, config: FieldsConfig, players: dict[str, nn.Module], meta: dict[str, Any], n: int, *, seed: int,
        conditions: Tensor | None,
    ) -> tuple[Tensor, int | None, Callable[[Tensor, Path, int | None], None]]:
        if conditions is not None:
            raise ConfigError("a fields run takes --porosity (and --points, --size), not --label or --condition")
        return self.sample_fields(config, players, meta, n, seed=seed)

    def evaluate(
        self, config: FieldsConfig, players: dict[str, nn.Module], meta: dict[str, Any], metrics: Collection[str], *,
        n: int, seed: int, features: FeatureOptions,
    ) -> dict[str, float]:
        return field_scores(config, players[GENERATOR], n=min(n, config.fields.images), seed=seed)

    def sample_fields(
        self, config: FieldsConfig, players: dict[str, nn.Module], meta: dict[str, Any], n: int, *, seed: int,
        size: int | None = None, porosity: float | None = None, hard: HardData | None = None,
    ) -> tuple[Tensor, int | None, Callable[[Tensor, Path, int | None], None]]:
        generator: SpatialGenerator = players[GENERATOR]  # type: ignore[assignment]
        size = size or config.fields.size
        if porosity is not None and not 0 < porosity < 1:
            raise ConfigError(f"--porosity {porosity} must lie in (0, 1)")
        try:
            z = draw_latent(generator, n, size, device="cpu", random=torch.Generator().manual_seed(seed))
        except ValueError as error:
            raise ConfigError(f"--size: {error}") from None
        if hard is not None:
            _check_hard_data(hard, tuple(s * generator.stride for s in z.shape[2:]))
        condition = None
        if generator.conditional:  # the target, else the middle of the training range
            low, high = meta.get("training_porosity", (0.5, 0.5))
            condition = torch.full((n,), porosity if porosity is not None else (low + high) / 2)
        z = fit_latent(generator, z, condition=condition, porosity=porosity, hard=hard)
        fields = generate(generator, z, condition)
        return fields, None, lambda x, path, nrow: save_fields(x, path, nrow)


def _check_hard_data(hard: HardData, shape: tuple[int, ...]) -> None:
    if hard.cells.shape[1] != len(shape):
        raise ConfigError(f"--points gives {hard.cells.shape[1]} coordinates per point; the fields are "
                          f"{len(shape)}-D")
    outside = ((hard.cells < 0) | (hard.cells >= torch.tensor(shape))).any(1)
    if outside.any():
        first = hard.cells[outside][0].tolist()
        raise ConfigError(f"--points: {int(outside.sum())} point(s) lie outside the {'×'.join(map(str, shape))} "
                          f"field, e.g. {first}; give cells in 0…size−1 or a larger --size")
