"""Adam, SGD and RMSprop over stacked parameters, with one learning rate (and betas) per member.

Each update is the arithmetic of the matching `torch.optim` class (single-tensor path, default
options) on tensors of shape (M, ...); the state is stacked the same way. An operation whose
hyperparameter all members share runs once on the whole stack; one whose hyperparameter differs
runs on each member's slice with that member's value, so every member gets exactly the numbers
its own `torch.optim` optimizer would. Members never mix: every operation is elementwise.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor

__all__ = ["StackedOptimizer"]


class StackedOptimizer:
    """One optimizer per member over stacked parameters (M, ...), stepped together.

    `lr`, `beta1`, `beta2` are per-member sequences of length M (betas are unused by SGD/RMSprop).
    """

    def __init__(
        self, name: str, params: Sequence[Tensor], lr: Sequence[float], beta1: Sequence[float],
        beta2: Sequence[float], *, eps: float = 1e-8, alpha: float = 0.99,
    ) -> None:
        if name not in ("adam", "sgd", "rmsprop"):
            raise ValueError(f"unknown optimizer {name!r}")
        self.name = name
        self.params = list(params)
        self.lr = list(lr)
        self.beta1 = list(beta1)
        self.beta2 = list(beta2)
        self.eps = eps
        self.alpha = alpha
        self.steps = 0
        self.state = [(torch.zeros_like(p), torch.zeros_like(p)) for p in self.params]

    def _apply(self, values: Sequence[float], op: Callable[[int | slice, float], object]) -> None:
        """`op(index, value)` on the whole stack when all members share the value, else member by member.

        Member by member, each in-place op is the exact scalar op `torch.optim` applies to one model.
        """
        if all(v == values[0] for v in values):
            op(slice(None), values[0])
        else:
            for m, value in enumerate(values):
                op(m, value)

    @torch.no_grad()
    def step(self, grads: Sequence[Tensor]) -> None:
        """Apply one update with these gradients (one per stacked parameter)."""
        self.steps += 1
        for param, grad, state in zip(self.params, grads, self.state, strict=True):
            if self.name == "adam":
                self._adam(param, grad, *state)
            elif self.name == "sgd":
                self._apply(self.lr, lambda i, lr: param[i].add_(grad[i], alpha=-lr))
            else:
                self._rmsprop(param, grad, state[0])

    def _adam(self, param: Tensor, grad: Tensor, exp_avg: Tensor, exp_avg_sq: Tensor) -> None:
        t = float(self.steps)
        self._apply([1 - b1 for b1 in self.beta1], lambda i, w: exp_avg[i].lerp_(grad[i], w))
        self._apply(self.beta2, lambda i, b2: exp_avg_sq[i].mul_(b2).addcmul_(grad[i], grad[i], value=1 - b2))
        denom = exp_avg_sq.sqrt()
        self._apply([(1 - b2**t) ** 0.5 for b2 in self.beta2], lambda i, c: denom[i].div_(c))
        denom.add_(self.eps)
        step_size = [lr / (1 - b1**t) for lr, b1 in zip(self.lr, self.beta1, strict=True)]
        self._apply([-s for s in step_size], lambda i, v: param[i].addcdiv_(exp_avg[i], denom[i], value=v))

    def _rmsprop(self, param: Tensor, grad: Tensor, square_avg: Tensor) -> None:
        square_avg.mul_(self.alpha).addcmul_(grad, grad, value=1 - self.alpha)
        avg = square_avg.sqrt().add_(self.eps)
        self._apply([-lr for lr in self.lr], lambda i, v: param[i].addcdiv_(grad[i], avg[i], value=v))
