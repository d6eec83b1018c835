"""The domain-adversarial game (DANN, Ganin et al. 2016) as three players: encoder, task and domain critic.

The critic learns to tell the domains apart from the encoder's features; the task head learns the task:
the classes of the labelled rows, or (a decoder; an adversarial autoencoder) every row's input back from its
features; the encoder minimizes the task loss minus λ times the critic's loss, so its
features keep the task and lose the domain. With the cross-entropy critic this is exactly what a gradient
reversal layer does in one backward pass (tests/test_domain.py checks the two steps agree); the
Wasserstein critic (two domains) estimates the distance between the feature distributions instead, with
a gradient penalty, and the encoder minimizes that estimate (WDGRL, Shen et al. 2018).

Maximizing the critic's cross-entropy is unbounded: an encoder can win by making the critic confidently wrong,
and its features grow without end (seen on tables of cells, docs/integration.md). `encoder_objective`
`confusion` (Tzeng et al. 2015) has the encoder minimize the cross-entropy of the critic's prediction against the
uniform distribution over domains instead, which is smallest when the critic cannot tell the domains apart.

When the domains hold the classes in different shares (cell types in batches), aligning the features as a whole
pulls classes onto each other. A class-conditional critic (`critic_sees_class`, after CDAN, Long et al. 2018)
sees each row's class beside its features (the label where known, the classifier's detached guess elsewhere),
so it asks whether the domains differ *within* a class.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gankit.game import Game, GameOutput
from gankit.penalties import gradient_penalty

__all__ = ["CRITIC", "DOMAINS", "ENCODER", "INPUTS", "LABELS", "PLAYERS", "TASK", "DomainAdversarialGame",
           "ganin_schedule"]

INPUTS, DOMAINS, LABELS = "inputs", "domains", "labels"  # a batch's tensors; a label of -1: unlabelled row
ENCODER, TASK, CRITIC = "encoder", "task", "domain_critic"
PLAYERS = (CRITIC, ENCODER, TASK)  # alternating dynamics move the critic first, as a GAN's discriminator


def ganin_schedule(weight: float, steps: int) -> Callable[[int], float]:
    """λ at step t: `weight` · (2 / (1 + exp(−10 p)) − 1), p = t / `steps` (Ganin et al. 2016): 0 at the
    start, so the critic has something to judge before the encoder is pushed, rising to ≈ `weight`."""
    return lambda step: weight * (2.0 / (1.0 + math.exp(-10.0 * min(step / steps, 1.0))) - 1.0)


class DomainAdversarialGame(Game):
    """Encoder + task head against a domain critic on the encoder's features.

    A batch is `{inputs, domains, labels}`: every row's domain index, and its class (−1 where it has none).
    `task_kind`: `classifier` (cross-entropy on the labelled rows) or `decoder` (mean squared error of every row's
    reconstruction; labels unused; with `decoder_sees_domain` the decoder is called as `task(features, domains)`).
    `weight(step)` is λ. `critic`: `cross_entropy` over the domains, or `wasserstein` (two domains, with a
    gradient penalty of weight `gp_weight` on the critic).
    """

    def __init__(
        self, encoder: nn.Module, task: nn.Module, critic: nn.Module, *, weight: Callable[[int], float],
        task_kind: str = "classifier", critic_loss: str = "cross_entropy", gp_weight: float = 10.0,
        decoder_sees_domain: bool = False, encoder_objective: str = "reversal", critic_sees_class: bool = False,
    ) -> None:
        if task_kind not in ("classifier", "decoder"):
            raise ValueError(f"task_kind must be classifier or decoder, got {task_kind!r}")
        if critic_loss not in ("cross_entropy", "wasserstein"):
            raise ValueError(f"critic_loss must be cross_entropy or wasserstein, got {critic_loss!r}")
        if encoder_objective not in ("reversal", "confusion") or (
                encoder_objective == "confusion" and critic_loss != "cross_entropy"):
            raise ValueError("encoder_objective must be reversal, or confusion with the cross_entropy critic; "
                             f"got {encoder_objective!r} with {critic_loss!r}")
        self.encoder, self.task, self.critic = encoder, task, critic
        self.players = {CRITIC: critic, ENCODER: encoder, TASK: task}
        self.weight = weight
        self.task_kind = task_kind
        self.critic_loss = critic_loss
        self.gp_weight = gp_weight
        self.decoder_sees_domain = decoder_sees_domain
        self.encoder_objective = encoder_objective
        if critic_sees_class and (task_kind != "classifier" or critic_loss != "cross_entropy"):
            raise ValueError("critic_sees_class needs the classifier task and the cross_entropy critic")
        self.critic_sees_class = critic_sees_class

    def losses(self, batch: Mapping[str, Tensor], *, players: Collection[str], step: int) -> GameOutput:
        features = self.encoder(batch[INPUTS])
        out = GameOutput(losses={})
        task_loss = adversarial = None
        if {ENCODER, TASK} & set(players):
            task_loss = self._task_loss(features, batch, out.stats)
        if {ENCODER, CRITIC} & set(players):
            adversarial, scores = self._critic_loss(self._critic_input(features, batch[LABELS]), batch[DOMAINS],
                                                    out.stats)
        if TASK in players:
            out.losses[TASK] = task_loss
        if CRITIC in players:
            penalty = self._penalty(features.detach(), batch[DOMAINS], out.stats)
            out.losses[CRITIC] = adversarial if penalty is None else adversarial + penalty
        if ENCODER in players:
            lam = self.weight(step)
            out.stats["lambda"] = torch.tensor(lam)
            if self.encoder_objective == "confusion":  # cross-entropy against the uniform distribution
                confusion = -F.log_softmax(scores, dim=1).mean()
                out.stats["confusion"] = confusion.detach()
                out.losses[ENCODER] = task_loss + lam * confusion
            else:
                out.losses[ENCODER] = task_loss - lam * adversarial
        return out

    def _task_loss(self, features: Tensor, batch: Mapping[str, Tensor], stats: dict[str, Tensor]) -> Tensor:
        if self.task_kind == "decoder":
            extra = (batch[DOMAINS],) if self.decoder_sees_domain else ()
            loss = F.mse_loss(self.task(features, *extra), batch[INPUTS])
            stats["reconstruction"] = loss.detach()
            return loss
        labels = batch[LABELS]
        labelled = labels >= 0
        if not labelled.any():  # a batch without labels teaches the task nothing (and keeps the graph)
            return self.task(features[:0]).sum()
        logits = self.task(features[labelled])
        loss = F.cross_entropy(logits, labels[labelled])
        stats["task_loss"] = loss.detach()
        stats["task_accuracy"] = (logits.argmax(1) == labels[labelled]).float().mean().detach()
        return loss

    def _critic_input(self, features: Tensor, labels: Tensor) -> Tensor:
        """The features, joined (with `critic_sees_class`) with the one-hot code of each row's class: its label,
        or the classifier's (detached) guess for an unlabelled row. A hard guess, not probabilities, so the code
        does not tell the critic which rows had labels (and so which batches)."""
        if not self.critic_sees_class:
            return features
        with torch.no_grad():
            logits = self.task(features)
        classes = torch.where(labels >= 0, labels, logits.argmax(1))
        return torch.cat([features, F.one_hot(classes, logits.shape[1]).to(features.dtype)], dim=1)

    def _critic_loss(self, features: Tensor, domains: Tensor, stats: dict[str, Tensor]) -> tuple[Tensor, Tensor]:
        """The critic's loss without its penalty (the encoder maximizes it), and its scores."""
        scores = self.critic(features)
        if self.critic_loss == "cross_entropy":
            loss = F.cross_entropy(scores, domains)
            stats["critic_accuracy"] = (scores.argmax(1) == domains).float().mean().detach()
        else:  # the critic maximizes E_0 f − E_1 f, an estimate of W1 between the two feature distributions
            scores = scores.squeeze(-1)
            distance = scores[domains == 0].mean() - scores[domains == 1].mean()
            stats["wasserstein"] = distance.detach()
            loss = -distance
        stats["critic_loss"] = loss.detach()
        return loss, scores

    def _penalty(self, features: Tensor, domains: Tensor, stats: dict[str, Tensor]) -> Tensor | None:
        if self.critic_loss != "wasserstein" or self.gp_weight == 0:
            return None
        first, second = features[domains == 0], features[domains == 1]
        rows = min(len(first), len(second))
        penalty = gradient_penalty(lambda x: self.critic(x).squeeze(-1), first[:rows], second[:rows])
        stats["gp"] = penalty.detach()
        return self.gp_weight * penalty
