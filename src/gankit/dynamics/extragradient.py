"""Extragradient: step to a look-ahead point, then move from the original point with its gradients."""

from __future__ import annotations

from collections.abc import Mapping

from torch.optim import Optimizer

from gankit.dynamics.base import BatchSource, Dynamics, StepResult
from gankit.game import Game

__all__ = ["Extragradient"]


class Extragradient(Dynamics):
    """Korpelevich's extragradient method (Gidel et al. 2019 for GANs), two gradient evaluations per step.

    All players' gradients at θ_t; every optimizer ``extrapolate()``s to the
    look-ahead point θ_{t+1/2} (then ``game.project``, as in projected
    extragradient); all gradients again at θ_{t+1/2} on the same batch; every
    optimizer ``step()``s from θ_t with them; ``game.project``. Optimizers must
    have an ``extrapolate()`` method: wrap them in
    :class:`gankit.optim.Extrapolation` (or use ``ExtraAdam``/``ExtraSGD``).

    On the bilinear game min_x max_y xy with SGD step η the one-step map is
    [[1−η², −η], [η, 1−η²]] with spectral radius √(1−η²+η⁴): it converges for 0 < η < 1.
    The reported statistics are those at θ_t. float16 is refused: ``extrapolate()`` steps the
    optimizers outside the loss scaler.
    """

    supports_loss_scaling = False

    def step(
        self, game: Game, optimizers: Mapping[str, Optimizer], next_batch: BatchSource, step: int
    ) -> StepResult:
        players = list(game.players)
        for player in players:
            if not callable(getattr(optimizers[player], "extrapolate", None)):
                raise TypeError(
                    f"Extragradient needs optimizers with an extrapolate() method; the optimizer of {player!r} is "
                    f"{type(optimizers[player]).__name__}: wrap it as gankit.optim.Extrapolation(optimizer)"
                )
        batch = next_batch()
        output = self.losses(game, batch, players=players, step=step)
        norms = self.compute_gradients(game, output, players)
        for player in players:
            optimizers[player].extrapolate()  # type: ignore[attr-defined]
            game.project(player)
        # Through self.evaluate: a closure for the final step repeats this (look-ahead) evaluation's draws.
        self.compute_gradients(game, self.evaluate(game, batch, players=players, step=step), players)
        self.apply_updates(game, optimizers, players)
        result = StepResult()
        self.record(result, output, norms)
        return result
