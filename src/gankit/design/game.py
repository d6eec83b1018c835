"""The physics-informed conditional design game: a generator of textures for a target friction against a data
critic that knows what the process makes, with the physics in the generator's loss.

G(z, μ*) proposes a texture u (coordinates of gankit.design.space, tanh-bounded to the manufacturable box). The
critic is conditional: it scores (catalogue texture, its own friction) against (proposal, its target), so a
proposal for μ* should look like what the process makes *at that friction* (non-saturating GAN loss); a batch is
feasible catalogue textures with their friction, and those frictions are the generator's targets. The generator
also pays `physics_weight` times the physics term of gankit.design.physics (the miss of the friction the contact
model gives, read and normed as configured) and `feasibility_weight` · Σ relu(−margin) over the feasibility
constraints.
"""

from __future__ import annotations

from collections.abc import Collection

import torch
from torch import Tensor, nn

from gankit import losses
from gankit.design.physics import PhysicsTerm
from gankit.design.space import DesignSpace
from gankit.distributed import per_sample
from gankit.game import Game, GameOutput

__all__ = ["CRITIC", "DESIGNS", "FRICTION", "GENERATOR", "DesignCritic", "DesignGenerator", "FrictionDesignGame",
           "friction_condition"]

CRITIC, GENERATOR = "critic", "generator"
DESIGNS, FRICTION = "designs", "friction"  # a batch's tensors


def friction_condition(mu: Tensor, reachable: tuple[float, float]) -> Tensor:
    """The generator's and critic's condition for friction mu: the reachable range mapped onto [−1, 1]."""
    low, high = reachable
    return 2 * (mu - low) / (high - low) - 1


def _mlp(inputs: int, width: int, outputs: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(inputs, width), nn.LeakyReLU(0.2), nn.Linear(width, width), nn.LeakyReLU(0.2),
                         nn.Linear(width, width), nn.LeakyReLU(0.2), nn.Linear(width, outputs))


class DesignGenerator(nn.Module):
    """(z, target in [−1, 1]) ↦ design coordinates u in (−1, 1)²: an MLP of three hidden layers, tanh output."""

    def __init__(self, latent_dim: int, width: int) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.net = _mlp(latent_dim + 1, width, 2)

    def forward(self, z: Tensor, target: Tensor) -> Tensor:
        return torch.tanh(self.net(torch.cat([z, target.unsqueeze(-1)], dim=-1)))


class DesignCritic(nn.Module):
    """(design coordinates u, friction condition in [−1, 1]) ↦ a logit (higher: more like the catalogue)."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.net = _mlp(3, width, 1)

    def forward(self, u: Tensor, condition: Tensor) -> Tensor:
        return self.net(torch.cat([u, condition.unsqueeze(-1)], dim=-1)).squeeze(-1)


class FrictionDesignGame(Game):
    """Critic vs conditional generator of textures; a batch is {"designs": (B, 2) catalogue coordinates,
    "friction": (B,) their friction}."""

    def __init__(self, generator: DesignGenerator, critic: DesignCritic, space: DesignSpace,
                 reachable: tuple[float, float], *, physics_weight: float, feasibility_weight: float,
                 adversarial_weight: float = 1.0, physics: PhysicsTerm | None = None) -> None:
        self.generator, self.critic = generator, critic
        self.players = {CRITIC: critic, GENERATOR: generator}
        self.space, self.reachable = space, reachable
        self.physics_weight, self.feasibility_weight = physics_weight, feasibility_weight
        self.adversarial_weight = adversarial_weight
        self.physics = PhysicsTerm(space, reachable) if physics is None else physics
        self.loss = losses.get("nonsaturating")

    def propose(self, z: Tensor, mu: Tensor) -> Tensor:
        """Design coordinates for latents z (N, latent_dim) and target frictions mu (N,)."""
        return self.generator(z, friction_condition(mu, self.reachable))

    def losses(self, batch: dict[str, Tensor], *, players: Collection[str], step: int) -> GameOutput:
        real, mu_target = batch[DESIGNS], batch[FRICTION]
        low, high = self.reachable
        z = per_sample(lambda n: torch.randn(n, self.generator.latent_dim, device=real.device), real.shape[0])
        condition = friction_condition(mu_target, self.reachable)
        out = GameOutput(losses={})
        with torch.set_grad_enabled(GENERATOR in players):
            fake = self.generator(z, condition)
        if GENERATOR in players:
            adversarial = self.loss.generator(fake_logits=self.critic(fake, condition))
            # the physics also at targets drawn uniformly over the reachable range: the catalogue holds few
            # textures at some frictions (near full contact), where its targets alone would leave G untrained
            uniform = per_sample(lambda n: low + (high - low) * torch.rand(n, device=real.device), real.shape[0])
            z_uniform = per_sample(lambda n: torch.randn(n, self.generator.latent_dim, device=real.device),
                                   real.shape[0])
            designs = torch.cat([fake, self.propose(z_uniform, uniform)])
            amplitude, wavelength = self.space.to_designs(designs)
            targets = torch.cat([mu_target, uniform])
            physics = self.physics.penalty(amplitude, wavelength, targets).mean()
            feasibility = self.physics.hinge(amplitude, wavelength).mean()
            friction_miss = (self.space.model.friction(amplitude, wavelength) - targets).abs().mean()
            out.stats |= {"loss_g": adversarial.detach(), "physics": physics.detach(),
                          "feasibility": feasibility.detach(), "miss_abs": friction_miss.detach()}
            out.losses[GENERATOR] = (self.adversarial_weight * adversarial + self.physics_weight * physics
                                     + self.feasibility_weight * feasibility)
        if CRITIC in players:
            loss_d = self.loss.discriminator(real_logits=self.critic(real, condition),
                                             fake_logits=self.critic(fake.detach(), condition))
            out.stats["loss_d"] = loss_d.detach()
            out.losses[CRITIC] = loss_d
        return out
