"""An endless, reproducible, resumable iterator of shuffled mini-batches from an in-memory tensor."""

from __future__ import annotations

import torch

from gankit.errors import DataError


class InfiniteBatches:
    """Yield shuffled full batches forever; each epoch is a fresh permutation from a generator seeded once.

    Only full batches are produced (the last partial batch of an epoch is dropped). The data (and labels)
    are moved to `device` once when they fit in half its free memory, else kept in pinned host memory
    and copied a batch at a time; `next()` returns a batch, or `(x, y)` when labels were given. Drawing
    a batch never waits for the device: each epoch's order is copied to it once.
    """

    def __init__(
        self,
        data: torch.Tensor,
        batch_size: int,
        seed: int,
        device: torch.device | str = "cpu",
        labels: torch.Tensor | None = None,
    ) -> None:
        num_samples = len(data)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise DataError(f"batch_size must be a positive integer, got {batch_size!r}")
        if batch_size > num_samples:
            raise DataError(
                f"batch_size {batch_size} is larger than the data set, which has only {num_samples} samples; "
                f"lower batch_size to at most {num_samples}"
            )
        if labels is not None and len(labels) != num_samples:
            raise DataError(f"got {len(labels)} labels for {num_samples} samples; pass one label per sample")
        self.batch_size = batch_size
        self.device = torch.device(device)
        home = self.device if _fits_on(self.device, data, labels) else torch.device("cpu")
        pin = home.type == "cpu" and self.device.type == "cuda"
        self._data = _placed(data, home, pin)
        self._labels = None if labels is None else _placed(labels, home, pin)
        self._generator = torch.Generator().manual_seed(seed)
        self._epoch = 0
        self._position = 0
        self._set_permutation(torch.randperm(num_samples, generator=self._generator))

    def __iter__(self) -> InfiniteBatches:
        return self

    def __next__(self) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        if self._position + self.batch_size > len(self._permutation):
            self._epoch += 1
            self._position = 0
            self._set_permutation(torch.randperm(len(self._permutation), generator=self._generator))
        indices = self._indices[self._position : self._position + self.batch_size]
        self._position += self.batch_size
        batch = self._data[indices].to(self.device, non_blocking=True)
        if self._labels is None:
            return batch
        return batch, self._labels[indices].to(self.device, non_blocking=True)

    def _set_permutation(self, permutation: torch.Tensor) -> None:
        """The epoch's order on the host (for checkpoints) and where the data lives (for indexing)."""
        self._permutation = permutation
        self._indices = permutation.to(self._data.device)

    def state_dict(self) -> dict[str, int | torch.Tensor]:
        """Everything needed to continue exactly where this iterator is; only ints and tensors."""
        return {
            "epoch": self._epoch,
            "position": self._position,
            "batch_size": self.batch_size,
            "generator": self._generator.get_state(),
            "permutation": self._permutation.clone(),
        }

    def load_state_dict(self, state: dict[str, int | torch.Tensor]) -> None:
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


def _fits_on(device: torch.device, data: torch.Tensor, labels: torch.Tensor | None) -> bool:
    """Whether the data set takes at most half the device's free memory (always true off CUDA)."""
    if device.type != "cuda":
        return True
    size = data.numel() * data.element_size() + (0 if labels is None else labels.numel() * labels.element_size())
    free, _ = torch.cuda.mem_get_info(device)
    return size <= free // 2


def _placed(tensor: torch.Tensor, home: torch.device, pin: bool) -> torch.Tensor:
    tensor = tensor.to(home)
    return tensor.pin_memory() if pin else tensor
