"""Inception Score from class probabilities (Salimans et al. 2016, arXiv:1606.03498).

IS = exp(E_x KL(p(y|x) ‖ p(y))), with p(y) the mean prediction over the split. It is
high when each prediction is confident and the predictions spread over many
classes; it ranges from 1 (all predictions equal) to C (confident and uniform over C
classes). It needs probabilities (softmax outputs), not logits.
"""

from __future__ import annotations

import numpy as np
import torch

from gankit.metrics.fid import ArrayLike, as_features

__all__ = ["inception_score"]


def inception_score(probs: ArrayLike, splits: int = 10) -> tuple[float, float]:
    """Mean and std (ddof=0) of the IS over `splits` near-equal consecutive chunks of (N, C) `probs`.

    Chunks follow `torch.tensor_split`, so every sample is used (the original code drops the
    remainder of N / splits). 0·log 0 counts as 0.
    """
    p = as_features(probs, "probs")
    if splits < 1 or splits > p.shape[0]:
        raise ValueError(f"splits must be between 1 and the number of samples ({p.shape[0]}), got {splits}")
    if (p < 0).any() or not torch.allclose(p.sum(dim=1), torch.ones_like(p[:, 0]), atol=1e-3):
        raise ValueError("probs must be non-negative rows summing to 1 (apply softmax to logits first)")
    scores = []
    for part in torch.tensor_split(p, splits):
        marginal = part.mean(dim=0, keepdim=True)
        kl = (torch.xlogy(part, part) - torch.xlogy(part, marginal)).sum(dim=1)
        scores.append(float(torch.exp(kl.mean())))
    return float(np.mean(scores)), float(np.std(scores))
