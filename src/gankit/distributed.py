"""Data-parallel training on PyTorch's distributed engine: `torchrun` starts the processes, gloo (CPU) or
NCCL (CUDA) carries the collectives.

Every rank holds the same players (same seed, weights broadcast from rank 0 at the start), draws the
same *global* batch of `train.batch_size` from the same data order and keeps its own slice of it.
Per-sample random draws (latents, gradient-penalty mixing, InfoGAN codes) are made for the whole
global batch on every rank, each keeping its rows (:func:`per_sample`). Gradients are averaged over
ranks after each backward pass, before any optimizer sees them. So the union of the ranks' work is
the single-process step on the global batch, and the results match it up to float rounding.

gankit takes its gradients with `torch.autograd.grad` (each player differentiates only its own loss,
which simultaneous and extragradient updates need), which `DistributedDataParallel`'s backward hooks
do not see; the averaging is therefore one flattened `all_reduce` per player per gradient
evaluation, the same collective DDP issues, called explicitly.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor, nn

from gankit.errors import ConfigError

__all__ = [
    "Topology", "ShardedBatches", "average_gradients", "average_stats", "broadcast_players", "current",
    "any_rank", "init_from_env", "per_sample", "shutdown", "topology_from_env",
]


@dataclass(frozen=True)
class Topology:
    """Where this process stands: its rank among `world_size` processes and its rank on this machine."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        """The one process that writes the run directory, logs and checkpoints."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


_CURRENT = Topology()


def current() -> Topology:
    """This process's topology (a single process unless :func:`init_from_env` joined a group)."""
    return _CURRENT


def topology_from_env(environ: Mapping[str, str] = os.environ) -> Topology:
    """Read torchrun's RANK / WORLD_SIZE / LOCAL_RANK; a single process when they are absent."""
    try:
        return Topology(int(environ.get("RANK", 0)), int(environ.get("WORLD_SIZE", 1)), int(environ.get("LOCAL_RANK", 0)))
    except ValueError:
        raise ConfigError("RANK / WORLD_SIZE / LOCAL_RANK are not integers; start gankit with torchrun") from None


def init_from_env(device: torch.device) -> Topology:
    """Join the process group torchrun describes (gloo for CPU, NCCL for CUDA); no-op for one process."""
    global _CURRENT
    topology = topology_from_env()
    if not topology.distributed or dist.is_initialized():
        _CURRENT = topology
        return topology
    if device.type == "cuda":
        torch.cuda.set_device(device)
    try:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    except (ValueError, RuntimeError) as err:  # e.g. WORLD_SIZE set by hand without MASTER_ADDR/MASTER_PORT
        message = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ConfigError(
            f"could not join the process group of {topology.world_size} processes ({message}); start gankit "
            "with torchrun (or gankit train --nproc N), which sets RANK, WORLD_SIZE and MASTER_ADDR/PORT"
        ) from None
    _CURRENT = topology
    return topology


def shutdown() -> None:
    """Leave the process group (after the last collective)."""
    global _CURRENT
    if dist.is_initialized():
        dist.destroy_process_group()
    _CURRENT = Topology()


def local_device(name: str, topology: Topology) -> str:
    """Under several processes on a CUDA machine, each takes the GPU of its local rank."""
    if topology.distributed and name in ("auto", "cuda") and torch.cuda.is_available():
        return f"cuda:{topology.local_rank}"
    return name


def local_batch_size(global_batch: int, topology: Topology) -> int:
    """`train.batch_size` is the global batch; each rank's share, or a ConfigError when it does not divide."""
    if global_batch % topology.world_size:
        raise ConfigError(
            f"train.batch_size {global_batch} (the global batch) does not divide among {topology.world_size} "
            f"processes; use a multiple of {topology.world_size}"
        )
    return global_batch // topology.world_size


def per_sample(draw: Callable[[int], Tensor], n: int) -> Tensor:
    """`draw(n)` for this rank's `n` rows: under data parallelism every rank draws the global batch from
    the shared random stream and keeps its own rows, so together they draw what one process would."""
    topology = _CURRENT
    if not topology.distributed:
        return draw(n)
    return draw(n * topology.world_size)[topology.rank * n : (topology.rank + 1) * n]


def average_gradients(grads: Sequence[Tensor | None]) -> list[Tensor | None]:
    """The mean of `grads` over all ranks (one flattened all_reduce); unchanged for a single process."""
    if not _CURRENT.distributed:
        return list(grads)
    present = [g for g in grads if g is not None]
    if not present:
        return list(grads)
    flat = torch.cat([g.reshape(-1) for g in present])
    dist.all_reduce(flat)
    flat /= _CURRENT.world_size
    averaged = iter(flat.split([g.numel() for g in present]))
    return [None if g is None else next(averaged).view_as(g) for g in grads]


def average_stats(stats: dict[str, Tensor]) -> None:
    """Replace each statistic (a scalar tensor) by its mean over ranks, in place: one all_reduce."""
    if not _CURRENT.distributed or not stats:
        return
    names = sorted(stats)
    values = torch.stack([stats[name].detach().float().reshape(()) for name in names])
    dist.all_reduce(values)
    values /= _CURRENT.world_size
    for name, value in zip(names, values, strict=True):
        stats[name] = value


def any_rank(flag: bool, device: torch.device) -> bool:
    """True on every rank when `flag` is true on any rank (a stop request, a NaN), so all ranks act alike."""
    if not _CURRENT.distributed:
        return flag
    flag = torch.tensor([float(flag)], device=device)
    dist.all_reduce(flag, op=dist.ReduceOp.MAX)
    return bool(flag.item())


def broadcast_players(players: Mapping[str, nn.Module]) -> None:
    """Copy rank 0's weights and buffers to every rank (they are equal already when seeded alike)."""
    if not _CURRENT.distributed:
        return
    for module in players.values():
        for tensor in [*module.parameters(), *module.buffers()]:
            dist.broadcast(tensor.data, src=0)


class ShardedBatches:
    """This rank's slice of each global batch drawn by `batches` (which yields the global batch).

    Every rank iterates the same global order (same seed), so checkpoints of the data order are
    the same on all ranks; `state_dict` is the wrapped iterator's.
    """

    def __init__(self, batches: Iterator[Any], topology: Topology) -> None:
        self.batches = batches
        self.topology = topology

    def __iter__(self) -> ShardedBatches:
        return self

    def __next__(self) -> Any:
        return self._slice(next(self.batches))

    def _slice(self, batch: Any) -> Any:
        """This rank's rows of a tensor, or of every tensor in a (nested) mapping or sequence of them."""
        if isinstance(batch, Mapping):
            return {name: self._slice(part) for name, part in batch.items()}
        if isinstance(batch, (tuple, list)):
            return type(batch)(self._slice(part) for part in batch)
        n = len(batch) // self.topology.world_size
        return batch[self.topology.rank * n : (self.topology.rank + 1) * n]

    def state_dict(self) -> dict[str, Any]:
        return self.batches.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.batches.load_state_dict(state)
