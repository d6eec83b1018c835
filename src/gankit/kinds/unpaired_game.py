"""The unpaired kind's game: CycleGAN (Zhu et al. 2017) as four players, and the critics' history pools.

Translators G: A→B (`generator_ab`) and F: B→A (`generator_ba`) minimize one objective

    L = adv(D_B(G(a))) + adv(D_A(F(b))) + λ (‖F(G(a)) − a‖₁ + ‖G(F(b)) − b‖₁) + μ λ (‖G(b) − b‖₁ + ‖F(a) − a‖₁),

each moving its own parameters (the paper's one Adam over both, as two Adams with the same settings);
critics D_A (`discriminator_a`) and D_B (`discriminator_b`) tell their domain's real images from
translated ones drawn through a :class:`HistoryPool` (Shrivastava et al. 2017).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import torch
from torch import Tensor, nn

from gankit.game import Game, GameOutput
from gankit.losses import GANLoss

__all__ = ["CRITICS", "TRANSLATORS", "A", "B", "CycleGame", "HistoryPool"]

A, B = "a", "b"  # the names of an unpaired batch's tensors: one batch of each domain
TRANSLATORS = ("generator_ab", "generator_ba")
CRITICS = ("discriminator_a", "discriminator_b")


class HistoryPool:
    """Up to `size` generated images; a critic is shown a mix of this step's and earlier translations.

    :meth:`query` takes a batch and returns one of the same size: while the pool is not full, each
    image is stored and returned; then, with probability ½, an image is swapped for a random stored one
    (the stored one is returned, the new one kept), else returned as is. `size` 0 returns the batch.
    Draws come from the pool's own seeded generator, so a checkpoint continues it exactly.
    """

    def __init__(self, size: int, seed: int) -> None:
        self.size = size
        self.count = 0
        self.images: Tensor | None = None
        self._generator = torch.Generator().manual_seed(seed)

    def query(self, images: Tensor) -> Tensor:
        images = images.detach()
        if self.size == 0:
            return images
        if self.images is None:
            self.images = images.new_empty((self.size, *images.shape[1:]))
        shown = []
        for image in images:
            if self.count < self.size:
                self.images[self.count] = image
                self.count += 1
                shown.append(image)
            elif torch.rand((), generator=self._generator) < 0.5:
                slot = int(torch.randint(self.size, (), generator=self._generator))
                shown.append(self.images[slot].clone())
                self.images[slot] = image
            else:
                shown.append(image)
        return torch.stack(shown)

    def state_dict(self) -> dict[str, Any]:
        stored = self.images[: self.count] if self.images is not None else torch.empty(0)
        return {"count": self.count, "images": stored.clone(), "generator": self._generator.get_state()}

    def load_state_dict(self, state: Mapping[str, Any], device: torch.device) -> None:
        self.count = int(state["count"])
        self.images = None
        if self.count:
            stored = state["images"].to(device)
            self.images = stored.new_empty((self.size, *stored.shape[1:]))
            self.images[: self.count] = stored
        self._generator.set_state(state["generator"].cpu())


def _l1(x: Tensor, y: Tensor) -> Tensor:
    return (x - y).abs().mean()


class CycleGame(Game):
    """CycleGAN: two translators and two critics; see the module docstring for the objective."""

    def __init__(
        self, generator_ab: nn.Module, generator_ba: nn.Module, critic_a: nn.Module, critic_b: nn.Module,
        loss: GANLoss, *, cycle_weight: float = 10.0, identity_weight: float = 0.5, pool_size: int = 50,
        seed: int = 0,
    ) -> None:
        self.generator_ab, self.generator_ba = generator_ab, generator_ba
        self.critic_a, self.critic_b = critic_a, critic_b
        self.players = dict(zip((*TRANSLATORS, *CRITICS), (generator_ab, generator_ba, critic_a, critic_b), strict=True))
        self.loss = loss
        self.cycle_weight = cycle_weight
        self.identity_weight = identity_weight
        self.pools = {A: HistoryPool(pool_size, seed + 1), B: HistoryPool(pool_size, seed + 2)}

    def losses(self, batch: Mapping[str, Tensor], *, players: Collection[str], step: int) -> GameOutput:
        real_a, real_b = batch[A], batch[B]
        translators = any(p in players for p in TRANSLATORS)
        out = GameOutput(losses={})
        with torch.set_grad_enabled(translators):
            fake_b = self.generator_ab(real_a) if translators or CRITICS[1] in players else None
            fake_a = self.generator_ba(real_b) if translators or CRITICS[0] in players else None
        if translators:
            total = self._translator_loss(real_a, real_b, fake_a, fake_b, out.stats)
            out.losses.update({player: total for player in TRANSLATORS if player in players})
        for player, domain, critic, real, fake in (
            (CRITICS[0], A, self.critic_a, real_a, fake_a), (CRITICS[1], B, self.critic_b, real_b, fake_b),
        ):
            if player in players:
                real_logits, fake_logits = critic(real), critic(self.pools[domain].query(fake))
                loss = self.loss.discriminator(real_logits=real_logits, fake_logits=fake_logits)
                out.losses[player] = loss
                out.stats[f"loss_d_{domain}"] = loss.detach()
                out.stats[f"d_real_{domain}"] = real_logits.detach().mean()
                out.stats[f"d_fake_{domain}"] = fake_logits.detach().mean()
        return out

    def _translator_loss(
        self, real_a: Tensor, real_b: Tensor, fake_a: Tensor, fake_b: Tensor, stats: dict[str, Tensor]
    ) -> Tensor:
        adversarial = (self.loss.generator(fake_logits=self.critic_b(fake_b))
                       + self.loss.generator(fake_logits=self.critic_a(fake_a)))
        cycle_a = _l1(self.generator_ba(fake_b), real_a)
        cycle_b = _l1(self.generator_ab(fake_a), real_b)
        total = adversarial + self.cycle_weight * (cycle_a + cycle_b)
        stats.update(loss_g=adversarial.detach(), cycle_a=cycle_a.detach(), cycle_b=cycle_b.detach())
        if self.identity_weight > 0:
            identity = _l1(self.generator_ab(real_b), real_b) + _l1(self.generator_ba(real_a), real_a)
            total = total + self.identity_weight * self.cycle_weight * identity
            stats["identity"] = identity.detach()
        return total

    def state_dict(self) -> dict[str, Any]:
        return {f"pool_{domain}": pool.state_dict() for domain, pool in self.pools.items()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        device = next(self.critic_a.parameters()).device
        for domain, pool in self.pools.items():
            pool.load_state_dict(state[f"pool_{domain}"], device)
