"""TensorBoard event files: scalars, sample grids and histograms of D's outputs (`tensorboard --logdir runs`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from torch import Tensor

from gankit.dynamics.base import StepResult
from gankit.train.trainer import Callback, Trainer
from gankit.viz import image_grid

__all__ = ["TensorBoardLogger"]


class TensorBoardLogger(Callback):
    """Every `every` steps the step's statistics as scalars; every `sample_every` steps a sample grid
    (images only) and histograms of D's logits on a fixed real batch and on fixed-latent samples, when the
    game kind draws samples (`draw_fixed`) and has a critic (`d_outputs`)."""

    def __init__(
        self,
        log_dir: Path,
        every: int,
        sample_every: int,
        draw_fixed: Callable[[], Tensor] | None = None,
        d_outputs: Callable[[], tuple[Tensor, Tensor]] | None = None,
        columns: int | None = None,
    ) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(str(log_dir))
        self.every = every
        self.sample_every = sample_every
        self.draw_fixed = draw_fixed
        self.d_outputs = d_outputs
        self.columns = columns

    def on_step_end(self, trainer: Trainer, result: StepResult) -> None:
        step, last = trainer.step, trainer.step == trainer.total_steps
        if (step % self.every == 0 or last) and result.stats:
            for name, value in result.stats.items():
                self.writer.add_scalar(name, float(value), step)
        if step % self.sample_every == 0 or last:
            samples = self.draw_fixed() if self.draw_fixed is not None else None
            if samples is not None and samples.dim() == 4:
                grid = image_grid(samples, self.columns)
                self.writer.add_image("samples", grid, step, dataformats="HW" if grid.ndim == 2 else "HWC")
            if self.d_outputs is not None:
                real_logits, fake_logits = self.d_outputs()
                self.writer.add_histogram("d_logits/real", real_logits.float().cpu(), step)
                self.writer.add_histogram("d_logits/fake", fake_logits.float().cpu(), step)
            self.writer.flush()

    def on_train_end(self, trainer: Trainer) -> None:
        self.writer.close()
