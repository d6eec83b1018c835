"""M independent MLPs of one architecture as stacked parameters, run with batched matmuls.

Member m's layer k is the slice ``weights[k][m]`` (out, in) and ``biases[k][m]`` (out,): the same
tensors `nn.Linear` holds, so a member's weights go in and out as an ordinary state dict of
:class:`~gankit.nn.MLPGenerator` / :class:`~gankit.nn.MLPDiscriminator`. A forward on inputs
(M, N, in) is one ``torch.baddbmm`` per layer for all members at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils import parametrize

from gankit.errors import ConfigError
from gankit.nn import MLPDiscriminator, MLPGenerator

__all__ = ["StackedMLP"]


@dataclass
class StackedMLP:
    """Linear layers with an activation between them, one set of weights per member.

    `negative_slope` 0 is ReLU (the generator), 0.2 LeakyReLU (the discriminator). `squeeze` drops
    the last dimension of a one-unit output (the discriminator's logit).
    """

    weights: list[Tensor]  # (M, out, in), leaves with requires_grad
    biases: list[Tensor]  # (M, out)
    negative_slope: float
    squeeze: bool
    names: list[str]  # state-dict names of the parameters, in `parameters()` order

    @classmethod
    def from_modules(cls, modules: Sequence[nn.Module], device: torch.device) -> StackedMLP:
        """Stack the weights of same-shaped MLPGenerators or MLPDiscriminators (copies, not views)."""
        first = modules[0]
        if type(first) not in (MLPGenerator, MLPDiscriminator):
            raise ConfigError(
                f"gankit sweep vectorizes MLP players only, not {type(first).__name__}; set model.arch: mlp, or run "
                "these configs one by one with gankit train"
            )
        refuse_spectral_norm(first)
        linears = [[layer for layer in m.net if isinstance(layer, nn.Linear)] for m in modules]
        names = []
        for index, layer in enumerate(first.net):
            if isinstance(layer, nn.Linear):
                names += [f"net.{index}.weight", f"net.{index}.bias"]
        weights = [torch.stack([ls[k].weight.detach() for ls in linears]).to(device) for k in range(len(linears[0]))]
        biases = [torch.stack([ls[k].bias.detach() for ls in linears]).to(device) for k in range(len(linears[0]))]
        for tensor in (*weights, *biases):
            tensor.requires_grad_(True)
        slope = 0.2 if isinstance(first, MLPDiscriminator) else 0.0
        return cls(weights, biases, slope, isinstance(first, MLPDiscriminator), names)

    @property
    def members(self) -> int:
        return self.weights[0].shape[0]

    def parameters(self) -> list[Tensor]:
        """Stacked parameters in the member modules' `parameters()` order (weight, bias per layer)."""
        return [t for pair in zip(self.weights, self.biases, strict=True) for t in pair]

    def buffers(self) -> list[Tensor]:
        """An MLP keeps no buffers (the interface of `StackedConvNet`)."""
        return []

    def _activate(self, pre: Tensor) -> Tensor:
        if self.negative_slope == 0.0:
            return torch.relu(pre)
        return torch.nn.functional.leaky_relu(pre, self.negative_slope)

    def forward(self, x: Tensor, *, frozen: bool = False) -> Tensor:
        """Outputs (M, N, out) — (M, N) for a discriminator — of inputs (M, N, in).

        `frozen`: gradients reach the input only, not these weights (the generator's update through
        D: autograd would skip D's weight gradients there too, so this only saves their cost).
        """
        return self.forward_with_masks(x, frozen=frozen)[0]

    def forward_with_masks(self, x: Tensor, *, frozen: bool = False) -> tuple[Tensor, list[Tensor]]:
        """Outputs and, per hidden layer, the pre-activations (detached): what `input_gradient` needs."""
        pres = []
        h = x
        last = len(self.weights) - 1
        for k, (weight, bias) in enumerate(zip(self.weights, self.biases, strict=True)):
            if frozen:
                weight, bias = weight.detach(), bias.detach()
            h = _linear(h, weight, bias)
            if k < last:
                pres.append(h.detach())
                h = self._activate(h)
        return (h.squeeze(-1) if self.squeeze else h), pres

    def penalty_gradient(self, x: Tensor, pres: list[Tensor] | None = None) -> Tensor:
        """∇ₓ Σ D(x) per sample, (M, N, in), with the graph for a penalty; `pres` of a forward at x if at hand."""
        if pres is None:
            with torch.no_grad():
                _, pres = self.forward_with_masks(x)
        return self.input_gradient(pres)

    def input_gradient(self, pres: list[Tensor]) -> Tensor:
        """∇ₓ Σ D(x) per sample, (M, N, in), from the pre-activations of a forward at x.

        The activations are piecewise linear, so the gradient is the product of the weights and
        the activations' slopes at x; the slopes do not depend on the weights (their second
        derivative is 0), so differentiating this expression with respect to the weights gives
        exactly the double-backward gradient of an R1 or gradient penalty.
        """
        if not self.squeeze:
            raise ValueError("input_gradient is defined for a one-logit discriminator")
        ones = pres[0].new_ones(pres[0].shape[1], 1)
        # d logit / d h_last (M, N, hidden) as autograd forms it for one model: a ones-column times the
        # output weight row, per member (its weight gradient is then the same ones-row product, not a sum)
        v = torch.stack([ones.mm(w) for w in self.weights[-1].unbind(0)])
        for k in range(len(pres) - 1, -1, -1):
            # the activation's backward, the very op autograd runs for it
            v = torch.ops.aten.leaky_relu_backward(v, pres[k], self.negative_slope, False)
            v = torch.bmm(v, self.weights[k])
        return v

    def member_state(self, m: int) -> dict[str, Tensor]:
        """Member m's weights as the state dict of its MLP module."""
        params = self.parameters()
        return {name: p[m].detach().clone().cpu() for name, p in zip(self.names, params, strict=True)}

    def load_member(self, m: int, state: dict[str, Tensor]) -> None:
        """Overwrite member m's weights with a module state dict."""
        with torch.no_grad():
            for name, p in zip(self.names, self.parameters(), strict=True):
                p[m].copy_(state[name])

    def copy_(self, other: StackedMLP) -> None:
        """Set every weight to `other`'s (same shapes), without gradients."""
        with torch.no_grad():
            for mine, theirs in zip(self.parameters(), other.parameters(), strict=True):
                mine.copy_(theirs)

    def clone(self) -> StackedMLP:
        """A detached copy that does not require gradients (an EMA shadow)."""
        return StackedMLP(
            [w.detach().clone() for w in self.weights], [b.detach().clone() for b in self.biases],
            self.negative_slope, self.squeeze, list(self.names),
        )


def refuse_spectral_norm(module: nn.Module) -> None:
    """Raise ConfigError if `module` has spectrally normalized layers: stacking reads their weights directly."""
    if any(parametrize.is_parametrized(m) for m in module.modules()):
        raise ConfigError(
            "gankit sweep does not vectorize model.spectral_norm (its power iteration keeps per-layer state); "
            "set model.spectral_norm: false, or run these configs one by one with gankit train"
        )


def _linear(x: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
    """`F.linear` for every member: (M, N, in) -> (M, N, out) in one batched matmul.

    A one-unit output (the discriminator's logit) runs per member: batched matmul-vector
    products round differently from the matrix-vector product `F.linear` uses for a single
    model, and the cost of a one-unit layer is negligible.
    """
    if weight.shape[1] == 1:
        # unbind, not indexing: its backward stacks the members' gradients instead of zero-filling M copies
        return torch.stack([F.linear(*args) for args in zip(x.unbind(0), weight.unbind(0), bias.unbind(0))])
    return _BatchedLinear.apply(x, weight, bias)


class _BatchedLinear(torch.autograd.Function):
    """x @ Wᵀ + b per member, with the gradients computed as autograd computes them for `F.linear`.

    Autograd's `addmm` backward forms the weight gradient as gᵀ·x (the layout of `W`), where the
    generic batched-matmul backward forms (xᵀ·g)ᵀ; the two round differently for some shapes, so
    the weight gradient is written out here in the single-model form. First-order only: R1 and
    the gradient penalty differentiate `StackedMLP.input_gradient`, not this function's backward.
    """

    @staticmethod
    def forward(x: Tensor, weight: Tensor, bias: Tensor) -> Tensor:  # type: ignore[override]
        return torch.baddbmm(bias.unsqueeze(1), x, weight.transpose(1, 2))

    @staticmethod
    def setup_context(ctx, inputs, output) -> None:  # type: ignore[no-untyped-def]
        x, weight, _ = inputs
        ctx.save_for_backward(x, weight)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad: Tensor) -> tuple[Tensor | None, Tensor | None, Tensor | None]:  # type: ignore[override]
        x, weight = ctx.saved_tensors
        grad_x = torch.bmm(grad, weight) if ctx.needs_input_grad[0] else None
        grad_w = torch.bmm(grad.transpose(1, 2), x) if ctx.needs_input_grad[1] else None
        grad_b = grad.sum(1) if ctx.needs_input_grad[2] else None
        return grad_x, grad_w, grad_b
