"""Saving and loading checkpoints: atomic writes, safe loads (weights_only), checksums, clear errors.

A checkpoint is one `torch.save` file holding only tensors, numbers, strings and containers of
them, so `torch.load(weights_only=True)` reads it without unpickling code. It carries the
format number, the gankit version that wrote it, and a SHA-256 digest of everything else: a
truncated or bit-flipped file is refused instead of loading damaged weights.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import torch
from torch import nn

from gankit.atomic import atomic_torch_save
from gankit.errors import CheckpointError

__all__ = ["save_checkpoint", "load_checkpoint", "state_digest", "describe_mismatch", "load_module_state",
           "CHECKPOINT_FORMAT"]

CHECKPOINT_FORMAT = 2
_HEADER = ("format", "gankit_version", "digest")


def _gankit_version() -> str:
    try:
        return version("gankit")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


def save_checkpoint(state: dict[str, Any], path: str | Path) -> None:
    """Write `state` (tensors, numbers, strings, containers of them) atomically to `path`, with its digest."""
    atomic_torch_save(
        {"format": CHECKPOINT_FORMAT, "gankit_version": _gankit_version(), "digest": state_digest(state), **state},
        path,
    )


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint written by :func:`save_checkpoint`; never unpickles arbitrary objects.

    Raises CheckpointError for a missing, unreadable, unsafe, damaged or other-format file.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # torch raises many types for corrupt or unsafe files
        if "Unsupported global" in str(err):
            raise CheckpointError(
                f"{path} holds Python objects that loading would have to unpickle (arbitrary code); gankit refuses "
                "it. Save plain tensors and numbers (gankit writes only those)"
            ) from None
        raise CheckpointError(
            f"cannot read checkpoint {path} ({type(err).__name__}); it is truncated, corrupt or not a gankit "
            "checkpoint: resume from an older one (delete this file) or retrain"
        ) from None
    if not isinstance(state, dict) or "format" not in state:
        raise CheckpointError(f"{path} is not a gankit checkpoint (no format field)")
    if state["format"] != CHECKPOINT_FORMAT:
        raise CheckpointError(
            f"{path} is checkpoint format {state['format']!r} (written by gankit {state.get('gankit_version', '< 0.1')}); "
            f"this gankit {_gankit_version()} reads format {CHECKPOINT_FORMAT}: load it with the version that wrote it"
        )
    body = {key: value for key, value in state.items() if key not in _HEADER}
    if state.get("digest") != state_digest(body):
        raise CheckpointError(
            f"{path} is damaged: its contents do not match the digest written with them (bit flip or partial "
            "copy); resume from an older checkpoint (delete this file) or retrain"
        )
    return body


def state_digest(state: Any) -> str:
    """SHA-256 over a nested structure of tensors, numbers, strings, lists, tuples and dicts, in order."""
    digest = hashlib.sha256()
    _feed(digest, state)
    return digest.hexdigest()


def _feed(digest: Any, value: Any) -> None:
    if isinstance(value, torch.Tensor):
        tensor = value.detach().cpu().contiguous()
        digest.update(f"T{tensor.dtype}{tuple(tensor.shape)}".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes() if tensor.numel() else b"")
    elif isinstance(value, Mapping):
        digest.update(f"D{len(value)}".encode())
        for key, item in value.items():
            _feed(digest, key)
            _feed(digest, item)
    elif isinstance(value, (list, tuple)):
        digest.update(f"{type(value).__name__[0]}{len(value)}".encode())
        for item in value:
            _feed(digest, item)
    else:
        digest.update(f"S{type(value).__name__}:{value!r};".encode())


def describe_mismatch(module: nn.Module, saved: Mapping[str, Any]) -> str | None:
    """What keeps `saved` from loading into `module`: missing/unexpected keys and shape mismatches (None: it fits)."""
    expected = module.state_dict()
    missing = [key for key in expected if key not in saved]
    unexpected = [key for key in saved if key not in expected]
    shapes = [
        f"{key} saved {tuple(saved[key].shape)} vs model {tuple(value.shape)}"
        for key, value in expected.items()
        if key in saved and isinstance(saved[key], torch.Tensor) and saved[key].shape != value.shape
    ]
    parts = [f"{label}: {_first(items)}" for label, items in
             (("missing keys", missing), ("unexpected keys", unexpected), ("shape mismatches", shapes)) if items]
    return "; ".join(parts) or None


def load_module_state(module: nn.Module, saved: Mapping[str, Any], what: str, fix: str) -> None:
    """`module.load_state_dict(saved)`, or one CheckpointError naming `what`, what differs and `fix`."""
    problem = describe_mismatch(module, saved)
    if problem is not None:
        raise CheckpointError(f"{what} does not fit the model built from the config ({problem}); {fix}")
    module.load_state_dict(saved)


def _first(items: list[str], shown: int = 3) -> str:
    more = f" (+{len(items) - shown} more)" if len(items) > shown else ""
    return ", ".join(items[:shown]) + more
