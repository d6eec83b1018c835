"""The `design` kind: a physics-informed conditional GAN of surface textures for a target friction
(gankit.design; docs/design.md). The critic learns the process model's catalogue; the contact model sits in the
generator's loss. A run is judged by `design_scores` at targets spread over the reachable range."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from gankit.config import DesignConfig
from gankit.data.loader import InfiniteBatches
from gankit.design.evaluate import score_designs, spread_targets
from gankit.design.game import (
    CRITIC, DESIGNS, FRICTION, GENERATOR, DesignCritic, DesignGenerator, FrictionDesignGame, friction_condition,
)
from gankit.design.physics import PhysicsTerm
from gankit.design.space import DesignSpace, catalogue, contact_model
from gankit.errors import ConfigError
from gankit.kinds.base import GameKind, PlayerOptimizer, Setup, per_player_optimizers
from gankit.metrics.evaluate import FeatureOptions
from gankit.sampling import eval_forward

__all__ = ["DesignKind", "DesignPrior", "design_scores", "feasible_catalogue", "physics_term", "propose",
           "restore_design"]

EVAL_TARGETS = 10  # targets spread over the reachable range
EVAL_DRAWS = 500  # proposals per target
BALANCE_BINS = 20  # friction bins of design.balance


@dataclass(frozen=True)
class DesignPrior:
    """What a design run knows besides its players: the design space and the reachable friction range."""

    space: DesignSpace
    reachable: tuple[float, float]


def restore_design(config: DesignConfig) -> DesignPrior:
    """The design space of a config and its reachable range; ConfigError when no texture is feasible."""
    space = DesignSpace(contact_model(config.contact), config.design.chart)
    try:
        return DesignPrior(space, space.reachable())
    except ValueError as error:
        raise ConfigError(f"{error}: raise contact.hardness, lower contact.pressure or widen the bounds") from None


class DesignKind(GameKind):
    name = "design"
    averaged_player = GENERATOR
    unrolled_roles = (GENERATOR, CRITIC)

    def build(self, config: DesignConfig, device: torch.device) -> Setup:
        prior = restore_design(config)
        players = {name: module.to(device) for name, module in self.restore(config, {}).items()}
        game = FrictionDesignGame(players[GENERATOR], players[CRITIC], prior.space, prior.reachable,
                                  physics_weight=config.design.physics_weight,
                                  feasibility_weight=config.design.feasibility_weight,
                                  adversarial_weight=config.design.adversarial_weight,
                                  physics=physics_term(config, prior))
        textures = feasible_catalogue(prior, config.design.catalogue, config.seed, config.design.balance)
        if config.train.batch_size > len(textures[DESIGNS]):
            raise ConfigError(f"train.batch_size {config.train.batch_size} exceeds the catalogue's "
                              f"{len(textures[DESIGNS])} feasible textures (design.catalogue); lower it")
        batches = InfiniteBatches(textures, config.train.batch_size, seed=config.seed, device=device)
        return Setup(game, batches, prior, {"reachable": list(prior.reachable)})

    def optimizer_settings(self, config: DesignConfig) -> dict[str, PlayerOptimizer]:
        return per_player_optimizers(config)

    def evaluator(
        self, config: DesignConfig, setup: Setup, drawn: dict[str, nn.Module]
    ) -> Callable[[int], dict[str, float]]:
        return lambda step: design_scores(config, drawn, setup.data)

    def restore(self, config: DesignConfig, meta: dict[str, Any]) -> dict[str, nn.Module]:
        design = config.design
        return {CRITIC: DesignCritic(design.width), GENERATOR: DesignGenerator(design.latent_dim, design.width)}

    def evaluate(
        self, config: DesignConfig, players: dict[str, nn.Module], meta: dict[str, Any], metrics: Collection[str], *,
        n: int, seed: int, features: FeatureOptions,
    ) -> dict[str, float]:
        return design_scores(config, players, restore_design(config), draws=n, seed=seed)


def physics_term(config: DesignConfig, prior: DesignPrior) -> PhysicsTerm:
    """The physics term a config's generator pays (design.physics_miss, design.physics_norm)."""
    return PhysicsTerm(prior.space, prior.reachable, config.design.physics_miss, config.design.physics_norm)


def feasible_catalogue(prior: DesignPrior, n: int, seed: int, balance: bool = False) -> dict[str, torch.Tensor]:
    """{DESIGNS: coordinates, FRICTION: friction} of the catalogue's textures that are feasible under the load and
    in partial contact (of `n` drawn). Full contact is left out: there the friction is τ/p̄ whatever the texture,
    so those textures (a quarter of the catalogue with the defaults) would teach the critic that any small aspect
    suits frictions near τ/p̄, against the physics one step below it. With `balance`, as many rows resampled
    (with replacement, seeded) with weights ∝ 1 / the share of the catalogue in their friction bin (BALANCE_BINS
    over the reachable range), so every friction is as common in the critic's data and in G's targets: the
    process makes few textures near full contact."""
    textures = catalogue(prior.space, n, seed)
    amplitude, wavelength = prior.space.to_designs(textures.double())
    model = prior.space.model
    kept = model.feasible(amplitude, wavelength) & (model.contact_fraction(amplitude, wavelength) < 1)
    friction = model.friction(amplitude, wavelength)[kept]
    textures = textures[kept]
    if balance:
        low, high = prior.reachable
        bins = ((friction - low) / (high - low) * BALANCE_BINS).long().clamp(0, BALANCE_BINS - 1)
        counts = torch.bincount(bins, minlength=BALANCE_BINS).double()
        rows = torch.multinomial(1 / counts[bins], len(bins), replacement=True,
                                 generator=torch.Generator().manual_seed(seed + 1))
        textures, friction = textures[rows], friction[rows]
    return {DESIGNS: textures, FRICTION: friction.float()}


def propose(generator: nn.Module, prior: DesignPrior, target: float, n: int, seed: int) -> tuple[torch.Tensor, ...]:
    """(A, λ), each (n,) float64 on the CPU: the generator's proposals for friction `target` (eval mode, z drawn
    from `seed`)."""
    device = next(generator.parameters()).device
    z = torch.randn(n, generator.latent_dim, generator=torch.Generator().manual_seed(seed)).to(device)
    condition = friction_condition(torch.full((n,), target, device=device), prior.reachable)
    return prior.space.to_designs(eval_forward(generator, z, condition).double().cpu())


def design_scores(config: DesignConfig, players: dict[str, nn.Module], prior: DesignPrior, *,
                  draws: int = EVAL_DRAWS, seed: int | None = None) -> dict[str, float]:
    """Mean hit rate, feasibility and coverage over EVAL_TARGETS targets spread over the reachable range, and the
    worst target's hit rate (protocol names end in _t10)."""
    seed = config.seed if seed is None else seed
    scores = []
    for i, target in enumerate(spread_targets(prior.reachable, EVAL_TARGETS)):
        amplitude, wavelength = propose(players[GENERATOR], prior, target, draws, seed + i)
        scores.append(score_designs(prior.space, amplitude, wavelength, target, config.design.tolerance)[0])
    mean = lambda key: sum(getattr(s, key) for s in scores) / len(scores)
    suffix = f"t{EVAL_TARGETS}"
    return {f"hit_rate_{suffix}": mean("hit_rate"), f"hit_rate_min_{suffix}": min(s.hit_rate for s in scores),
            f"feasible_{suffix}": mean("feasible"), f"coverage_{suffix}": mean("coverage")}
