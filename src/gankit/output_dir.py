"""A workflow's output directory (rebalance, integrate, invert): new or empty before the workflow starts, and
removed again if the workflow fails after creating it, so a failure never leaves half a result behind."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gankit.errors import ConfigError

__all__ = ["check_output_dir", "removed_on_failure"]


def check_output_dir(out: Path) -> None:
    """ConfigError unless `out` is missing or an empty directory (nothing in it may be overwritten)."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConfigError(f"--out {out} already exists and is not an empty directory; choose a new one "
                          "so nothing in it is overwritten")


@contextmanager
def removed_on_failure(out: Path) -> Iterator[None]:
    """If the block fails (any exception, interrupts included), remove `out` when it did not exist before, or
    empty it again when it was an empty directory."""
    fresh = not out.exists()
    try:
        yield
    except BaseException:
        if fresh:
            shutil.rmtree(out, ignore_errors=True)
        elif out.is_dir():
            for child in out.iterdir():
                shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
        raise
