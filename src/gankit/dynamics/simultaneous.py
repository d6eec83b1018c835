"""Simultaneous gradient descent: every player moves from the same point at once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from torch import Tensor
from torch.optim import Optimizer

from gankit.dynamics.base import BatchSource, Dynamics, StepResult
from gankit.game import Game

__all__ = ["Simultaneous"]


class Simultaneous(Dynamics):
    """All players' gradients at the current point, then all updates.

    On the bilinear game min_x max_y xy with SGD step η this spirals outwards
    with spectral radius √(1+η²) per step.
    """

    def step(
        self, game: Game, optimizers: Mapping[str, Optimizer], next_batch: BatchSource, step: int
    ) -> StepResult:
        players = list(game.players)
        output = self.evaluate(game, next_batch(), players=players, step=step)
        norms = self.compute_gradients(game, output, players)
        for player in players:
            self.adjust_gradients(player, game.parameters(player))
        self.apply_updates(game, optimizers, players)
        result = StepResult()
        self.record(result, output, norms)
        return result

    def adjust_gradients(self, player: str, params: Sequence[Tensor]) -> None:
        """Hook between gradients and updates (optimistic dynamics extrapolate here); default: none."""
