"""Unrolled dynamics (Metz et al. 2017): the leader moves against the follower's K-step look-ahead."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import torch
from torch import Tensor, nn
from torch.optim import Optimizer

from gankit.dynamics.base import BatchSource, Dynamics, StepResult
from gankit.game import Game

__all__ = ["Unrolled", "swapped_parameters"]


@contextmanager
def swapped_parameters(module: nn.Module, tensors: Mapping[str, Tensor]) -> Iterator[None]:
    """Temporarily replace `module`'s parameters, named as in ``named_parameters()``, by `tensors`.

    Parameters of submodules and parametrized ones (spectral norm's
    ``parametrizations.weight.original``) are found by name; the tensors may
    carry a graph, so a forward pass inside the block is differentiable with
    respect to them. The original Parameters are put back on exit, even on error.
    """
    slots = []
    for name, tensor in tensors.items():
        owner_name, _, attr = name.rpartition(".")
        try:
            owner = module.get_submodule(owner_name)
        except AttributeError:
            owner = None
        if owner is None or owner._parameters.get(attr) is None:
            raise ValueError(f"{type(module).__name__} has no parameter named {name!r}")
        original = owner._parameters[attr]
        if original.shape != tensor.shape:
            raise ValueError(f"parameter {name!r} has shape {tuple(original.shape)}, got {tuple(tensor.shape)}")
        slots.append((owner, attr, original, tensor))
    try:
        for owner, attr, _, tensor in slots:
            owner._parameters[attr] = tensor
        yield
    finally:
        for owner, attr, original, _ in slots:
            owner._parameters[attr] = original


@contextmanager
def _scratch_buffers(module: nn.Module) -> Iterator[None]:
    """Run the block on copies of `module`'s buffers (BatchNorm statistics, spectral-norm vectors).

    The originals are neither read nor written inside and are put back on exit; swapping
    tensors (not copying values back) keeps any graph built inside valid.
    """
    slots = [(m, name, buf) for m in module.modules() for name, buf in m._buffers.items() if buf is not None]
    for owner, name, buf in slots:
        owner._buffers[name] = buf.clone()
    try:
        yield
    finally:
        for owner, name, buf in slots:
            owner._buffers[name] = buf


def _parameter_names(module: nn.Module, params: Sequence[Tensor]) -> list[str]:
    names = {id(p): name for name, p in module.named_parameters()}
    if any(id(p) not in names for p in params):
        raise ValueError(f"the game's parameters for this player are not all parameters of its {type(module).__name__}")
    return [names[id(p)] for p in params]


class Unrolled(Dynamics):
    """The leader's gradient is taken through K differentiable SGD steps of the follower.

    Each step, on one batch (one ``next_batch()`` call): (a) the follower makes
    one ordinary update with its optimizer; (b) from its new parameters θ_0,
    K steps θ_{k+1} = θ_k − lr·∇_θ L_follower(θ_k), lr = `unroll_lr` or the
    follower optimizer's first group lr; (c) the leader's loss is evaluated
    with the follower's parameters replaced by θ_K and differentiated through
    the unrolling (``second_order=True``: the total derivative, as in Metz et
    al.; ``False``: θ_K detached, the cheaper partial derivative), then the
    leader's optimizer steps. The fictitious passes run on copies of the
    buffers (BatchNorm statistics, spectral-norm vectors): the leader's during
    (b), the follower's during (b) and (c), so only the real updates change
    them. K+1 follower gradients and one leader gradient per step.

    On the bilinear game (leader x, follower y, SGD step η) the one-step map is
    [[1 − cη², −η], [η, 1]], c = 2K+1 (second order) or K+1 (first order).
    float16 is refused: the unrolled SGD steps would need their own loss scaling.
    """

    supports_loss_scaling = False

    def __init__(
        self,
        unroll_steps: int = 5,
        leader: str = "generator",
        follower: str = "discriminator",
        unroll_lr: float | None = None,
        second_order: bool = True,
    ) -> None:
        if unroll_steps < 1:
            raise ValueError(f"unroll_steps must be >= 1, got {unroll_steps}")
        if unroll_lr is not None and not unroll_lr > 0:
            raise ValueError(f"unroll_lr must be > 0 (or None for the follower's lr), got {unroll_lr}")
        if leader == follower:
            raise ValueError(f"leader and follower must be different players, both are {leader!r}")
        self.unroll_steps = unroll_steps
        self.leader = leader
        self.follower = follower
        self.unroll_lr = unroll_lr
        self.second_order = second_order

    def _check_players(self, game: Game) -> None:
        for role, name in (("leader", self.leader), ("follower", self.follower)):
            if name not in game.players:
                raise ValueError(
                    f"Unrolled {role} {name!r} is not a player of this game; players: {list(game.players)}"
                )
        others = set(game.players) - {self.leader, self.follower}
        if others:
            raise ValueError(f"Unrolled moves only its leader and follower; this game also has {sorted(others)}")

    def step(
        self, game: Game, optimizers: Mapping[str, Optimizer], next_batch: BatchSource, step: int
    ) -> StepResult:
        self._check_players(game)
        leader, follower = self.leader, self.follower
        result = StepResult()
        batch = next_batch()
        output = self.evaluate(game, batch, players=[follower], step=step)
        self.record(result, output, self.compute_gradients(game, output, [follower]))
        self.apply_updates(game, optimizers, [follower])

        lr = self.unroll_lr if self.unroll_lr is not None else optimizers[follower].param_groups[0]["lr"]
        if not lr > 0:
            raise ValueError(f"the unroll learning rate must be > 0, got {lr}; set unroll_lr")
        module = game.players[follower]
        names = _parameter_names(module, game.parameters(follower))
        with _scratch_buffers(module):
            with _scratch_buffers(game.players[leader]):
                thetas = self._unroll(game, names, batch, step, lr)
            # Not self.evaluate: a closure would re-evaluate against the real follower, not θ_K.
            with swapped_parameters(module, dict(zip(names, thetas, strict=True))):
                output = self.losses(game, batch, players=[leader], step=step)
        self.record(result, output, self.compute_gradients(game, output, [leader]))
        self.apply_updates(game, optimizers, [leader])
        return result

    def _unroll(self, game: Game, names: list[str], batch: object, step: int, lr: float) -> list[Tensor]:
        """θ_K after K SGD steps of the follower from its current parameters, with graph if second order."""
        module = game.players[self.follower]
        thetas = [p.detach().requires_grad_() for p in game.parameters(self.follower)]
        # The follower's loss must keep its dependence on the leader for the second-order term.
        players = [self.leader, self.follower] if self.second_order else [self.follower]
        for _ in range(self.unroll_steps):
            with swapped_parameters(module, dict(zip(names, thetas, strict=True))):
                loss = self.losses(game, batch, players=players, step=step).losses[self.follower]
            grads = torch.autograd.grad(loss, thetas, create_graph=self.second_order, allow_unused=True)
            thetas = [t if g is None else t - lr * g for t, g in zip(thetas, grads, strict=True)]
            if not self.second_order:
                thetas = [t.detach().requires_grad_() for t in thetas]
        return thetas
