"""Extrapolation (extragradient) around any torch optimizer (Korpelevich 1976; Gidel et al. 2019).

One extragradient iteration with a wrapped optimizer ``opt``::

    grads at θ_t          ->  opt.extrapolate()   # θ_{t+1/2} = update(θ_t, g(θ_t)); θ_t and state saved
    grads at θ_{t+1/2}    ->  opt.step()          # restore θ_t and state; θ_{t+1} = update(θ_t, g(θ_{t+1/2}))

Because the optimizer state is restored before the real step, moment estimates
(Adam's m, v and step count) advance once per iteration, with the look-ahead
gradient. Gidel et al.'s reference ExtraAdam instead updates them at both
half-steps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor
from torch.optim import Optimizer

__all__ = ["ExtraAdam", "ExtraSGD", "Extrapolation"]


def _clone(value: Any) -> Any:
    return value.clone() if isinstance(value, Tensor) else value


class Extrapolation(Optimizer):
    """Wrap `optimizer` to add :meth:`extrapolate`; everything else behaves like `optimizer`.

    `param_groups`, `state` and `defaults` are the wrapped optimizer's own, so
    changing a learning rate (by hand or by an LR scheduler) reaches it.
    `state_dict()` is the wrapped optimizer's and can be loaded by either.
    """

    def __init__(self, optimizer: Optimizer) -> None:
        if isinstance(optimizer, Extrapolation):
            raise TypeError("this optimizer is already wrapped in Extrapolation")
        super().__init__(optimizer.param_groups, optimizer.defaults)
        self.optimizer = optimizer
        self._share_wrapped_state()
        self._saved: dict[Tensor, tuple[Tensor, dict[str, Any] | None]] | None = None

    def _share_wrapped_state(self) -> None:
        self.param_groups = self.optimizer.param_groups
        self.state = self.optimizer.state
        self.defaults = self.optimizer.defaults

    def _params(self) -> list[Tensor]:
        return [p for group in self.param_groups for p in group["params"]]

    @torch.no_grad()
    def extrapolate(self) -> None:
        """Save parameters and optimizer state, then step with the current `.grad` to the look-ahead point."""
        if self._saved is not None:
            raise RuntimeError("extrapolate() called twice; call step() with the look-ahead gradients in between")
        self._saved = {
            p: (p.detach().clone(), {k: _clone(v) for k, v in self.state[p].items()} if p in self.state else None)
            for p in self._params()
            if p.grad is not None
        }
        self.optimizer.step()

    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        """After :meth:`extrapolate`: restore the saved point and state, then step with the current `.grad`.

        Without a pending extrapolation this is the wrapped optimizer's ordinary step.
        `closure` is passed to the wrapped optimizer's step.
        """
        if self._saved is not None:
            missing = [i for i, p in enumerate(self._params()) if p in self._saved and p.grad is None]
            if missing:
                raise RuntimeError(
                    f"step() after extrapolate() needs the gradients at the look-ahead point, but parameter(s) "
                    f"{missing} have .grad None; compute the loss and its gradients again before step()"
                )
            self._restore(self._saved)
            self._saved = None
        return self.optimizer.step(closure)

    @torch.no_grad()
    def _restore(self, saved: dict[Tensor, tuple[Tensor, dict[str, Any] | None]]) -> None:
        for p, (value, state) in saved.items():
            p.copy_(value)
            if state is None:
                self.state.pop(p, None)
            else:
                self.state[p] = state

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.optimizer.zero_grad(set_to_none)

    def state_dict(self) -> dict[str, Any]:
        """The wrapped optimizer's state dict; refused between extrapolate() and step()."""
        if self._saved is not None:
            raise RuntimeError("state_dict() between extrapolate() and step() would save the look-ahead point")
        return self.optimizer.state_dict()

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state dict saved by this wrapper or by the bare wrapped optimizer; drops a pending extrapolation."""
        self.optimizer.load_state_dict(state_dict)
        self._share_wrapped_state()
        self._saved = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.optimizer!r})"


class ExtraAdam(Extrapolation):
    """Adam with an extrapolation step: ``Extrapolation(torch.optim.Adam(params, ...))``."""

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict[str, Any]],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(torch.optim.Adam(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))


class ExtraSGD(Extrapolation):
    """SGD with an extrapolation step: ``Extrapolation(torch.optim.SGD(params, lr, momentum))``."""

    def __init__(
        self, params: Iterable[Tensor] | Iterable[dict[str, Any]], lr: float = 1e-3, momentum: float = 0.0
    ) -> None:
        super().__init__(torch.optim.SGD(params, lr=lr, momentum=momentum))
