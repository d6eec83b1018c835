"""What every update rule shares: the Dynamics interface and the gradient plumbing."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor
from torch.optim import Optimizer

from gankit.distributed import average_gradients
from gankit.dynamics.precision import Precision
from gankit.game import Game, GameOutput

__all__ = ["Dynamics", "StepResult", "BatchSource"]

BatchSource = Callable[[], object]


@dataclass
class StepResult:
    """Detached statistics of one training step: losses, D outputs, gradient norms per player."""

    stats: dict[str, Tensor] = field(default_factory=dict)


@dataclass(frozen=True)
class _Replay:
    """One loss evaluation to repeat: its batch, its step and the RNG states its random draws started from."""

    batch: object
    step: int
    cpu_rng: Tensor
    cuda_rng: tuple[Tensor, ...]

    @classmethod
    def capture(cls, batch: object, step: int) -> _Replay:
        cuda = tuple(torch.cuda.get_rng_state_all()) if torch.cuda.is_initialized() else ()
        return cls(batch, step, torch.get_rng_state(), cuda)

    def closure(self, game: Game, player: str) -> Callable[[], Tensor]:
        """`player`'s loss (detached) at the current parameters; the global RNG streams are left untouched."""

        def closure() -> Tensor:
            with torch.random.fork_rng(devices=list(range(len(self.cuda_rng))), device_type="cuda"):
                torch.set_rng_state(self.cpu_rng)
                if self.cuda_rng:
                    torch.cuda.set_rng_state_all(self.cuda_rng)
                return game.losses(self.batch, players=[player], step=self.step).losses[player].detach()

        return closure


class Dynamics(ABC):
    """An update rule for any :class:`Game`: it knows players and optimizers, not GANs.

    `precision` (float32 unless set) is the autocast every loss evaluation runs under; a rule
    whose updates are not plain ``optimizer.step()`` calls sets `supports_loss_scaling = False`,
    and float16 (which needs loss scaling) is refused for it.
    """

    precision: Precision = Precision()
    supports_loss_scaling: bool = True

    @abstractmethod
    def step(
        self, game: Game, optimizers: Mapping[str, Optimizer], next_batch: BatchSource, step: int
    ) -> StepResult:
        """Move the players once; `next_batch()` yields a fresh batch of data each call."""

    def losses(self, game: Game, batch: object, *, players: Collection[str], step: int) -> GameOutput:
        """`game.losses(...)` under this dynamics' :attr:`precision` (autocast of the forward passes)."""
        with self.precision.autocast():
            return game.losses(batch, players=players, step=step)

    def compute_gradients(self, game: Game, output: GameOutput, players: Collection[str]) -> dict[str, Tensor]:
        """Set each player's `.grad` to the gradient of its *own* loss; return each gradient's norm.

        Each loss is differentiated only with respect to its player's parameters,
        so all gradients are taken at the same point (what simultaneous moves need).
        Under float16 the loss is scaled first (`.grad` holds the scaled gradient until
        :meth:`apply_updates`); the returned norms are always those of the unscaled gradient.
        """
        norms = {}
        players = list(players)
        for i, player in enumerate(players):
            params = game.parameters(player)
            grads = torch.autograd.grad(
                self.precision.scale(output.losses[player]), params, retain_graph=i < len(players) - 1,
                allow_unused=True,
            )
            grads = average_gradients(grads)  # the mean over data-parallel ranks (as is, in one process)
            for param, grad in zip(params, grads, strict=True):
                param.grad = grad
            norm = torch.nn.utils.get_total_norm([g for g in grads if g is not None])
            norms[player] = self.precision.unscale_norm(norm)
        return norms

    def state_dict(self) -> dict[str, Any]:
        """State a checkpoint must hold to continue exactly (tensors and plain values); none by default."""
        return {}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""

    def evaluate(self, game: Game, batch: object, *, players: Collection[str], step: int) -> GameOutput:
        """`game.losses(batch, players=players, step=step)`, remembered for :meth:`apply_updates`.

        The batch, step and RNG state are kept so an optimizer that needs a closure (a trust region)
        can re-evaluate its player's loss on the same batch with the same random draws.
        """
        replay = _Replay.capture(batch, step)
        self._replays.update(dict.fromkeys(players, replay))
        return self.losses(game, batch, players=players, step=step)

    def apply_updates(self, game: Game, optimizers: Mapping[str, Optimizer], players: Collection[str]) -> None:
        """Step each player's optimizer, then enforce its constraint.

        Plain optimizers are called as `step()` (through the float16 loss scaler, which then adapts
        its scale once for these updates). One with `needs_closure = True` gets `step(closure)`,
        where `closure()` repeats the player's last :meth:`evaluate` at its current parameters
        (in float32 only: it compares loss values that reduced precision would round away).
        """
        for player in players:
            optimizer = optimizers[player]
            replay = self._replays.pop(player, None)
            if getattr(optimizer, "needs_closure", False):
                if self.precision.dtype is not None:
                    raise ValueError(
                        f"the optimizer of player {player!r} ({type(optimizer).__name__}) compares loss values "
                        f"before and after its step, which {self.precision.name} rounding swamps; use fp32"
                    )
                if replay is None:
                    raise RuntimeError(
                        f"the optimizer of player {player!r} ({type(optimizer).__name__}) needs a closure, but "
                        f"its loss was not evaluated through the dynamics: call self.evaluate(game, batch, "
                        f"players=..., step=...) instead of game.losses(...) before apply_updates"
                    )
                optimizer.step(replay.closure(game, player))
            else:
                self.precision.step(optimizer)
            game.project(player)
        self.precision.update()

    @property
    def _replays(self) -> dict[str, _Replay]:
        # Per player, the last evaluation not yet used by an update (kept in the instance dict so
        # subclasses need not call a base __init__).
        replays: dict[str, _Replay] = self.__dict__.setdefault("_pending_replays", {})
        return replays

    @staticmethod
    def record(result: StepResult, output: GameOutput, grad_norms: Mapping[str, Tensor]) -> None:
        """Merge one update's statistics into the step's result (later updates win)."""
        result.stats.update(output.stats)
        for player, norm in grad_norms.items():
            result.stats[f"grad_norm_{player}"] = norm
