"""Games: players with parameters and a loss each. No optimizer, no loop.

A :class:`Game` names its players (ordered: in alternating dynamics the first
moves first) and returns each requested player's loss for a batch. The
dynamics decide which players to ask for and how to move them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from gankit.losses import GANLoss
from gankit.penalties import clip_weights_, gradient_penalty, r1_penalty

__all__ = ["Game", "GameOutput", "GANGame"]


@dataclass
class GameOutput:
    """Per-player losses (with graph) and detached scalar statistics for logging."""

    losses: dict[str, Tensor]
    stats: dict[str, Tensor] = field(default_factory=dict)


class Game(ABC):
    """A differentiable game between named players."""

    players: dict[str, nn.Module]

    @abstractmethod
    def losses(self, batch: object, *, players: Collection[str], step: int) -> GameOutput:
        """Each requested player's loss (the value it minimizes) on `batch` at training step `step`."""

    def parameters(self, player: str) -> list[nn.Parameter]:
        """The trainable parameters one player controls."""
        return [p for p in self.players[player].parameters() if p.requires_grad]

    def project(self, player: str) -> None:
        """Enforce a player's constraint after its update (e.g. weight clipping); default: none."""


class GANGame(Game):
    """Generator vs discriminator under one objective, with optional regularizers of D.

    Regularizers: WGAN-GP weight `gp_weight`; R1 with weight `r1_gamma` (entering
    as γ/2·R1), applied every `r1_every` steps and scaled by it (lazy R1);
    weight clipping to `clip_value`; one-sided label smoothing via `real_target`.
    """

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        loss: GANLoss,
        latent_dim: int,
        *,
        gp_weight: float = 0.0,
        r1_gamma: float = 0.0,
        r1_every: int = 1,
        clip_value: float | None = None,
        real_target: float = 1.0,
    ) -> None:
        self.generator = generator
        self.discriminator = discriminator
        self.players = {"discriminator": discriminator, "generator": generator}
        self.loss = loss
        self.latent_dim = latent_dim
        self.gp_weight = gp_weight
        self.r1_gamma = r1_gamma
        self.r1_every = r1_every
        self.clip_value = clip_value
        self.real_target = real_target

    def sample_latent(self, n: int) -> Tensor:
        """z ~ N(0, I) on the generator's device, drawn from torch's global RNG."""
        device = next(self.generator.parameters()).device
        return torch.randn(n, self.latent_dim, device=device)

    def losses(self, batch: Tensor, *, players: Collection[str], step: int) -> GameOutput:
        real = batch
        z = self.sample_latent(real.shape[0])
        wants_g = "generator" in players
        with torch.set_grad_enabled(wants_g):
            fake = self.generator(z)
        out = GameOutput(losses={})
        fake_logits = None
        if wants_g:
            fake_logits = self.discriminator(fake)
            out.losses["generator"] = self.loss.generator(fake_logits=fake_logits)
            out.stats["loss_g"] = out.losses["generator"].detach()
        if "discriminator" in players:
            # D's gradient never needs G's graph: with G also moving, reuse D(fake) (same forward).
            d_fake_logits = fake_logits if fake_logits is not None else self.discriminator(fake.detach())
            real_logits = self.discriminator(real)
            loss_d = self.loss.discriminator(
                real_logits=real_logits, fake_logits=d_fake_logits, real_target=self.real_target
            )
            out.stats["loss_d"] = loss_d.detach()
            loss_d = loss_d + self._penalties(real, fake.detach(), step, out.stats)
            out.losses["discriminator"] = loss_d
            out.stats["d_real"] = real_logits.detach().mean()
            out.stats["d_fake"] = d_fake_logits.detach().mean()
        return out

    def _penalties(self, real: Tensor, fake: Tensor, step: int, stats: dict[str, Tensor]) -> Tensor | float:
        total: Tensor | float = 0.0
        if self.gp_weight > 0:
            gp = gradient_penalty(self.discriminator, real, fake)
            stats["gradient_penalty"] = gp.detach()
            total = total + self.gp_weight * gp
        if self.r1_gamma > 0 and step % self.r1_every == 0:
            r1 = r1_penalty(self.discriminator, real)
            stats["r1"] = r1.detach()
            total = total + 0.5 * self.r1_gamma * self.r1_every * r1
        return total

    def project(self, player: str) -> None:
        if player == "discriminator" and self.clip_value is not None:
            clip_weights_(self.discriminator, self.clip_value)
