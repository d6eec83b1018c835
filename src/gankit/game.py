"""Games: players with parameters and a loss each. No optimizer, no loop.

A :class:`Game` names its players (ordered: in alternating dynamics the first
moves first) and returns each requested player's loss for a batch. The
dynamics decide which players to ask for and how to move them.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gankit.distributed import per_sample
from gankit.losses import GANLoss
from gankit.nn.infogan import InfoCodes
from gankit.penalties import clip_weights_, gradient_penalty, r1_penalty

__all__ = [
    "LABELS", "SAMPLES", "ConditionalGANGame", "Game", "GameOutput", "GANGame", "InfoGANGame", "information_loss",
    "mutual_information_lower_bound",
]


SAMPLES, LABELS = "samples", "labels"  # the names of a GAN batch's tensors


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

    def state_dict(self) -> dict[str, Any]:
        """State the game keeps between steps besides its players' weights (tensors and plain values), which a
        checkpoint must hold to continue exactly, e.g. CycleGAN's history of generated images; default: none."""
        return {}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""


class GANGame(Game):
    """Generator vs discriminator under one objective, with optional regularizers of D.

    Regularizers: WGAN-GP weight `gp_weight`; R1 with weight `r1_gamma` (entering
    as γ/2·R1), applied every `r1_every` steps and scaled by it (lazy R1);
    weight clipping to `clip_value`; one-sided label smoothing via `real_target`.
    `adversarial_weight` scales the generator's adversarial loss (SRGAN: 1e-3 beside a content loss).
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
        adversarial_weight: float = 1.0,
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
        self.adversarial_weight = adversarial_weight

    def sample_latent(self, n: int) -> Tensor:
        """z ~ N(0, I) on the generator's device, drawn from torch's global RNG (this rank's rows of the
        global batch's draw under data parallelism: gankit.distributed.per_sample)."""
        device = next(self.generator.parameters()).device
        return per_sample(lambda rows: torch.randn(rows, self.latent_dim, device=device), n)

    def losses(self, batch: object, *, players: Collection[str], step: int) -> GameOutput:
        real, context = self.split_batch(batch)
        inputs, fake_context = self.generator_inputs(batch, context, real.shape[0])
        wants_g = "generator" in players
        with torch.set_grad_enabled(wants_g):
            fake = self.generate(*inputs)
        out = GameOutput(losses={})
        fake_scores = None
        if wants_g:
            fake_scores = self.discriminate(fake, fake_context)
            loss_g = self.loss.generator(fake_logits=fake_scores[0])
            out.stats["loss_g"] = loss_g.detach()
            if self.adversarial_weight != 1.0:
                loss_g = self.adversarial_weight * loss_g
            aux_g = self.auxiliary_loss("generator", (None, context), (fake_scores[1], fake_context), out.stats)
            out.losses["generator"] = _plus(loss_g + aux_g, self.extra_loss(
                "generator", real=real, fake=fake, batch=batch, stats=out.stats))
        if "discriminator" in players:
            # D's gradient never needs G's graph: with G also moving, reuse D(fake) (same forward).
            d_fake = fake_scores if fake_scores is not None else self.discriminate(fake.detach(), fake_context)
            real_scores = self.discriminate(real, context)
            loss_d = self.loss.discriminator(
                real_logits=real_scores[0], fake_logits=d_fake[0], real_target=self.real_target
            )
            out.stats["loss_d"] = loss_d.detach()
            aux_d = self.auxiliary_loss(
                "discriminator", (real_scores[1], context), (d_fake[1], fake_context), out.stats
            )
            total_d = loss_d + aux_d + self._penalties(real, fake.detach(), context, step, out.stats)
            out.losses["discriminator"] = _plus(total_d, self.extra_loss(
                "discriminator", real=real, fake=fake.detach(), batch=batch, stats=out.stats))
            out.stats["d_real"] = real_scores[0].detach().mean()
            out.stats["d_fake"] = d_fake[0].detach().mean()
            # D's accuracy read off the sign of its logits (the decision of a BCE discriminator)
            out.stats["d_acc_real"] = (real_scores[0].detach() > 0).float().mean()
            out.stats["d_acc_fake"] = (d_fake[0].detach() < 0).float().mean()
        return out

    # Hooks a kind's game overrides (conditional, InfoGAN, an image-to-image game); the plain game has no context.

    def split_batch(self, batch: object) -> tuple[Tensor, object]:
        """(the real samples D sees, their context) from a batch: a mapping with `samples` (and what a
        subclass reads), or a bare tensor of samples."""
        return (batch[SAMPLES] if isinstance(batch, Mapping) else batch), None  # type: ignore[return-value]

    def generator_inputs(self, batch: object, context: object, n: int) -> tuple[tuple[Tensor, ...], object]:
        """(what G takes for this batch's `n` fake samples, the context D judges them in).

        Default: noise z (:meth:`sample_latent`), followed by the fake context when there is one. An
        image-to-image game returns the batch's input images instead.
        """
        z = self.sample_latent(n)
        fake_context = self.fake_context(context, n)
        return ((z,) if fake_context is None else (z, fake_context)), fake_context

    def fake_context(self, real_context: object, n: int) -> object:
        """The context the fake samples of this batch are drawn with."""
        return None

    def generate(self, *inputs: Tensor) -> Tensor:
        return self.generator(*inputs)

    def extra_loss(
        self, player: str, *, real: Tensor, fake: Tensor, batch: object, stats: dict[str, Tensor]
    ) -> Tensor | None:
        """A further loss of `player` that sees the real and the generated samples of this batch (the fake ones
        with G's graph for the generator, detached for the discriminator), e.g. a content loss ‖G(x) − y‖₁
        or a cycle loss; statistics go to `stats`. None: no further loss (the default)."""
        return None

    def discriminate(self, x: Tensor, context: object) -> tuple[Tensor, Tensor | None]:
        """(logits, auxiliary output or None) of the discriminator on `x` in `context`."""
        return self.discriminator(x), None

    def auxiliary_loss(
        self, player: str, real: tuple[Tensor | None, object], fake: tuple[Tensor | None, object],
        stats: dict[str, Tensor],
    ) -> Tensor | float:
        """Extra loss of `player` from the (auxiliary output, context) pairs of real and fake; none here."""
        return 0.0

    def _penalties(
        self, real: Tensor, fake: Tensor, context: object, step: int, stats: dict[str, Tensor]
    ) -> Tensor | float:
        # Fake samples share the real ones' context where they have one, so one critic serves both.
        def critic(x: Tensor) -> Tensor:
            return self.discriminate(x, context)[0]

        total: Tensor | float = 0.0
        if self.gp_weight > 0:
            gp = gradient_penalty(critic, real, fake)
            stats["gradient_penalty"] = gp.detach()
            total = total + self.gp_weight * gp
        if self.r1_gamma > 0 and step % self.r1_every == 0:
            r1 = r1_penalty(critic, real)
            stats["r1"] = r1.detach()
            total = total + 0.5 * self.r1_gamma * self.r1_every * r1
        return total

    def project(self, player: str) -> None:
        if player == "discriminator" and self.clip_value is not None:
            clip_weights_(self.discriminator, self.clip_value)


class ConditionalGANGame(GANGame):
    """A GAN whose batches are (samples, conditions); G(z, c) and D(x, c) (Mirza & Osindero 2014).

    The fake samples of a batch are drawn with the real samples' conditions, so both sides see
    the data's distribution of conditions. With `aux_weight` > 0 and a discriminator that has an
    auxiliary classifier, both players also minimize `aux_weight` × the cross-entropy of the
    class it predicts (AC-GAN, Odena et al. 2017: D on real and fake, G on fake).
    """

    def __init__(self, generator: nn.Module, discriminator: nn.Module, loss: GANLoss, latent_dim: int, *,
                 aux_weight: float = 0.0, **regularizers: float | None) -> None:
        super().__init__(generator, discriminator, loss, latent_dim, **regularizers)
        if aux_weight > 0 and getattr(discriminator, "classifier", None) is None:
            raise ValueError("aux_weight > 0 needs a discriminator with an auxiliary classifier (aux_classes)")
        self.aux_weight = aux_weight

    def split_batch(self, batch: object) -> tuple[Tensor, Tensor]:
        if isinstance(batch, Mapping) and LABELS in batch:
            return batch[SAMPLES], batch[LABELS]
        if not isinstance(batch, (tuple, list)) or len(batch) != 2:
            raise TypeError("a conditional game takes batches of {'samples', 'labels'} or (samples, conditions)")
        return batch[0], batch[1]

    def fake_context(self, real_context: object, n: int) -> object:
        return real_context

    def discriminate(self, x: Tensor, context: object) -> tuple[Tensor, Tensor | None]:
        return self.discriminator.scores(x, context)

    def auxiliary_loss(
        self, player: str, real: tuple[Tensor | None, object], fake: tuple[Tensor | None, object],
        stats: dict[str, Tensor],
    ) -> Tensor | float:
        if self.aux_weight == 0:
            return 0.0
        fake_logits, fake_labels = fake
        loss = F.cross_entropy(fake_logits, fake_labels)
        if player == "discriminator":
            real_logits, real_labels = real
            loss = loss + F.cross_entropy(real_logits, real_labels)
            stats["aux_accuracy_real"] = (real_logits.argmax(1) == real_labels).float().mean().detach()
        stats[f"aux_loss_{player[0]}"] = loss.detach()
        return self.aux_weight * loss


class InfoGANGame(GANGame):
    """InfoGAN (Chen et al. 2016): G(z, c) with latent codes c, and Q(c | x) on D's features.

    Both players minimize `info_weight` × :func:`information_loss` on the fake batch, i.e. they
    maximize the variational lower bound on I(c; G(z, c)); D's share trains Q and the shared body.
    """

    def __init__(self, generator: nn.Module, discriminator: nn.Module, loss: GANLoss, latent_dim: int, *,
                 codes: InfoCodes, info_weight: float = 1.0, continuous_weight: float = 1.0,
                 **regularizers: float | None) -> None:
        super().__init__(generator, discriminator, loss, latent_dim, **regularizers)
        self.codes = codes
        self.info_weight = info_weight
        self.continuous_weight = continuous_weight

    def fake_context(self, real_context: object, n: int) -> object:
        # Drawn where the generator lives (as InfoCodes.sample draws them, from the global RNG): codes drawn
        # on the CPU and copied to a GPU would make the host wait for the GPU at every step.
        device = next(self.generator.parameters()).device
        codes = self.codes
        categories = continuous = None
        if codes.categorical:
            categories = per_sample(lambda rows: torch.randint(codes.categorical, (rows,), device=device), n)
        if codes.continuous:
            continuous = per_sample(lambda rows: torch.rand(rows, codes.continuous, device=device) * 2 - 1, n)
        return self.codes.encode(categories, continuous)

    def discriminate(self, x: Tensor, context: object) -> tuple[Tensor, Tensor | None]:
        return self.discriminator.scores(x)

    def auxiliary_loss(
        self, player: str, real: tuple[Tensor | None, object], fake: tuple[Tensor | None, object],
        stats: dict[str, Tensor],
    ) -> Tensor | float:
        q_out, codes = fake
        loss, bound = information_loss(q_out, codes, self.codes, self.continuous_weight)
        stats["info_loss"] = loss.detach()
        if bound is not None:
            stats["mi_lower_bound"] = bound.detach()
        return self.info_weight * loss


def _plus(loss: Tensor, extra: Tensor | None) -> Tensor:
    return loss if extra is None else loss + extra


def mutual_information_lower_bound(category_logits: Tensor, categories: Tensor) -> Tensor:
    """H(c) + E[log Q(c|x)] for a uniform categorical code: log K − cross-entropy, in nats.

    Equals H(c) = log K when Q recovers c exactly and is at most that; 0 for a Q that guesses uniformly.
    """
    return math.log(category_logits.shape[1]) - F.cross_entropy(category_logits, categories)


def information_loss(
    q_out: Tensor, codes: Tensor, spec: InfoCodes, continuous_weight: float = 1.0
) -> tuple[Tensor, Tensor | None]:
    """InfoGAN's L_I as a loss to minimize, and the categorical code's MI lower bound (None without one).

    Loss = cross-entropy of the category + `continuous_weight` × the unit-variance Gaussian negative
    log-likelihood of the continuous codes (½(c − μ)², summed over codes, constants dropped).
    """
    categories, continuous = spec.split(codes)
    loss = q_out.new_zeros(())
    bound = None
    if categories is not None:
        logits = q_out[:, : spec.categorical]
        loss = loss + F.cross_entropy(logits, categories)
        bound = mutual_information_lower_bound(logits.detach(), categories)
    if continuous is not None:
        means = q_out[:, spec.categorical :]
        loss = loss + continuous_weight * 0.5 * (continuous - means).pow(2).sum(dim=1).mean()
    return loss, bound
