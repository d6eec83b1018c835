"""Shared by the tests that run `gankit train` as a real process and signal it."""

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path


def start_gankit(*args: str) -> subprocess.Popen:
    """`python -m gankit ARGS` in the background, one thread (the cores are shared), stderr captured."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-m", "gankit", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, env=env)


def wait_until(condition: Callable[[], bool], timeout: float = 120.0) -> None:
    """Poll `condition` every 20 ms until it holds; fail the test if it never does."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the training process never got that far"
        time.sleep(0.02)


def logged_rows(metrics: Path) -> int:
    """Rows written to a metrics.csv so far (0 before it exists)."""
    return len(metrics.read_text().splitlines()) - 1 if metrics.exists() else 0
