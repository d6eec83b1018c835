"""Does the generator copy its training set? Nearest-neighbour distances in feature space.

The nearest-neighbour memorization check of Webster et al. 2019 ("Detecting overfitting
of deep generative networks via latent recovery", CVPR) and Meehan et al. 2020 ("A
non-parametric test to detect data-copying in generative models", AISTATS): compare
the distance from each generated sample to its nearest training sample with the
distance from each training sample to its nearest *other* training sample.

How to read `memorization_summary`:
- `copy_fraction` is the share of generated samples closer to the training set than
  the median training sample is to its nearest neighbour. Fresh samples from the data
  distribution give about 0.5; a value near 1 means samples sit on top of training
  points (copying, or collapse onto a few of them); near 0 means samples lie off the
  data (poor fidelity), which is a different failure.
- `min` and `q01` near 0 while the reference median is not flag a few exact or
  near-exact copies even when the bulk looks fine: inspect those samples.
Features should be ones where distance means similarity (an embedding, not pixels,
for images), and the training and generated sets should be of similar size for the
0.5 baseline to hold.
"""

from __future__ import annotations

import numpy as np
import torch

from gankit.metrics.fid import ArrayLike, as_features

__all__ = ["memorization_summary", "nearest_neighbour_distances", "self_nearest_neighbour_distances"]


def nearest_neighbour_distances(generated: ArrayLike, training: ArrayLike, chunk: int = 1024) -> torch.Tensor:
    """Euclidean distance (float64, shape (M,)) from each generated row to its nearest training row.

    Exact (`torch.cdist`), `chunk` generated rows at a time: memory O(chunk · N).
    """
    gen = as_features(generated, "generated")
    train = as_features(training, "training").to(gen.device)
    if gen.shape[1] != train.shape[1]:
        raise ValueError(f"feature dimensions differ: generated {gen.shape[1]}, training {train.shape[1]}")
    return torch.cat([torch.cdist(rows, train).min(dim=1).values for rows in torch.split(gen, chunk)])


def self_nearest_neighbour_distances(training: ArrayLike, chunk: int = 1024) -> torch.Tensor:
    """Distance from each training row to its nearest *other* training row (leave-one-out), shape (N,).

    The reference for `memorization_summary`; duplicates in the training set give 0.
    """
    train = as_features(training, "training", min_rows=2)
    nearest = []
    for start in range(0, train.shape[0], chunk):
        distances = torch.cdist(train[start : start + chunk], train)
        rows = torch.arange(distances.shape[0], device=train.device)
        distances[rows, rows + start] = torch.inf
        nearest.append(distances.min(dim=1).values)
    return torch.cat(nearest)


def _vector(values: ArrayLike, name: str) -> np.ndarray:
    """A non-empty, finite float64 NumPy vector."""
    tensor = values.detach() if isinstance(values, torch.Tensor) else torch.as_tensor(np.asarray(values))
    return as_features(tensor.reshape(-1, 1), name)[:, 0].cpu().numpy()


def memorization_summary(
    gen_to_train: ArrayLike, train_to_train_reference: ArrayLike | None = None
) -> dict[str, float]:
    """Quantiles of generated-to-training distances and, given a reference, the copying indicator.

    Keys: min, q01, q05, median (of `gen_to_train`); with `train_to_train_reference` (from
    `self_nearest_neighbour_distances`) also reference_median and copy_fraction, the share
    of generated samples strictly closer than reference_median. See the module docstring.
    """
    distances = _vector(gen_to_train, "gen_to_train")
    summary = {
        "min": float(distances.min()),
        "q01": float(np.quantile(distances, 0.01)),
        "q05": float(np.quantile(distances, 0.05)),
        "median": float(np.median(distances)),
    }
    if train_to_train_reference is not None:
        summary["reference_median"] = float(np.median(_vector(train_to_train_reference, "train_to_train_reference")))
        summary["copy_fraction"] = float((distances < summary["reference_median"]).mean())
    return summary
