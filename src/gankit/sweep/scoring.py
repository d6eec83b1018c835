"""What a sweep measures for each member: modes on the 2D mixtures, FID and precision/recall on images.

2D members are scored on the fixed batch of 2,500 latents `gankit train` logs `diag/modes` on.
Image members are scored as `gankit eval RUN --metrics fid,prdc --n N` scores a run: each member's
own generator module (EMA weights when kept) draws N samples with seed 0, compared with the same
random subset of N real images in the features of the classifier that ships for the data set.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass

import torch

from gankit.metrics.evaluate import FeatureSpace, evaluate_generator, feature_space, protocol_suffix
from gankit.metrics.modes import mixture_mode_stats
from gankit.metrics.names import lower_is_better
from gankit.sweep.engine import StackedGAN

__all__ = ["Panel", "Scoring", "scoring_for"]

EVAL_SEED = 0  # gankit eval's default --seed: the real subset and the latents of every member's evaluation


@dataclass(frozen=True)
class Panel:
    """One heat map of the sensitivity figure: a metric, its title and colour range (None: the data's)."""

    metric: str
    title: str
    low: float | None = None
    high: float | None = None
    lower_is_better: bool = False


class Scoring(ABC):
    """Scores every member of a group: `columns` per member, `panels` of the heat map, `protocol` named."""

    columns: tuple[str, ...]
    panels: tuple[Panel, ...]
    protocol: str

    @abstractmethod
    def score(self, engine: StackedGAN) -> list[dict[str, float]]:
        """One {column: value} per member, in member order."""


class ModeScoring(Scoring):
    """Modes captured, high-quality fraction and reverse KL of the fixed 2,500 samples (2D mixtures)."""

    columns = ("modes", "hq_fraction", "reverse_kl")

    def __init__(self, engine: StackedGAN) -> None:
        n_modes = len(engine.mixture.means)
        self.panels = (Panel("modes", "modes captured", 0.0, float(n_modes)),
                       Panel("hq_fraction", "high-quality fraction", 0.0, 1.0))
        self.protocol = protocol_suffix(engine.config.data.name, 2500)

    def score(self, engine: StackedGAN) -> list[dict[str, float]]:
        mixture = engine.mixture
        scores = []
        for points in engine.fixed_samples().cpu():
            stats = mixture_mode_stats(points, mixture.means, mixture.std)
            scores.append({"modes": float(stats.captured), "hq_fraction": stats.hq_fraction,
                           "reverse_kl": stats.reverse_kl})
        return scores


class FIDScoring(Scoring):
    """FID, precision, recall, density and coverage of N samples per member (image data)."""

    columns = ("fid", "precision", "recall", "density", "coverage")
    panels = (Panel("fid", "FID (lower is better)", lower_is_better=lower_is_better("fid")),
              Panel("recall", "recall", 0.0, 1.0))

    def __init__(self, engine: StackedGAN, n: int) -> None:
        real = engine.members[0].experiment.data.real.samples
        self.n = min(n, len(real))
        self.space: FeatureSpace = feature_space(engine.config.data.name, tuple(real.shape[1:]))
        self.protocol = protocol_suffix(self.space.name, self.n)
        # Members whose real data are the same images share one RealData, so the space computes the real
        # side's features once for all of them (digits, mnist); Stacked MNIST draws its triples per seed.
        self.real_data = []
        for member in engine.members:
            data = member.experiment.data.real
            same = next((seen for seen in self.real_data if torch.equal(seen.samples, data.samples)), data)
            self.real_data.append(same)

    def score(self, engine: StackedGAN) -> list[dict[str, float]]:
        """Scores per member; a member whose weights are no longer finite (it diverged) scores NaN throughout."""
        scores = []
        for m, member in enumerate(engine.members):
            generator = engine.member_generator(m)
            tensors = (*generator.parameters(), *generator.buffers())
            if not torch.stack([t.isfinite().all() for t in tensors]).all():  # one host sync per member
                scores.append(dict.fromkeys(self.columns, math.nan))
                continue
            results = evaluate_generator(generator, member.experiment.data.inputs, self.real_data[m], self.space,
                                         data_name=member.config.data.name, metrics=("fid", "prdc"), n=self.n,
                                         seed=EVAL_SEED)
            scores.append({name: results[f"{name}_{self.protocol}"] for name in self.columns})
        return scores


def scoring_for(engine: StackedGAN, eval_n: int) -> Scoring:
    """Mode scoring for the 2D mixtures, FID scoring with `eval_n` samples for images."""
    return ModeScoring(engine) if engine.mixture is not None else FIDScoring(engine, eval_n)
