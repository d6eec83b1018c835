"""Data sources (2D mixtures, digits, MNIST sample, image folders, .npy, tabular), RealData and the batch iterators."""

from gankit.data.images import load_digits, load_image_folder, load_mnist_sample, load_npy
from gankit.data.loader import InfiniteBatches, ZippedBatches
from gankit.data.mixtures import MIXTURES, Mixture, grid25, ring8
from gankit.data.real import RealData
from gankit.data.stacked import stacked_mnist
from gankit.data.tabular import TABULAR, Standardized, load_condition_file, load_tabular, standardize

__all__ = [
    "TABULAR",
    "Standardized",
    "load_condition_file",
    "load_tabular",
    "standardize",
    "stacked_mnist",
    "MIXTURES",
    "InfiniteBatches",
    "RealData",
    "ZippedBatches",
    "Mixture",
    "grid25",
    "load_digits",
    "load_image_folder",
    "load_mnist_sample",
    "load_npy",
    "ring8",
]
