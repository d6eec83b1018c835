"""Alternating updates: players move in turn, each seeing the others' latest parameters."""

from __future__ import annotations

from collections.abc import Mapping

from torch.optim import Optimizer

from gankit.dynamics.base import BatchSource, Dynamics, StepResult
from gankit.game import Game

__all__ = ["Alternating"]


class Alternating(Dynamics):
    """Players in the game's order, `steps[player]` updates each (default 1), a fresh batch per update.

    `Alternating(steps={"discriminator": 5})` is the WGAN schedule of k=5 critic
    steps per generator step. On the bilinear game with SGD step η < 2 the
    eigenvalues lie on the unit circle: the iterates cycle.
    """

    def __init__(self, steps: Mapping[str, int] | None = None) -> None:
        self.steps = dict(steps or {})
        if any(k < 1 for k in self.steps.values()):
            raise ValueError(f"every player needs at least one update per step, got {self.steps}")

    def step(
        self, game: Game, optimizers: Mapping[str, Optimizer], next_batch: BatchSource, step: int
    ) -> StepResult:
        result = StepResult()
        for player in game.players:
            for _ in range(self.steps.get(player, 1)):
                output = self.evaluate(game, next_batch(), players=[player], step=step)
                norms = self.compute_gradients(game, output, [player])
                self.apply_updates(game, optimizers, [player])
                self.record(result, output, norms)
        return result
