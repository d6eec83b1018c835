"""The graph GAN of gene circuits: a generator of signed adjacencies against a message-passing critic.

A circuit of n genes is an n × n signed adjacency (gankit.design.circuits); the players see it one-hot per entry,
(B, n, n, 3) with the categories (repression, none, activation) in that order. The generator maps z to a
categorical per entry and draws from it with the Gumbel-softmax relaxation (MolGAN's choice, De Cao & Kipf 2018),
straight-through by default: the critic sees discrete circuits, the generator gets the relaxed gradient. The
critic is a graph neural network: node states start from each gene's self-loop category; each layer sums what a
gene receives over activations and over repressions, and what it sends, and updates the state with an MLP; sum
and max over genes give the circuit's score. Message passing sees no gene order, so the critic scores every
relabelling of a circuit alike (tested).
"""

from __future__ import annotations

from collections.abc import Collection

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gankit import losses
from gankit.distributed import per_sample
from gankit.game import Game, GameOutput
from gankit.penalties import gradient_penalty

__all__ = ["CIRCUITS", "CRITIC", "GENERATOR", "CircuitCritic", "CircuitGame", "CircuitGenerator", "one_hot",
           "signed"]

CRITIC, GENERATOR = "critic", "generator"
CIRCUITS = "circuits"  # a batch's tensor: (B, n, n, 3) one-hot training circuits
CATEGORIES = 3  # repression, none, activation


def one_hot(weights: Tensor) -> Tensor:
    """(..., n, n) signed adjacency (−1, 0, +1) ↦ (..., n, n, 3) float one-hot."""
    return F.one_hot(weights.long() + 1, CATEGORIES).float()


def signed(edges: Tensor) -> Tensor:
    """(..., n, n, 3) one-hot or probabilities ↦ (..., n, n) int8 signed adjacency (the likeliest category)."""
    return (edges.argmax(-1) - 1).to(torch.int8)


class CircuitGenerator(nn.Module):
    """z ↦ per-entry logits (B, n, n, 3), an MLP of two hidden layers; `forward` draws one-hot circuits."""

    def __init__(self, genes: int, latent_dim: int, width: int, temperature: float = 1.0, hard: bool = True) -> None:
        super().__init__()
        self.genes, self.latent_dim, self.temperature, self.hard = genes, latent_dim, temperature, hard
        self.net = nn.Sequential(nn.Linear(latent_dim, width), nn.LeakyReLU(0.2), nn.Linear(width, width),
                                 nn.LeakyReLU(0.2), nn.Linear(width, genes * genes * CATEGORIES))

    def logits(self, z: Tensor) -> Tensor:
        return self.net(z).view(-1, self.genes, self.genes, CATEGORIES)

    def forward(self, z: Tensor) -> Tensor:
        """(B, n, n, 3): a Gumbel-softmax draw per entry (one-hot with the relaxed gradient when `hard`)."""
        return F.gumbel_softmax(self.logits(z), tau=self.temperature, hard=self.hard, dim=-1)


class CircuitCritic(nn.Module):
    """(B, n, n, 3) circuits ↦ (B,) logits, by `layers` rounds of message passing over signed edges."""

    def __init__(self, width: int, layers: int = 3) -> None:
        super().__init__()
        self.embed = nn.Linear(CATEGORIES, width)  # a gene's self-loop category
        # per round: the state, then received and sent sums over activations and over repressions
        self.rounds = nn.ModuleList(
            nn.Sequential(nn.Linear(5 * width, width), nn.LeakyReLU(0.2), nn.Linear(width, width))
            for _ in range(layers))
        self.readout = nn.Sequential(nn.Linear(2 * width, width), nn.LeakyReLU(0.2), nn.Linear(width, 1))

    def forward(self, edges: Tensor) -> Tensor:
        state = self.embed(torch.diagonal(edges, dim1=1, dim2=2).transpose(1, 2))  # (B, n, width)
        repress, activate = edges[..., 0], edges[..., 2]  # (B, n, n): [i, j] weighs the edge j → i
        for update in self.rounds:
            received = [adjacency @ state for adjacency in (activate, repress)]
            sent = [adjacency.transpose(1, 2) @ state for adjacency in (activate, repress)]
            state = state + update(torch.cat([state, *received, *sent], dim=-1))
        pooled = torch.cat([state.sum(1), state.amax(1)], dim=-1)
        return self.readout(pooled).squeeze(-1)


class CircuitGame(Game):
    """Critic vs generator of circuits under a named objective (gankit.losses), with the WGAN-GP penalty on the
    one-hot circuits at `gradient_penalty` weight (MolGAN's choice; 0: none); a batch is {"circuits": (B, n, n, 3)}.
    """

    def __init__(self, generator: CircuitGenerator, critic: CircuitCritic, loss: str = "wasserstein",
                 gradient_penalty: float = 10.0) -> None:
        self.generator, self.critic = generator, critic
        self.players = {CRITIC: critic, GENERATOR: generator}
        self.loss, self.gradient_penalty = losses.get(loss), gradient_penalty

    def losses(self, batch: dict[str, Tensor], *, players: Collection[str], step: int) -> GameOutput:
        real = batch[CIRCUITS]
        z = per_sample(lambda n: torch.randn(n, self.generator.latent_dim, device=real.device), real.shape[0])
        out = GameOutput(losses={})
        with torch.set_grad_enabled(GENERATOR in players):
            fake = self.generator(z)
        if GENERATOR in players:
            loss_g = self.loss.generator(fake_logits=self.critic(fake))
            out.stats["loss_g"] = loss_g.detach()
            out.losses[GENERATOR] = loss_g
        if CRITIC in players:
            loss_d = self.loss.discriminator(real_logits=self.critic(real), fake_logits=self.critic(fake.detach()))
            out.stats["loss_d"] = loss_d.detach()
            if self.gradient_penalty:
                penalty = gradient_penalty(self.critic, real, fake)
                out.stats["gradient_penalty"] = penalty.detach()
                loss_d = loss_d + self.gradient_penalty * penalty
            out.losses[CRITIC] = loss_d
        return out
