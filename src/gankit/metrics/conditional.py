"""Does the generator produce what it was asked for? Scores of conditional and InfoGAN samples.

- :func:`class_accuracy`: the share of samples a classifier assigns to the class they were drawn for;
- :func:`best_matching_accuracy`: for InfoGAN's unsupervised categorical code, the accuracy of the
  best one-to-one assignment of codes to classes (Hungarian algorithm on the contingency table);
- :func:`per_class_indices`: the rows of each class, for FID/precision/recall per class.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment
from torch import Tensor

__all__ = ["best_matching_accuracy", "class_accuracy", "contingency_table", "per_class_indices"]


def class_accuracy(predicted: Tensor, asked: Tensor) -> float:
    """Fraction of samples whose predicted class equals the class they were drawn for."""
    if predicted.shape != asked.shape or predicted.dim() != 1 or len(predicted) == 0:
        raise ValueError(f"need two equal-length 1-D label tensors, got {tuple(predicted.shape)} and {tuple(asked.shape)}")
    return float((predicted == asked).double().mean())


def contingency_table(codes: Tensor, predicted: Tensor, n_codes: int, n_classes: int) -> np.ndarray:
    """counts[i, j] = number of samples drawn with code i that the classifier calls class j."""
    table = np.zeros((n_codes, n_classes), dtype=np.int64)
    np.add.at(table, (codes.cpu().numpy(), predicted.cpu().numpy()), 1)
    return table


def best_matching_accuracy(codes: Tensor, predicted: Tensor, n_codes: int, n_classes: int) -> tuple[float, dict[int, int]]:
    """Accuracy of the best one-to-one code→class assignment, and that assignment.

    With more codes than classes, the unassigned codes count as wrong; the result is 1 only
    when every code maps to one class and the classes are all different.
    """
    if codes.shape != predicted.shape or codes.dim() != 1 or len(codes) == 0:
        raise ValueError(f"need two equal-length 1-D label tensors, got {tuple(codes.shape)} and {tuple(predicted.shape)}")
    table = contingency_table(codes, predicted, n_codes, n_classes)
    rows, cols = linear_sum_assignment(table, maximize=True)
    return float(table[rows, cols].sum() / len(codes)), {int(r): int(c) for r, c in zip(rows, cols)}


def per_class_indices(labels: Tensor) -> dict[int, Tensor]:
    """{class: indices of its rows}, for each class present, in increasing class order."""
    return {int(k): torch.nonzero(labels == k).flatten() for k in labels.unique().tolist()}
