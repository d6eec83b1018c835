"""Clean interruption: SIGINT/SIGTERM finish the current step, a checkpoint is written, the run says how to resume.

A second signal exits at once (status 130). Nothing is corrupted by that: every file gankit
writes is written to a temporary file and renamed, so each is either the old or the new one.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

from gankit.errors import GankitError
from gankit.train.trainer import Trainer

__all__ = ["TrainingInterrupted", "stop_on_signals"]

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class TrainingInterrupted(GankitError):
    """The run was stopped by a signal after a checkpoint was written."""


@contextmanager
def stop_on_signals(trainer: Trainer, request: Callable[[], None] | None = None) -> Iterator[list[str]]:
    """While inside, the first SIGINT/SIGTERM calls `request` (default: set `trainer.should_stop`; the step in
    progress completes) and its name is appended to the yielded list; a second one exits the process at
    once. Outside the main thread (where Python cannot install handlers) it does nothing."""
    received: list[str] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def handle(signum: int, frame: FrameType | None) -> None:
        if received:
            os._exit(128 + signum)
        received.append(signal.Signals(signum).name)
        if request is not None:
            request()
        else:
            trainer.should_stop = True

    previous = {sig: signal.signal(sig, handle) for sig in _SIGNALS}
    try:
        yield received
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
