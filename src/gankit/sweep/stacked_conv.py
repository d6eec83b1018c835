"""M independent DCGANs of one architecture as grouped convolutions.

Member m's tensors are the slices ``[m]`` of stacked leaves: a conv weight (M, out, in, k, k), a
BatchNorm weight or running mean (M, C). A forward lays the members' images side by side along the
channel axis, (N, M·C, H, W), and runs every layer once for all of them: a convolution with
``groups=M`` convolves each member's channels with that member's kernels only, and BatchNorm over
M·C channels keeps each member's statistics apart (they are per channel). Members never mix, so a
member computes what its own DCGAN module computes, up to the rounding of the grouped kernels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gankit.errors import ConfigError
from gankit.nn import DCGANDiscriminator, DCGANGenerator
from gankit.sweep.stacked import refuse_spectral_norm

__all__ = ["StackedConvNet"]


@dataclass
class _Layer:
    """One layer of the members' `net` Sequential, stacked: its kind, tensors and settings."""

    kind: str  # conv, conv_transpose, batch_norm, relu, leaky_relu, tanh
    params: dict[str, Tensor] = field(default_factory=dict)  # weight/bias, (M, ...) leaves
    buffers: dict[str, Tensor] = field(default_factory=dict)  # running_mean/var (M, C); num_batches_tracked ()
    stride: int = 1
    padding: int = 0
    negative_slope: float = 0.0
    momentum: float = 0.1
    eps: float = 1e-5


def _stack_layer(layers: Sequence[nn.Module], device: torch.device) -> _Layer:
    """The same layer of every member, stacked (copies)."""
    first = layers[0]

    def stacked(name: str) -> Tensor:
        return torch.stack([getattr(layer, name).detach() for layer in layers]).to(device)

    if isinstance(first, (nn.Conv2d, nn.ConvTranspose2d)):
        params = {"weight": stacked("weight")}
        if first.bias is not None:
            params["bias"] = stacked("bias")
        kind = "conv" if isinstance(first, nn.Conv2d) else "conv_transpose"
        return _Layer(kind, params, stride=first.stride[0], padding=first.padding[0])
    if isinstance(first, nn.BatchNorm2d):
        buffers = {"running_mean": stacked("running_mean"), "running_var": stacked("running_var"),
                   "num_batches_tracked": first.num_batches_tracked.detach().clone().to(device)}
        return _Layer("batch_norm", {"weight": stacked("weight"), "bias": stacked("bias")}, buffers,
                      momentum=first.momentum, eps=first.eps)
    if isinstance(first, nn.LeakyReLU):
        return _Layer("leaky_relu", negative_slope=first.negative_slope)
    if isinstance(first, (nn.ReLU, nn.Tanh)):
        return _Layer(type(first).__name__.lower())
    raise ConfigError(f"gankit sweep cannot stack a {type(first).__name__} layer of a DCGAN")


@dataclass
class StackedConvNet:
    """The `net` of M same-shaped DCGANGenerators or DCGANDiscriminators, run as grouped convolutions.

    A generator maps latents (M, N, latent_dim) to images (M, N, C, H, W); a discriminator maps
    images (M, N, C, H, W) to logits (M, N). Its state dicts are those of the member modules.
    """

    layers: list[_Layer]
    is_discriminator: bool

    @classmethod
    def from_modules(cls, modules: Sequence[nn.Module], device: torch.device) -> StackedConvNet:
        """Stack the weights and BatchNorm statistics of same-shaped DCGAN players."""
        first = modules[0]
        if type(first) not in (DCGANGenerator, DCGANDiscriminator):
            raise ConfigError(f"StackedConvNet stacks DCGAN players, not {type(first).__name__}")
        refuse_spectral_norm(first)
        layers = [_stack_layer([m.net[i] for m in modules], device) for i in range(len(first.net))]
        for layer in layers:
            for tensor in layer.params.values():
                tensor.requires_grad_(True)
        return cls(layers, isinstance(first, DCGANDiscriminator))

    @property
    def members(self) -> int:
        return next(iter(self.layers[0].params.values())).shape[0]

    def parameters(self) -> list[Tensor]:
        """Stacked parameters in the member modules' `parameters()` order."""
        return [t for layer in self.layers for t in layer.params.values()]

    def buffers(self) -> list[Tensor]:
        """Stacked BatchNorm buffers in the member modules' `buffers()` order."""
        return [t for layer in self.layers for t in layer.buffers.values()]

    def _names(self) -> list[tuple[str, Tensor, bool]]:
        """(state-dict name, stacked tensor, stacked per member?) in state-dict order."""
        named = []
        for index, layer in enumerate(self.layers):
            named += [(f"net.{index}.{key}", t, True) for key, t in layer.params.items()]
            named += [(f"net.{index}.{key}", t, key != "num_batches_tracked") for key, t in layer.buffers.items()]
        return named

    def forward(self, x: Tensor, *, frozen: bool = False) -> Tensor:
        """Outputs of every member on its own inputs, in training mode (BatchNorm on batch statistics).

        `frozen` is accepted for the MLP engine's interface: autograd computes only the gradients
        asked for, so D's weight gradients are skipped in the generator's update anyway. Members are
        sampled in eval mode through their own modules (`StackedGAN.member_generator`).
        """
        m = self.members
        n = x.shape[1]
        spatial = x.shape[3:] if self.is_discriminator else (1, 1)  # a latent vector is a 1×1 map
        h = x.transpose(0, 1).reshape(n, -1, *spatial)
        for layer in self.layers:
            h = _apply(layer, h, m)
        if self.is_discriminator:
            return h.reshape(n, m).t()
        return h.reshape(n, m, -1, *h.shape[2:]).transpose(0, 1)

    def forward_with_masks(self, x: Tensor, *, frozen: bool = False) -> tuple[Tensor, None]:
        """The MLP engine's interface: outputs, and no activation masks (penalties use autograd here)."""
        return self.forward(x, frozen=frozen), None

    def penalty_gradient(self, x: Tensor, masks: None = None) -> Tensor:
        """∇ₓ Σ D(x) per sample, flattened to (M, N, C·H·W), with the graph for a penalty's backward.

        A fresh forward at a detached copy of `x`, as `gankit.penalties` runs for one model (BatchNorm
        statistics, and running statistics, of that batch included).
        """
        x = x.detach().clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(self.forward(x).sum(), x, create_graph=True)
        return grad.flatten(2)

    def member_state(self, m: int) -> dict[str, Tensor]:
        """Member m's weights and BatchNorm statistics as the state dict of its DCGAN module."""
        return {name: (t[m] if per_member else t).detach().clone().cpu() for name, t, per_member in self._names()}

    def load_member(self, m: int, state: dict[str, Tensor]) -> None:
        """Overwrite member m's weights and statistics with a module state dict (shared counters excepted)."""
        with torch.no_grad():
            for name, t, per_member in self._names():
                if per_member:
                    t[m].copy_(state[name])

    def clone(self) -> StackedConvNet:
        """A detached copy that does not require gradients (an EMA shadow)."""
        layers = [_Layer(layer.kind, {k: t.detach().clone() for k, t in layer.params.items()},
                         {k: t.clone() for k, t in layer.buffers.items()}, layer.stride, layer.padding,
                         layer.negative_slope, layer.momentum, layer.eps) for layer in self.layers]
        return StackedConvNet(layers, self.is_discriminator)


