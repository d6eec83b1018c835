"""The domain-adversarial game (DANN, Ganin et al. 2016) as three players: encoder, task and domain critic.

The critic learns to tell the domains apart from the encoder's features; the task head learns the task:
the classes of the labelled rows, or (a decoder; an adversarial autoencoder) every row's input back from its
features; the encoder minimizes the task loss minus λ times the critic's loss, so its
features keep the task and lose the domain. With the cross-entropy critic this is exactly what a gradient
reversal layer does in one backward pass (tests/test_domain.py checks the two steps agree); the
Wasserstein critic (two domains) estimates the distance between the feature distributions instead, with
a gradient penalty, and the encoder minimizes that estimate (WDGRL, Shen et al. 2018).
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
    reconstruction; labels unused). `weight(step)` is λ. `critic`: `cross_entropy` over the domains, or `wasserstein` (two domains, with a
    gradient penalty of weight `gp_weight` on the critic).
    """

    def __init__(
        self, encoder: nn.Module, task: nn.Module, critic: nn.Module, *, weight: Callable[[int], float],
        task_kind: str = "classifier", critic_loss: str = "cross_entropy", gp_weight: float = 10.0,
    ) -> None:
        if task_kind not in ("classifier", "decoder"):
            raise ValueError(f"task_kind must be classifier or decoder, got {task_kind!r}")
        if critic_loss not in ("cross_entropy", "wasserstein"):
            raise ValueError(f"critic_loss must be cross_entropy or wasserstein, got {critic_loss!r}")
        self.encoder, self.task, self.critic = encoder, task, critic
        self.players = {CRITIC: critic, ENCODER: encoder, TASK: task}
        self.weight = weight
        self.task_kind = task_kind
        self.critic_loss = critic_loss
        self.gp_weight = gp_weight

    def losses(self, batch: Mapping[str, Tensor], *, players: Collection[str], step: int) -> GameOutput:
        features = self.encoder(batch[INPUTS])
        out = GameOutput(losses={})
        task_loss = adversarial = None
        if {ENCODER, TASK} & set(players):
            task_loss = self._task_loss(features, batch, out.stats)
        if {ENCODER, CRITIC} & set(players):
            adversarial = self._critic_loss(features, batch[DOMAINS], out.stats)
        if TASK in players:
            out.losses[TASK] = task_loss
        if CRITIC in players:
            penalty = self._penalty(features.detach(), batch[DOMAINS], out.stats)
            out.losses[CRITIC] = adversarial if penalty is None else adversarial + penalty
        if ENCODER in players:
            lam = self.weight(step)
            out.stats["lambda"] = torch.tensor(lam)
            out.losses[ENCODER] = task_loss - lam * adversarial
        return out

    def _task_loss(self, features: Tensor, batch: Mapping[str, Tensor], stats: dict[str, Tensor]) -> Tensor:
        if self.task_kind == "decoder":
            loss = F.mse_loss(self.task(features), batch[INPUTS])
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

    def _critic_loss(self, features: Tensor, domains: Tensor, stats: dict[str, Tensor]) -> Tensor:
        """The critic's loss without its penalty (the encoder maximizes it)."""
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
        return loss

    def _penalty(self, features: Tensor, domains: Tensor, stats: dict[str, Tensor]) -> Tensor | None:
        if self.critic_loss != "wasserstein" or self.gp_weight == 0:
            return None
        first, second = features[domains == 0], features[domains == 1]
        rows = min(len(first), len(second))
        penalty = gradient_penalty(lambda x: self.critic(x).squeeze(-1), first[:rows], second[:rows])
        stats["gp"] = penalty.detach()
        return self.gp_weight * penalty
