"""Saving and loading checkpoints: atomic writes, safe loads (weights_only), clear errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from gankit.atomic import atomic_torch_save
from gankit.errors import CheckpointError

__all__ = ["save_checkpoint", "load_checkpoint", "CHECKPOINT_FORMAT"]

CHECKPOINT_FORMAT = 1


def save_checkpoint(state: dict[str, Any], path: str | Path) -> None:
    """Write `state` (tensors, numbers, strings, containers of them) atomically to `path`."""
    atomic_torch_save({"format": CHECKPOINT_FORMAT, **state}, path)


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint written by :func:`save_checkpoint`; never unpickles arbitrary objects."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # torch raises many types for corrupt or unsafe files
        raise CheckpointError(f"cannot read checkpoint {path} ({type(err).__name__}); it is corrupt or not a gankit checkpoint") from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path} is not a gankit checkpoint of format {CHECKPOINT_FORMAT}")
    return state
