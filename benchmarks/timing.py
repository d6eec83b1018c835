"""What the benchmark scripts share: the machine line of their headers and alternating timed repeats."""

from __future__ import annotations

import os
import platform
import statistics
from collections.abc import Callable, Mapping


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (or what platform knows)."""
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or "unknown"


def machine_line() -> str:
    """`machine: x86_64 | AMD EPYC | nproc 2 | load average 1.07 2.10 2.48`."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = " | load average " + " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else ""
    return f"machine: {platform.machine()} | {cpu_model()} | nproc {cores}{load}"


def alternating_medians(
    sides: Mapping[str, Callable[[], float]], repeats: int
) -> tuple[dict[str, list[float]], dict[str, float]]:
    """Call each side's rate function in turn, `repeats` rounds (A, B, A, B, ...), so load that comes and goes
    falls on both sides alike; returns every rate per side and each side's median."""
    rates: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(repeats):
        for name, rate in sides.items():
            rates[name].append(rate())
    return rates, {name: statistics.median(values) for name, values in rates.items()}


def print_rates(rates: Mapping[str, list[float]], median: Mapping[str, float], unit: str, digits: int = 2) -> None:
    """One line per side: its median rate and every repeat."""
    width = max(map(len, rates))
    for name, values in rates.items():
        spread = ", ".join(f"{r:.{digits}f}" for r in values)
        print(f"{name:>{width}}: {median[name]:8.{digits}f} {unit} (median; repeats {spread})")


def print_ratio(label: str, ratio: float, target: float | None, digits: int = 3) -> None:
    """`ratio A/B: 0.978 (target >= 0.95) PASS`, or the bare ratio without a target (never fatal: these
    machines are shared and noisy)."""
    if target is None:
        print(f"ratio {label}: {ratio:.{digits}f} (no target)")
        return
    verdict = "PASS" if ratio >= target else "BELOW TARGET"
    print(f"ratio {label}: {ratio:.{digits}f} (target >= {target}) {verdict}")
