"""The spatial GAN's game: a fully convolutional generator of fields against a fully convolutional critic.

A batch is {"fields": (B, 1, *spatial) in {−1, +1}, "porosity": (B,)}; the generator draws from latent fields of
the batch's size divided by its stride, conditioned (when it is conditional) on the batch's porosities, so the
critic judges real and generated fields of the same porosities. Objective by name (gankit.losses) with the
WGAN-GP penalty or R1 on the critic.
"""

from __future__ import annotations

from collections.abc import Collection

import torch
from torch import Tensor

from gankit import losses
from gankit.distributed import per_sample
from gankit.fields.spatial import SpatialCritic, SpatialGenerator
from gankit.game import Game, GameOutput
from gankit.penalties import gradient_penalty, r1_penalty

__all__ = ["CRITIC", "FIELDS", "GENERATOR", "POROSITY", "FieldGame", "draw_latent"]

CRITIC, GENERATOR = "critic", "generator"
FIELDS, POROSITY = "fields", "porosity"  # a batch's tensors


def draw_latent(generator: SpatialGenerator, n: int, size: int | tuple[int, ...], *, device: torch.device | str,
                random: torch.Generator | None = None) -> Tensor:
    """(n, latent_channels, *latent size) standard normal latent fields for fields of `size` cells per axis."""
    shape = (n, *generator.latent_shape(size))
    return torch.randn(shape, generator=random).to(device)


class FieldGame(Game):
    """Critic vs spatial generator under a named objective; `gradient_penalty` weighs WGAN-GP, `r1_gamma` R1 (γ/2)."""

    def __init__(self, generator: SpatialGenerator, critic: SpatialCritic, loss: str = "nonsaturating", *,
                 gradient_penalty: float = 0.0, r1_gamma: float = 0.0) -> None:
        self.generator, self.critic = generator, critic
        self.players = {CRITIC: critic, GENERATOR: generator}
        self.loss, self.gradient_penalty, self.r1_gamma = losses.get(loss), gradient_penalty, r1_gamma

    def losses(self, batch: dict[str, Tensor], *, players: Collection[str], step: int) -> GameOutput:
        real, condition = batch[FIELDS], batch[POROSITY]
        shape = (self.generator.latent_channels, *(s // self.generator.stride for s in real.shape[2:]))
        z = per_sample(lambda n: torch.randn((n, *shape), device=real.device), real.shape[0])
        out = GameOutput(losses={})
        with torch.set_grad_enabled(GENERATOR in players):
            fake = self.generator(z, condition)
        if GENERATOR in players:
            loss_g = self.loss.generator(fake_logits=self.critic(fake, condition))
            out.stats["loss_g"] = loss_g.detach()
            out.losses[GENERATOR] = loss_g
        if CRITIC in players:
            loss_d = self.loss.discriminator(real_logits=self.critic(real, condition),
                                             fake_logits=self.critic(fake.detach(), condition))
            out.stats["loss_d"] = loss_d.detach()
            critic = lambda x: self.critic(x, condition)  # noqa: E731
            if self.gradient_penalty:
                penalty = gradient_penalty(critic, real, fake)
                out.stats["gradient_penalty"] = penalty.detach()
                loss_d = loss_d + self.gradient_penalty * penalty
            if self.r1_gamma:
                penalty = r1_penalty(critic, real)
                out.stats["r1"] = penalty.detach()
                loss_d = loss_d + 0.5 * self.r1_gamma * penalty
            out.losses[CRITIC] = loss_d
        return out
