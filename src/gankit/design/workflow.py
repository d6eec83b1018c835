"""`gankit design RUN --target 0.2,0.35 -n 1000 --out DIR`: textures of each target friction from a trained design
run, each checked with the contact model, only feasible ones returned, beside random search and gradient descent
given the same number of physics evaluations.

    DIR/designs.csv    the generator's returned designs: target, amplitude, wavelength, friction, peak pressure, hit
    DIR/design.json    settings, the reachable range and one row per target and method (gankit.design.evaluate)
    DIR/table.md       the same rows in Markdown
    DIR/designs.png    per target: the designs of each method in the (λ, A) plane over the feasible solutions
"""

from __future__ import annotations

import csv
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from gankit.atomic import atomic_write_text
from gankit.design.baselines import gradient_descent, random_search
from gankit.design.evaluate import score_designs
from gankit.errors import ConfigError
from gankit.output_dir import check_output_dir, removed_on_failure

__all__ = ["DesignResult", "design", "parse_targets"]

METHODS = ("gankit", "random_search", "gradient_descent")


@dataclass
class DesignResult:
    """Where the outputs went, the table rows and the Markdown table."""

    out: Path
    rows: list[dict[str, Any]]
    table: str


def parse_targets(text: str, reachable: tuple[float, float]) -> list[float]:
    """'0.2,0.35' -> [0.2, 0.35]; ConfigError for a malformed list or a target outside the reachable range."""
    try:
        targets = [float(part) for part in text.split(",")]
    except ValueError:
        raise ConfigError(f"--target {text!r} is not a comma-separated list of frictions, e.g. 0.2,0.35") from None
    low, high = reachable
    for target in targets:
        if not low <= target <= high:
            raise ConfigError(f"--target {target} is outside what any feasible texture reaches under this run's "
                              f"load and hardness: choose friction coefficients in [{low:.4g}, {high:.4g}]")
    return targets


def design(run_dir: str | Path, *, targets: str | None, n: int = 1000, out: str | Path, seed: int = 0,
           tolerance: float | None = None) -> DesignResult:
    """Propose `n` textures per target with a design run's generator and with each baseline, or `n` circuits with
    a circuits run's (gankit.design.circuit_workflow); write the outputs."""
    from gankit.kinds.design import physics_term, propose, restore_design
    from gankit.runs import restore_run

    out = Path(out)
    check_output_dir(out)
    if n < 1:
        raise ConfigError(f"-n {n}; choose a positive number of designs per target")
    run = restore_run(run_dir)
    if run.config.game == "circuits":
        from gankit.design.circuit_workflow import design_circuits

        if targets is not None:
            raise ConfigError("--target sets frictions of a texture design run; a circuits run takes none")
        with removed_on_failure(out):
            out.mkdir(parents=True, exist_ok=True)
            return DesignResult(out, *design_circuits(run, run_dir, n=n, out=out, seed=seed))
    if run.config.game != "design":
        raise ConfigError(f"{run_dir} is a {run.config.game!r} run; gankit design needs a design run "
                          "(gankit train friction_design) or a circuits run (gankit train circuits)")
    if targets is None:
        raise ConfigError("a texture design run needs --target, the frictions to design for, e.g. --target 0.2,0.35")
    prior = restore_design(run.config)
    wanted = parse_targets(targets, prior.reachable)
    tolerance = run.config.design.tolerance if tolerance is None else tolerance
    if tolerance <= 0:
        raise ConfigError(f"--tolerance {tolerance}; choose a friction difference > 0")
    generator = run.players["generator"]
    physics = physics_term(run.config, prior)
    with removed_on_failure(out):
        out.mkdir(parents=True, exist_ok=True)
        rows, kept, shown = [], [], {}
        for i, target in enumerate(wanted):
            methods = {
                "gankit": lambda: propose(generator, prior, target, n, seed + i),
                "random_search": lambda: random_search(prior.space, n, seed + i),
                "gradient_descent": lambda: gradient_descent(physics, target, n, seed + i),
            }
            for method, make in methods.items():
                started = time.perf_counter()
                amplitude, wavelength = make()
                seconds = time.perf_counter() - started
                scores, returned = score_designs(prior.space, amplitude, wavelength, target, tolerance)
                rows.append({"method": method} | scores.as_dict() | {
                    "seconds": seconds, "proposals_per_second": len(amplitude) / seconds,
                    "hits_per_second": scores.returned * scores.hit_rate / seconds})
                shown[(target, method)] = (amplitude[returned], wavelength[returned])
                if method == "gankit":
                    kept.append(_design_rows(prior.space, target, tolerance, amplitude[returned], wavelength[returned]))
        _write_designs(out / "designs.csv", [row for part in kept for row in part])
        table = _table(rows)
        settings = {"run": str(run_dir), "targets": wanted, "n": n, "seed": seed, "tolerance": tolerance,
                    "reachable": list(prior.reachable), "rows": rows}
        atomic_write_text(out / "design.json", json.dumps(settings, indent=2) + "\n")
        atomic_write_text(out / "table.md", table)
        from gankit.design.figures import designs_figure

        designs_figure(prior.space, shown, tolerance, out / "designs.png")
        return DesignResult(out, rows, table)


def _design_rows(space: Any, target: float, tolerance: float, amplitude: Tensor,
                 wavelength: Tensor) -> list[dict[str, float]]:
    friction = space.model.friction(amplitude, wavelength)
    peak = space.model.peak_pressure(amplitude, wavelength)
    return [{"target": target, "amplitude": float(a), "wavelength": float(w), "friction": float(mu),
             "peak_pressure": float(p), "hit": bool(abs(float(mu) - target) <= tolerance)}
            for a, w, mu, p in zip(amplitude, wavelength, friction, peak)]


def _write_designs(path: Path, rows: list[dict[str, float]]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, ["target", "amplitude", "wavelength", "friction", "peak_pressure", "hit"])
        writer.writeheader()
        writer.writerows(rows)


def _table(rows: list[dict[str, Any]]) -> str:
    lines = ["| target μ* | method | proposed | returned (feasible) | hit rate | coverage | proposals/s | hits/s |",
             "|---:|---|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['target']:.3g} | {r['method']} | {r['proposed']} | {r['returned']} | {r['hit_rate']:.3f} | "
              f"{r['coverage']:.3f} | {r['proposals_per_second']:.3g} | {r['hits_per_second']:.3g} |" for r in rows]
    return "\n".join(lines) + "\n"
