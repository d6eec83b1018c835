"""The `bilinear` kind: the toy game min_x max_y x·y trained by `gankit train` like any other run.

It proves the application layer: the same Trainer, run directory, checkpoints, resume, alarms and
report, with no GAN part. Its evaluation compares the iterate with the closed-form one.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Collection
from typing import Any

import numpy as np
import torch
from torch import nn

from gankit.config import BilinearConfig
from gankit.dynamics.toy import BilinearGame, bilinear_step_matrix
from gankit.errors import ConfigError
from gankit.game import GameOutput
from gankit.kinds.base import GameKind, PlayerOptimizer, Setup, per_player_optimizers

__all__ = ["BilinearKind", "closed_form_distance"]


class BilinearKind(GameKind):
    name = "bilinear"
    unrolled_roles = ("x", "y")

    def build(self, config: BilinearConfig, device: torch.device) -> Setup:
        game = _game(config)
        for player in game.players.values():
            player.to(device)
        return Setup(game, itertools.repeat(None))  # the game takes no data

    def check(self, config: BilinearConfig) -> None:
        super().check(config)
        if config.train.best_metric is not None:
            raise ConfigError(f"train.best_metric {config.train.best_metric!r} is a score of generated samples; the "
                              "bilinear kind logs eval/distance instead, remove it")

    def optimizer_settings(self, config: BilinearConfig) -> dict[str, PlayerOptimizer]:
        return per_player_optimizers(config)

    def evaluator(
        self, config: BilinearConfig, setup: Setup, drawn: dict[str, nn.Module]
    ) -> Callable[[int], dict[str, float]]:
        """At step t: the distance from the equilibrium, and the closed-form distance where the run's rule has one."""
        game: BilinearGame = setup.game

        def scores(step: int) -> dict[str, float]:
            results = {"distance": game.distance()}
            expected = closed_form_distance(config, step)
            if expected is not None:
                results["distance_closed_form"] = expected
            return results

        return scores

    def restore(self, config: BilinearConfig, meta: dict[str, Any]) -> dict[str, nn.Module]:
        return dict(_game(config).players)


class _LoggedBilinearGame(BilinearGame):
    """The bilinear game, also logging ‖(x, y)‖ at the point where the step's gradients are taken."""

    def losses(self, batch: object, *, players: Collection[str], step: int) -> GameOutput:
        out = super().losses(batch, players=players, step=step)
        out.stats["distance"] = torch.cat([self.x.value.detach(), self.y.value.detach()]).norm()
        return out


def _game(config: BilinearConfig) -> BilinearGame:
    return _LoggedBilinearGame(torch.tensor([config.bilinear.x0]), torch.tensor([config.bilinear.y0]))


def closed_form_distance(config: BilinearConfig, step: int) -> float | None:
    """‖(x_t, y_t)‖ after `step` steps from the config's (x0, y0), from the rule's one-step linear map.

    Known for SGD with one step size for both players and one update per player per step; None otherwise.
    """
    lr = config.optim.lr
    dynamics = config.dynamics
    if config.optim.name != "sgd" or lr["x"] != lr["y"] or any(k != 1 for k in dynamics.steps.values()):
        return None
    if dynamics.name == "unrolled" and dynamics.unroll_lr not in (None, lr["y"]):
        return None
    matrix = bilinear_step_matrix(dynamics.name, lr["x"], unroll_steps=dynamics.unroll_steps)
    start = [config.bilinear.x0, config.bilinear.y0]
    state = np.array(start * 2 if dynamics.name == "optimistic" else start)  # optimistic: g_{-1} = g_0
    final = np.linalg.matrix_power(matrix, step) @ state
    return float(np.hypot(final[0], final[1]))
