"""What every update rule shares: the Dynamics interface and the gradient plumbing."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field

import torch
from torch import Tensor
from torch.optim import Optimizer

from gankit.game import Game, GameOutput

__all__ = ["Dynamics", "StepResult", "BatchSource"]

BatchSource = Callable[[], object]


@dataclass
class StepResult:
    """Detached statistics of one training step: losses, D outputs, gradient norms per player."""

    stats: dict[str, Tensor] = field(default_factory=dict)


class Dynamics(ABC):
    """An update rule for any :class:`Game`: it knows players and optimizers, not GANs."""

    @abstractmethod
    def step(
        self, game: Game, optimizers: Mapping[str, Optimizer], next_batch: BatchSource, step: int
    ) -> StepResult:
        """Move the players once; `next_batch()` yields a fresh batch of data each call."""

    @staticmethod
    def compute_gradients(game: Game, output: GameOutput, players: Collection[str]) -> dict[str, Tensor]:
        """Set each player's `.grad` to the gradient of its *own* loss; return each gradient's norm.

        Each loss is differentiated only with respect to its player's parameters,
        so all gradients are taken at the same point (what simultaneous moves need).
        """
        norms = {}
        players = list(players)
        for i, player in enumerate(players):
            params = game.parameters(player)
            grads = torch.autograd.grad(
                output.losses[player], params, retain_graph=i < len(players) - 1, allow_unused=True
            )
            for param, grad in zip(params, grads, strict=True):
                param.grad = grad
            present = [g for g in grads if g is not None]
            norms[player] = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in present]))
        return norms

    @staticmethod
    def apply_updates(game: Game, optimizers: Mapping[str, Optimizer], players: Collection[str]) -> None:
        """Step each player's optimizer, then enforce its constraint."""
        for player in players:
            optimizers[player].step()
            game.project(player)

    @staticmethod
    def record(result: StepResult, output: GameOutput, grad_norms: Mapping[str, Tensor]) -> None:
        """Merge one update's statistics into the step's result (later updates win)."""
        result.stats.update(output.stats)
        for player, norm in grad_norms.items():
            result.stats[f"grad_norm_{player}"] = norm
