"""The training loop: call the dynamics, fire callbacks. No model-specific code lives here."""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch.optim import Optimizer

from gankit.dynamics.base import Dynamics, StepResult
from gankit.game import Game

__all__ = ["Trainer", "Callback"]


class Callback:
    """Hooks into the loop; override what you need. `state_dict` is saved in checkpoints."""

    def on_train_start(self, trainer: Trainer) -> None: ...

    def on_step_end(self, trainer: Trainer, result: StepResult) -> None: ...

    def on_train_end(self, trainer: Trainer) -> None: ...

    def state_dict(self) -> dict[str, Any] | None:
        return None

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


class Trainer:
    """Drives `dynamics` over `game` for `steps` steps, drawing batches from `batches`."""

    def __init__(
        self,
        game: Game,
        dynamics: Dynamics,
        optimizers: Mapping[str, Optimizer],
        batches: Iterator[object],
        *,
        steps: int,
        callbacks: Sequence[Callback] = (),
    ) -> None:
        missing = set(game.players) - set(optimizers)
        if missing:
            raise ValueError(f"no optimizer for player(s) {sorted(missing)}")
        self.game = game
        self.dynamics = dynamics
        self.optimizers = dict(optimizers)
        self.batches = batches
        self.total_steps = steps
        self.callbacks = list(callbacks)
        self.step = 0
        self.should_stop = False
        self.in_step = False  # True while the dynamics update the players: the state is then not whole

    def fit(self) -> None:
        """Run from the current step to `total_steps` (or until a callback sets `should_stop`).

        `on_train_end` fires even when a step raises, so callbacks can release what they hold.
        """
        for player in self.game.players.values():
            player.train()
        for callback in self.callbacks:
            callback.on_train_start(self)
        try:
            while self.step < self.total_steps and not self.should_stop:
                self.in_step = True
                result = self.dynamics.step(self.game, self.optimizers, self._next_batch, self.step)
                self.step += 1
                self.in_step = False
                for callback in self.callbacks:
                    callback.on_step_end(self, result)
        finally:
            for callback in self.callbacks:
                callback.on_train_end(self)

    def _next_batch(self) -> object:
        return next(self.batches)

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue: weights, game state, optimizer states, data order, RNG states, callbacks."""
        return {
            "step": self.step,
            "players": {name: module.state_dict() for name, module in self.game.players.items()},
            "game": self.game.state_dict(),  # what the game keeps between steps (a history pool); {} for most
            "optimizers": {name: opt.state_dict() for name, opt in self.optimizers.items()},
            "data": self.batches.state_dict() if hasattr(self.batches, "state_dict") else None,
            "dynamics": self.dynamics.state_dict(),
            "precision": self.dynamics.precision.state_dict(),  # the float16 loss scale; {} otherwise
            "rng": _rng_state(),
            "callbacks": {type(cb).__name__: cb.state_dict() for cb in self.callbacks},
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` saved."""
        self.step = int(state["step"])
        for name, module in self.game.players.items():
            module.load_state_dict(state["players"][name])
        self.game.load_state_dict(state.get("game", {}))  # absent from checkpoints written before it existed
        for name, opt in self.optimizers.items():
            opt.load_state_dict(state["optimizers"][name])
        if state["data"] is not None:
            self.batches.load_state_dict(state["data"])
        self.dynamics.load_state_dict(state["dynamics"])
        self.dynamics.precision.load_state_dict(state.get("precision", {}))
        _set_rng_state(state["rng"])
        for cb in self.callbacks:
            saved = state["callbacks"].get(type(cb).__name__)
            if saved is not None:
                cb.load_state_dict(saved)


def _rng_state() -> dict[str, Any]:
    _, keys, pos, has_gauss, cached = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": torch.from_numpy(keys.astype(np.int64)),
        "numpy_rest": [int(pos), int(has_gauss), float(cached)],
        "python": random.getstate(),
    }


def _set_rng_state(state: Mapping[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    pos, has_gauss, cached = state["numpy_rest"]
    np.random.set_state(("MT19937", state["numpy"].numpy().astype(np.uint32), pos, has_gauss, cached))
    random.setstate(state["python"])
