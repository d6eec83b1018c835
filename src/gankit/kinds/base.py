"""What a game kind supplies to a run: players and game, per-player settings, batches, preview, evaluation, restore.

A kind is the only place that knows which players a game has and what they mean. The experiment
builder, the trainer, the run directory, checkpoints, resume, alarms and the report work from what
a kind returns here and never ask which kind it is.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import Tensor, nn
from torch.optim import Optimizer

from gankit.config import RunConfig
from gankit.data import Mixture
from gankit.errors import ConfigError
from gankit.game import Game, GANGame
from gankit.metrics.evaluate import FeatureOptions
from gankit.sampling import eval_forward

__all__ = ["GameKind", "PlayerOptimizer", "Preview", "Setup", "critic_outputs", "penalty_keys"]


@dataclass(frozen=True)
class PlayerOptimizer:
    """One player's optimizer settings: learning rate and Adam's betas (ignored by SGD and RMSprop)."""

    lr: float
    betas: tuple[float, float] = (0.5, 0.999)


@dataclass
class Setup:
    """What a kind built for one run: the game, its batches, the kind's own data, and checkpoint metadata.

    `meta` is what a checkpoint records so that :meth:`GameKind.restore` can rebuild the players
    without loading the data again.
    """

    game: Game
    batches: Iterator[Any]
    data: Any = None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class Preview:
    """What a run draws at fixed inputs: sample grids, the diagnostics' diversity and TensorBoard images.

    `draw` returns the fixed samples (eval mode, the training random stream untouched), `save` writes
    them to a file; `real_batch` is a fixed real batch for the diversity ratio; `critic_outputs`
    returns the critic's scores on a fixed real batch and on the fixed samples (histograms).
    """

    draw: Callable[[], Tensor]
    save: Callable[[Tensor, Path], None]
    real_batch: Tensor
    critic_outputs: Callable[[], tuple[Tensor, Tensor]] | None = None
    mixture: Mixture | None = None
    columns: int | None = None


def per_player_optimizers(config: Any) -> dict[str, PlayerOptimizer]:
    """Adam settings of every player of a config whose `optim.lr` names each player's learning rate."""
    betas = (config.optim.beta1, config.optim.beta2)
    return {player: PlayerOptimizer(config.optim.lr[player], betas) for player in config.PLAYERS}


def penalty_keys(loss: Any) -> list[str]:
    """The critic penalties a loss section turns on that differentiate twice (train.compile cannot run them)."""
    return [key for key, on in (("loss.gp_weight", loss.gp_weight > 0), ("loss.r1_gamma", loss.r1_gamma > 0)) if on]


def critic_outputs(
    game: GANGame, real: Tensor, real_context: object, generator_inputs: list[Tensor], fake_context: object
) -> Callable[[], tuple[Tensor, Tensor]]:
    """The critic's scores (eval mode, BatchNorm statistics untouched) on a fixed real batch and on the
    generator's outputs for fixed inputs: a preview's `critic_outputs`."""

    def outputs() -> tuple[Tensor, Tensor]:
        fake = eval_forward(game.generator, *generator_inputs)
        was_training = game.discriminator.training
        game.discriminator.eval()
        with torch.no_grad():
            logits = game.discriminate(real, real_context)[0], game.discriminate(fake, fake_context)[0]
        game.discriminator.train(was_training)
        return logits

    return outputs


