"""Cheap training diagnostics, logged as `diag/*` columns beside the losses.

Every `every` steps (the logging interval) the callback adds to the step's statistics:

- `diag/d_gap`: mean D(real) − mean D(fake) on the step's batches;
- `diag/grad_ratio`: generator gradient norm / discriminator gradient norm;
- `diag/loss_ratio`: mean generator loss / mean discriminator loss over the last `window` logs;
- `diag/param_norm_<player>`: the L2 norm of each player's parameters (divergence shows here first);
- `diag/diversity`: mean pairwise distance of a fixed-latent batch of samples divided by that of a
  fixed batch of real data (1 = as spread out as the data; collapse drives it towards 0);
- `diag/modes`: for 2D mixtures, modes captured by the fixed-latent samples.

D's accuracy on real and fake (`d_acc_real`, `d_acc_fake`) comes from the game itself.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

import torch
from torch import Tensor

from gankit.data import Mixture
from gankit.dynamics.base import StepResult
from gankit.metrics.modes import mixture_mode_stats
from gankit.train.trainer import Callback, Trainer

__all__ = ["Diagnostics", "mean_pairwise_distance"]


def mean_pairwise_distance(samples: Tensor) -> float:
    """Mean Euclidean distance between distinct rows of `samples` (flattened), in float64."""
    flat = samples.detach().flatten(1).double().cpu()
    n = len(flat)
    if n < 2:
        raise ValueError("need at least two samples")
    return float(torch.cdist(flat, flat).sum() / (n * (n - 1)))


class Diagnostics(Callback):
    """Add `diag/*` statistics every `every` steps (and at the last step); see the module docstring."""

    def __init__(
        self,
        draw_fixed: Callable[[], Tensor],
        real_batch: Tensor,
        every: int,
        *,
        mixture: Mixture | None = None,
        window: int = 10,
        diversity_samples: int = 256,
    ) -> None:
        self.draw_fixed = draw_fixed
        self.every = every
        self.mixture = mixture
        self.diversity_samples = diversity_samples
        self.real_diversity = mean_pairwise_distance(real_batch[:diversity_samples])
        self._losses: deque[tuple[float, float]] = deque(maxlen=window)

    def state_dict(self) -> dict[str, list[tuple[float, float]]]:
        return {"losses": list(self._losses)}

    def load_state_dict(self, state: dict[str, list[tuple[float, float]]]) -> None:
        self._losses = deque((tuple(pair) for pair in state["losses"]), maxlen=self._losses.maxlen)

    def on_step_end(self, trainer: Trainer, result: StepResult) -> None:
        if trainer.step % self.every and trainer.step != trainer.total_steps:
            return
        stats = result.stats
        if "d_real" in stats and "d_fake" in stats:
            stats["diag/d_gap"] = stats["d_real"] - stats["d_fake"]
        if "grad_norm_generator" in stats and "grad_norm_discriminator" in stats:
            stats["diag/grad_ratio"] = stats["grad_norm_generator"] / (stats["grad_norm_discriminator"] + 1e-12)
        if "loss_g" in stats and "loss_d" in stats:
            self._losses.append((float(stats["loss_g"]), float(stats["loss_d"])))
            mean_g = sum(g for g, _ in self._losses) / len(self._losses)
            mean_d = sum(d for _, d in self._losses) / len(self._losses)
            stats["diag/loss_ratio"] = torch.tensor(mean_g / mean_d if mean_d else float("inf"))
        for player, module in trainer.game.players.items():
            stats[f"diag/param_norm_{player}"] = torch.nn.utils.get_total_norm([p.detach() for p in module.parameters()])
        samples = self.draw_fixed()
        diversity = mean_pairwise_distance(samples[: self.diversity_samples])
        stats["diag/diversity"] = torch.tensor(diversity / self.real_diversity)
        if self.mixture is not None and samples.dim() == 2:
            captured = mixture_mode_stats(samples.cpu(), self.mixture.means, self.mixture.std).captured
            stats["diag/modes"] = torch.tensor(float(captured))
