"""Overlap of segmentations: the Dice coefficient per label, pooled over a set of images."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor

__all__ = ["dice_per_label"]


def dice_per_label(predicted: Tensor, truth: Tensor, names: Sequence[str]) -> dict[str, float]:
    """`{name: 2|P ∩ T| / (|P| + |T|)}` for each label index (position in `names`) present in `truth` or
    `predicted`, with the pixels of all images pooled; labels in neither are left out."""
    if predicted.shape != truth.shape:
        raise ValueError(f"segmentations of shapes {tuple(predicted.shape)} and {tuple(truth.shape)} do not align")
    scores = {}
    for label, name in enumerate(names):
        p, t = predicted == label, truth == label
        total = int(p.sum()) + int(t.sum())
        if total:
            scores[name] = 2 * int((p & t).sum()) / total
    return scores