class GameKind(ABC):
    """One kind of game a run can play (`game: NAME` in the config). Subclass it and register it in kinds/."""

    name: ClassVar[str]
    #: whether evaluate() honours FeatureOptions (--inception-weights, --quantize); other kinds refuse them
    takes_feature_options: ClassVar[bool] = False
    #: the player whose weights `train.ema_decay` averages (and whose average is restored); None: no EMA
    averaged_player: ClassVar[str | None] = None
    #: (leader, follower) for unrolled dynamics; None: unrolled dynamics are refused
    unrolled_roles: ClassVar[tuple[str, str] | None] = None

    @abstractmethod
    def build(self, config: RunConfig, device: torch.device) -> Setup:
        """Load or draw the data, build the players on `device`, the game and its batches."""

    @abstractmethod
    def optimizer_settings(self, config: RunConfig) -> dict[str, PlayerOptimizer]:
        """Each player's optimizer settings, keyed by player name (every player of the game)."""

    def dynamics_steps(self, config: RunConfig) -> dict[str, int]:
        """Updates per step of each player under alternating dynamics (players not named: 1)."""
        return dict(config.dynamics.steps)

    def check(self, config: RunConfig) -> None:
        """Refuse, with one ConfigError, what this kind cannot do with an otherwise valid config."""
        if config.train.ema_decay is not None and self.averaged_player is None:
            raise ConfigError(f"train.ema_decay averages a generator's weights; the {self.name} kind has none, remove it")
        if config.dynamics.name == "unrolled" and self.unrolled_roles is None:
            raise ConfigError(f"dynamics.name unrolled needs a leader and a follower; the {self.name} kind has no such "
                              "pair, choose another rule")

    def double_backward(self, config: RunConfig) -> list[str]:
        """The config keys whose losses differentiate twice (train.compile cannot); default: none."""
        return []

    def wrap_optimizers(
        self, config: RunConfig, setup: Setup, optimizers: dict[str, Optimizer], device: torch.device
    ) -> dict[str, Optimizer]:
        """Wrap optimizers as the kind's config asks (a trust region on one player); default: unchanged."""
        return optimizers

    def preview(self, config: RunConfig, setup: Setup, drawn: dict[str, nn.Module]) -> Preview | None:
        """Fixed-input samples from the players `drawn` (the averaged player's EMA copy where kept); None: the
        kind draws no samples (no grids, sample diagnostics or TensorBoard images)."""
        return None

    def evaluator(
        self, config: RunConfig, setup: Setup, drawn: dict[str, nn.Module]
    ) -> Callable[[int], dict[str, float]] | None:
        """Scores `{protocol: value}` of the players at a training step (train.eval_every); None: no evaluation."""
        return None

    @abstractmethod
    def restore(self, config: RunConfig, meta: dict[str, Any]) -> dict[str, nn.Module]:
        """Fresh players (CPU, untrained) shaped as those a checkpoint with `meta` holds."""

    def sample(
        self, config: RunConfig, players: dict[str, nn.Module], meta: dict[str, Any], n: int, *, seed: int,
        conditions: Tensor | None,
    ) -> tuple[Tensor, int | None, Callable[[Tensor, Path, int | None], None]]:
        """(`n` samples of a restored run, grid columns, a writer of a .png picture of them)."""
        raise ConfigError(f"a {self.name} run draws no samples; gankit sample works on runs whose game has a generator")

    def sample_fields(
        self, config: RunConfig, players: dict[str, nn.Module], meta: dict[str, Any], n: int, *, seed: int,
        size: int | None = None, porosity: float | None = None, hard: Any = None,
    ) -> tuple[Tensor, int | None, Callable[[Tensor, Path, int | None], None]]:
        """`n` fields of `size` cells per axis (default: the training size), conditioned on a `porosity` target and
        on `hard` data (gankit.fields.conditioning.HardData): gankit sample --size/--porosity/--points."""
        raise ConfigError(f"--size, --porosity and --points draw fields from a fields run (game: fields); this is a "
                          f"{self.name} run")

    def translate(
        self, config: RunConfig, players: dict[str, nn.Module], meta: dict[str, Any], images: Tensor, *,
        reverse: bool = False,
    ) -> Tensor:
        """A restored run's generator applied to (N, C, H, W) images in [-1, 1] (gankit apply); `reverse`: the
        generator of the other direction, for kinds that translate both ways."""
        raise ConfigError(f"gankit apply runs an image-to-image generator on images; a {self.name} run has none "
                          "(gankit sample draws from a gan run)")

    def evaluate(
        self, config: RunConfig, players: dict[str, nn.Module], meta: dict[str, Any], metrics: Collection[str], *,
        n: int, seed: int, features: FeatureOptions,
    ) -> dict[str, float]:
        """Scores `{protocol: value}` of a restored run's players."""
        raise ConfigError(f"a {self.name} run has no evaluation protocols for gankit eval")