def _apply(layer: _Layer, h: Tensor, members: int) -> Tensor:
    """One stacked layer on channels laid out member by member, (N, M·C, H, W)."""
    p = layer.params
    bias = p["bias"].flatten() if "bias" in p else None
    if layer.kind in ("conv", "conv_transpose") and _is_dense(layer, h):
        return _dense(layer, h, members)
    if layer.kind in ("conv", "conv_transpose"):
        h = h.contiguous(memory_format=torch.channels_last)  # measured faster for grouped kernels on a CPU
    if layer.kind == "conv":
        return F.conv2d(h, p["weight"].flatten(0, 1), bias, layer.stride, layer.padding, groups=members)
    if layer.kind == "conv_transpose":
        return F.conv_transpose2d(h, p["weight"].flatten(0, 1), bias, layer.stride, layer.padding, groups=members)
    if layer.kind == "batch_norm":
        b = layer.buffers
        b["num_batches_tracked"].add_(1)
        # flatten() of the contiguous (M, C) buffers is a view: batch_norm updates them in place
        return F.batch_norm(h, b["running_mean"].flatten(), b["running_var"].flatten(), p["weight"].flatten(),
                            bias, True, layer.momentum, layer.eps)
    if layer.kind == "leaky_relu":
        return F.leaky_relu(h, layer.negative_slope)
    if layer.kind == "relu":
        return torch.relu(h)
    return torch.tanh(h)


def _is_dense(layer: _Layer, h: Tensor) -> bool:
    """A convolution that is a fully connected layer: the generator's first (1×1 input) or D's last (kernel = input)."""
    k = layer.params["weight"].shape[-1]
    if layer.padding != 0 or layer.stride != 1:
        return False
    return h.shape[-1] == 1 if layer.kind == "conv_transpose" else h.shape[-1] == k


def _dense(layer: _Layer, h: Tensor, members: int) -> Tensor:
    """Such a layer as one batched matrix product per member, far cheaper on a CPU than a grouped convolution."""
    n = h.shape[0]
    weight = layer.params["weight"]  # conv (M, out, in, k, k); transposed conv (M, in, out, k, k)
    x = h.reshape(n, members, -1).transpose(0, 1)  # (M, N, in·k·k) or (M, N, in)
    if layer.kind == "conv":
        out = torch.bmm(x, weight.flatten(2).transpose(1, 2))  # (M, N, out)
        shape = (n, -1, 1, 1)
    else:
        out = torch.bmm(x, weight.flatten(2))  # (M, N, out·k·k)
        shape = (n, -1, weight.shape[-2], weight.shape[-1])
    if "bias" in layer.params:
        bias = layer.params["bias"]  # (M, out)
        out = out + (bias if layer.kind == "conv" else bias.repeat_interleave(weight.shape[-1] ** 2, dim=1))[:, None]
    return out.transpose(0, 1).reshape(shape)
