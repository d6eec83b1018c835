"""Evaluation metrics: pure cores, streaming objects, CPU feature extractors, mode coverage.

`gankit.metrics.evaluate` (not imported here) scores a generator end to end with protocol names.
"""

from gankit.metrics.features import (
    ClassifierFeatures,
    DigitClassifier,
    FeatureExtractor,
    ModuleFeatures,
    load_classifier,
)
from gankit.metrics.fid import fid, fid_from_features, gaussian_stats
from gankit.metrics.inception_score import inception_score
from gankit.metrics.kid import kid, mmd2_unbiased
from gankit.metrics.memorization import (
    memorization_summary,
    nearest_neighbour_distances,
    self_nearest_neighbour_distances,
)
from gankit.metrics.modes import ModeStats, mixture_mode_stats
from gankit.metrics.prdc import prdc
from gankit.metrics.stacked_mnist import ModeCoverage, stacked_mnist_modes
from gankit.metrics.streaming import FID, KID, PRDC, InceptionScore

__all__ = [
    "ClassifierFeatures",
    "DigitClassifier",
    "FeatureExtractor",
    "ModeCoverage",
    "ModuleFeatures",
    "load_classifier",
    "stacked_mnist_modes",
    "FID",
    "KID",
    "PRDC",
    "InceptionScore",
    "ModeStats",
    "fid",
    "fid_from_features",
    "gaussian_stats",
    "inception_score",
    "kid",
    "memorization_summary",
    "mixture_mode_stats",
    "mmd2_unbiased",
    "nearest_neighbour_distances",
    "prdc",
    "self_nearest_neighbour_distances",
]
