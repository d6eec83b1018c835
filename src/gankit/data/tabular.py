"""Tabular data sets that ship with scikit-learn, standardized, and label/condition files for .npy data."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from gankit.errors import DataError

__all__ = ["TABULAR", "Standardized", "load_condition_file", "load_tabular", "standardize"]

TABULAR = ("breast_cancer", "wine")


@dataclass
class Standardized:
    """Features scaled to zero mean and unit variance per column, with the scale to undo it."""

    features: torch.Tensor
    mean: np.ndarray
    std: np.ndarray

    def restore(self, standardized: np.ndarray) -> np.ndarray:
        """Map standardized rows back to the original units."""
        return standardized * self.std + self.mean


def standardize(features: np.ndarray) -> Standardized:
    """Per-column z-scores as float32; constant columns keep a scale of 1 (they become 0)."""
    mean = features.mean(axis=0)
    std = features.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return Standardized(torch.from_numpy(((features - mean) / std).astype(np.float32)), mean, std)


def load_tabular(name: str) -> tuple[Standardized, torch.Tensor]:
    """scikit-learn's `breast_cancer` (569 × 30, 2 classes) or `wine` (178 × 13, 3 classes), standardized."""
    from sklearn import datasets

    loaders = {"breast_cancer": datasets.load_breast_cancer, "wine": datasets.load_wine}
    if name not in loaders:
        raise DataError(f"unknown tabular data set {name!r}; choose from {', '.join(TABULAR)}")
    bunch = loaders[name]()
    return standardize(bunch.data.astype(np.float64)), torch.from_numpy(bunch.target.astype(np.int64))


def load_condition_file(path: str | Path, n_samples: int) -> torch.Tensor:
    """Class labels (N,) as int64 in 0..K-1, or condition vectors (N, D) as float32, from a .npy file."""
    file = Path(path)
    if not file.is_file():
        raise DataError(f"no such labels file: {file}; set data.labels to an existing .npy file")
    try:
        array = np.load(file, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise DataError(f"{file} is not a readable numeric .npy file ({exc}); write it with np.save") from exc
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "iuf" or array.ndim not in (1, 2):
        raise DataError(f"{file} must hold integer labels (N,) or float condition vectors (N, D); "
                        f"got {getattr(array, 'dtype', '?')} of shape {getattr(array, 'shape', '?')}")
    if len(array) != n_samples:
        raise DataError(f"{file} has {len(array)} rows for {n_samples} samples; give one label per sample")
    if array.ndim == 2:
        if not np.isfinite(array).all():
            raise DataError(f"{file} contains NaN/Inf condition values; replace them before training")
        return torch.from_numpy(array.astype(np.float32))
    if array.dtype.kind == "f":
        if not np.isfinite(array).all() or not np.array_equal(array, np.round(array)):
            raise DataError(f"{file} holds non-integer labels; save class labels as integers 0..K-1 "
                            "(or condition vectors as a 2-D float array)")
    if array.min() < 0:
        raise DataError(f"{file} has negative labels; number the classes 0..K-1")
    return torch.from_numpy(array.astype(np.int64))
