"""The `circuits` kind: a graph GAN of gene regulatory circuits that show a behaviour (gankit.design; docs/design.md).
The critic learns the library of simulated circuits that show the behaviour (gankit.design.library); a run is
judged by simulating what the generator proposes (gankit.design.circuit_scores)."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

import torch
from torch import nn

from gankit.config import CircuitsConfig
from gankit.data.loader import InfiniteBatches
from gankit.design.circuit_game import (
    CIRCUITS, CRITIC, GENERATOR, CircuitCritic, CircuitGame, CircuitGenerator, one_hot,
)
from gankit.design.circuit_scores import score_circuits
from gankit.design.circuits import CircuitModel
from gankit.design.library import CircuitLibrary, build_library
from gankit.errors import ConfigError
from gankit.kinds.base import GameKind, PlayerOptimizer, Setup, per_player_optimizers
from gankit.metrics.evaluate import FeatureOptions

__all__ = ["CircuitsKind", "circuit_model", "circuit_scores", "propose_circuits", "restore_library"]

EVAL_DRAWS = 500  # proposals scored at each evaluation


def circuit_model(config: CircuitsConfig) -> CircuitModel:
    """The simulator a config's `circuits` section describes."""
    return CircuitModel(alpha=config.circuits.alpha, hill=config.circuits.hill)


def restore_library(config: CircuitsConfig) -> CircuitLibrary:
    """The run's library (simulated again: deterministic by seed); ConfigError when it is too small to learn."""
    section = config.circuits
    try:
        return build_library(circuit_model(config), section.genes, section.behaviour, draws=section.draws,
                             held_out=section.held_out, seed=config.seed)
    except ValueError as error:
        raise ConfigError(str(error)) from None


class CircuitsKind(GameKind):
    name = "circuits"
    averaged_player = GENERATOR
    unrolled_roles = (GENERATOR, CRITIC)

    def build(self, config: CircuitsConfig, device: torch.device) -> Setup:
        library = restore_library(config)
        players = {name: module.to(device) for name, module in self.restore(config, {}).items()}
        game = CircuitGame(players[GENERATOR], players[CRITIC], config.circuits.loss,
                           config.circuits.gradient_penalty)
        batches = InfiniteBatches({CIRCUITS: one_hot(library.training)}, config.train.batch_size, seed=config.seed,
                                  device=device)
        meta = {"training_circuits": len(library.training), "training_classes": library.training_classes,
                "held_out_classes": len(library.held_out), "valid_candidates": library.candidates}
        return Setup(game, batches, library, meta)

    def double_backward(self, config: CircuitsConfig) -> list[str]:
        return ["circuits.gradient_penalty"] if config.circuits.gradient_penalty else []

    def optimizer_settings(self, config: CircuitsConfig) -> dict[str, PlayerOptimizer]:
        return per_player_optimizers(config)

    def evaluator(
        self, config: CircuitsConfig, setup: Setup, drawn: dict[str, nn.Module]
    ) -> Callable[[int], dict[str, float]]:
        return lambda step: circuit_scores(config, drawn, setup.data)

    def restore(self, config: CircuitsConfig, meta: dict[str, Any]) -> dict[str, nn.Module]:
        section = config.circuits
        return {CRITIC: CircuitCritic(section.width, section.layers),
                GENERATOR: CircuitGenerator(section.genes, section.latent_dim, section.width, section.temperature,
                                            section.hard)}

    def evaluate(
        self, config: CircuitsConfig, players: dict[str, nn.Module], meta: dict[str, Any], metrics: Collection[str], *,
        n: int, seed: int, features: FeatureOptions,
    ) -> dict[str, float]:
        return circuit_scores(config, players, restore_library(config), draws=n, seed=seed)


def propose_circuits(generator: CircuitGenerator, n: int, seed: int) -> torch.Tensor:
    """(n, genes, genes) int8 on the CPU: circuits drawn from the generator's categoricals (the Gumbel-max draw
    of each entry; z and the noise from `seed`)."""
    device = next(generator.parameters()).device
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, generator.latent_dim, generator=g).to(device)
    with torch.no_grad():  # the generator has no layers whose mode matters
        logits = generator.logits(z).cpu()
    gumbel = -torch.log(-torch.log(torch.rand(logits.shape, generator=g).clamp(1e-20, 1 - 1e-7)))
    return ((logits + gumbel).argmax(-1) - 1).to(torch.int8)


def circuit_scores(config: CircuitsConfig, players: dict[str, nn.Module], library: CircuitLibrary, *,
                   draws: int = EVAL_DRAWS, seed: int | None = None) -> dict[str, float]:
    """Validity, uniqueness, novelty and the share of novel proposals that work, of `draws` proposals."""
    circuits = propose_circuits(players[GENERATOR], draws, config.seed if seed is None else seed)
    scores = score_circuits(circuit_model(config), library, circuits, "gankit").scores
    return {"valid": scores.valid, "unique": scores.unique, "novel": scores.novel,
            "novel_working": scores.novel_working, "new_classes": float(scores.new_classes)}
