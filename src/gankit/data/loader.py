"""Endless, reproducible, resumable iterators of shuffled mini-batches from in-memory tensors.

A source is one tensor (batches are tensors) or a mapping of aligned tensors by name (batches are
dicts with the same names: images, labels, conditions, paired inputs and targets). Two or more
independently shuffled streams (a source domain and a target domain) are zipped by
:class:`ZippedBatches`. Every iterator has a `state_dict` that continues it exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from gankit.errors import DataError

__all__ = ["InfiniteBatches", "ZippedBatches"]

Batch = torch.Tensor | dict[str, torch.Tensor]


class InfiniteBatches:
    """Yield shuffled full batches forever; each epoch is a fresh permutation from a generator seeded once.

    `data` is a tensor, or a mapping of tensors with as many rows each, shuffled together (row i of
    every tensor stays with row i of the others). Only full batches are produced (the last partial
    batch of an epoch is dropped). The data are moved to `device` once when they fit in half its free
    memory, else kept in pinned host memory and copied a batch at a time. Drawing a batch never waits
    for the device: each epoch's order is copied to it once.
    """

    def __init__(
        self, data: torch.Tensor | Mapping[str, torch.Tensor], batch_size: int, seed: int,
        device: torch.device | str = "cpu",
    ) -> None:
        tensors = {"": data} if isinstance(data, torch.Tensor) else dict(data)
        if not tensors:
            raise DataError("no tensors to draw batches from; pass a tensor or a mapping of named tensors")
        self._named = not isinstance(data, torch.Tensor)
        num_samples = len(next(iter(tensors.values())))
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise DataError(f"batch_size must be a positive integer, got {batch_size!r}")
        if batch_size > num_samples:
            raise DataError(
                f"batch_size {batch_size} is larger than the data set, which has only {num_samples} samples; "
                f"lower batch_size to at most {num_samples}"
            )
        for name, tensor in tensors.items():
            if len(tensor) != num_samples:
                first = next(iter(tensors))
                raise DataError(f"got {len(tensor)} rows of {name!r} for {num_samples} rows of {first!r}; "
                                "pass one row of every tensor per sample")
        self.batch_size = batch_size
        self.device = torch.device(device)
        home = self.device if _fits_on(self.device, tensors.values()) else torch.device("cpu")
        pin = home.type == "cpu" and self.device.type == "cuda"
        self._tensors = {name: _placed(tensor, home, pin) for name, tensor in tensors.items()}
        self._home = home
        self._generator = torch.Generator().manual_seed(seed)
        self._epoch = 0
        self._position = 0
        self._set_permutation(torch.randperm(num_samples, generator=self._generator))

    def __iter__(self) -> InfiniteBatches:
        return self

    def __next__(self) -> Batch:
        if self._position + self.batch_size > len(self._permutation):
            self._epoch += 1
            self._position = 0
            self._set_permutation(torch.randperm(len(self._permutation), generator=self._generator))
        indices = self._indices[self._position : self._position + self.batch_size]
        self._position += self.batch_size
        batch = {name: t[indices].to(self.device, non_blocking=True) for name, t in self._tensors.items()}
        return batch if self._named else batch[""]

    def _set_permutation(self, permutation: torch.Tensor) -> None:
        """The epoch's order on the host (for checkpoints) and where the data lives (for indexing)."""
        self._permutation = permutation
        self._indices = permutation.to(self._home)

    def state_dict(self) -> dict[str, int | torch.Tensor]:
        """Everything needed to continue exactly where this iterator is; only ints and tensors."""
        return {
            "epoch": self._epoch,
            "position": self._position,
            "batch_size": self.batch_size,
            "generator": self._generator.get_state(),
            "permutation": self._permutation.clone(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Continue from a `state_dict()` taken on an iterator over the same data with the same batch size."""
        expected = {"epoch", "position", "batch_size", "generator", "permutation"}
        if set(state) != expected:
            raise DataError(
                f"batch-iterator state has keys {sorted(state)}, expected {sorted(expected)}; "
                "pass a dict made by InfiniteBatches.state_dict()"
            )
        permutation = state["permutation"]
        if len(permutation) != len(self._permutation) or state["batch_size"] != self.batch_size:
            raise DataError(
                f"batch-iterator state is for {len(permutation)} samples in batches of {state['batch_size']}, "
                f"but this iterator has {len(self._permutation)} samples in batches of {self.batch_size}; "
                "resume with the same data and batch_size"
            )
        self._generator.set_state(state["generator"].cpu())
        self._epoch = int(state["epoch"])
        self._position = int(state["position"])
        self._set_permutation(permutation.clone().cpu())


class ZippedBatches:
    """Draw one batch from each named stream per step: `{stream: batch}` (e.g. `source` and `target` domains).

    The streams are shuffled independently (give them different seeds) and may hold different numbers
    of samples; each wraps around on its own. `state_dict` holds every stream's state by name.
    """

    def __init__(self, streams: Mapping[str, InfiniteBatches]) -> None:
        if len(streams) < 2:
            raise DataError(f"zip needs at least two streams, got {len(streams)}")
        self.streams = dict(streams)

    def __iter__(self) -> ZippedBatches:
        return self

    def __next__(self) -> dict[str, Batch]:
        return {name: next(stream) for name, stream in self.streams.items()}

    def state_dict(self) -> dict[str, dict[str, int | torch.Tensor]]:
        return {name: stream.state_dict() for name, stream in self.streams.items()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        if set(state) != set(self.streams):
            raise DataError(f"zipped-batch state holds streams {sorted(state)}, this iterator has "
                            f"{sorted(self.streams)}; resume with the same data streams")
        for name, stream in self.streams.items():
            stream.load_state_dict(state[name])


def _fits_on(device: torch.device, tensors: Any) -> bool:
    """Whether the data set takes at most half the device's free memory (always true off CUDA)."""
    if device.type != "cuda":
        return True
    size = sum(t.numel() * t.element_size() for t in tensors)
    free, _ = torch.cuda.mem_get_info(device)
    return size <= free // 2


def _placed(tensor: torch.Tensor, home: torch.device, pin: bool) -> torch.Tensor:
    tensor = tensor.to(home)
    return tensor.pin_memory() if pin else tensor
