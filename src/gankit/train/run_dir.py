"""The run directory: one layout for every run.

    RUN/config.yaml            the fully resolved config
    RUN/metrics.csv            step, losses, mean D outputs, gradient norms
    RUN/samples/step_XXXXXX.png  sample grids (2D data: scatter over the true modes)
    RUN/checkpoints/step_XXXXXX.pt  atomic checkpoints, the last N kept
    RUN/checkpoints/best.pt    the state at the best evaluation (train.best_metric)
"""

from __future__ import annotations

from pathlib import Path

from gankit.errors import CheckpointError

__all__ = ["RunDir"]


class RunDir:
    """Paths of one run, and the rules for creating and opening it."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    config_path = property(lambda self: self.path / "config.yaml")
    metrics_path = property(lambda self: self.path / "metrics.csv")
    samples_dir = property(lambda self: self.path / "samples")
    checkpoints_dir = property(lambda self: self.path / "checkpoints")
    best_checkpoint_path = property(lambda self: self.checkpoints_dir / "best.pt")

    @classmethod
    def create(cls, path: str | Path) -> RunDir:
        """Make a new run directory; refuse one that already holds files, so nothing is overwritten."""
        run = cls(path)
        if run.path.exists() and not run.path.is_dir():
            raise CheckpointError(f"--out {run.path} is a file; give a directory for the run")
        if run.path.is_dir() and any(run.path.iterdir()):
            raise CheckpointError(
                f"run directory {run.path} is not empty; choose a new --out so nothing in it is overwritten"
            )
        run.samples_dir.mkdir(parents=True, exist_ok=True)
        run.checkpoints_dir.mkdir(parents=True, exist_ok=True)
        return run

    @classmethod
    def open(cls, path: str | Path) -> RunDir:
        """An existing run directory (it must hold config.yaml)."""
        run = cls(path)
        if not run.config_path.is_file():
            raise CheckpointError(f"{run.path} is not a gankit run directory (no config.yaml); give the --out of a run")
        return run

    def remove_stale_temporaries(self) -> list[Path]:
        """Delete the temporary files of atomic writes a killed process left (`.NAME.XXXX.tmp`); returns them."""
        stale = [p for p in self.path.rglob(".*.tmp") if p.is_file()]
        for path in stale:
            path.unlink()
        return stale

    def checkpoint_path(self, step: int) -> Path:
        return self.checkpoints_dir / f"step_{step:06d}.pt"

    def sample_path(self, step: int) -> Path:
        return self.samples_dir / f"step_{step:06d}.png"

    def checkpoints(self) -> list[Path]:
        """Saved checkpoints, oldest first."""
        return sorted(self.checkpoints_dir.glob("step_*.pt"))

    def find_checkpoint(self, which: str = "latest") -> Path:
        """`latest`, `best` (train.best_metric) or a step number, as a path that exists."""
        if which == "latest":
            return self.latest_checkpoint()
        if which == "best":
            path = self.best_checkpoint_path
            if not path.is_file():
                raise CheckpointError(
                    f"{self.path} has no best checkpoint; train with train.best_metric (and eval_every) set to keep one"
                )
            return path
        if not which.isdigit():
            raise CheckpointError(f"--checkpoint {which!r} must be latest, best or a step number")
        path = self.checkpoint_path(int(which))
        if not path.is_file():
            kept = ", ".join(str(int(p.stem.removeprefix("step_"))) for p in self.checkpoints()) or "none"
            raise CheckpointError(f"{self.path} has no checkpoint at step {which}; kept steps: {kept}")
        return path

    def latest_checkpoint(self) -> Path:
        found = self.checkpoints()
        if not found:
            raise CheckpointError(f"{self.path} holds no checkpoint yet; train it first (gankit train --out ...)")
        return found[-1]
