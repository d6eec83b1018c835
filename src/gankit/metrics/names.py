"""The one registry of metric names: what `gankit eval` computes, and which way each score is better.

A *family* is what `--metrics` / `train.eval_metrics` asks for (`prdc` computes four scores); a
*score* is one number of a family, logged as `<score>_<protocol>` (e.g. `recall_mnist_5k`).
"""

from __future__ import annotations

__all__ = ["FAMILIES", "LOWER_IS_BETTER", "SCORES", "family_of", "lower_is_better"]

# Families in the order `gankit eval` computes and prints them.
FAMILIES = ("fid", "kid", "is", "prdc", "modes", "memorization", "per_class", "class_accuracy", "code_accuracy")

# Each score a run can be judged (and keep its best checkpoint) by: its family and whether lower is better.
SCORES: dict[str, tuple[str, bool]] = {
    "fid": ("fid", True),
    "kid": ("kid", True),
    "is": ("is", False),
    "precision": ("prdc", False),
    "recall": ("prdc", False),
    "density": ("prdc", False),
    "coverage": ("prdc", False),
    "modes": ("modes", False),
    "hq_fraction": ("modes", False),
    "mode_kl": ("modes", True),
    "class_accuracy": ("class_accuracy", False),
    "code_accuracy": ("code_accuracy", False),
}

LOWER_IS_BETTER = frozenset(name for name, (_, lower) in SCORES.items() if lower)


def family_of(score: str) -> str:
    """The family that computes `score` (`recall` -> `prdc`)."""
    return SCORES[score][0]


def lower_is_better(score: str) -> bool:
    return SCORES[score][1]
