"""A small convolutional classifier for the rebalancing evaluation of images where pixels are not features.

A logistic regression on pixels reads *where* things are; a lesion anywhere in an organ needs a detector
that reads *whether* a pattern occurs anywhere: three 3x3 convolution layers (batch norm, ReLU, two 2x2
max-poolings) and a global max over positions, trained with plain cross-entropy for a fixed number of
Adam steps whatever the size of the set (so the four training sets of the table get the same budget).
Deterministic by seed on the CPU.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["CNN_SETTINGS", "fit_cnn"]

CNN_SETTINGS = {"widths": (8, 16, 16), "steps": 500, "batch_size": 32, "lr": 1e-3}


def _network(channels: int, n_classes: int) -> nn.Sequential:
    a, b, c = CNN_SETTINGS["widths"]
    return nn.Sequential(
        nn.Conv2d(channels, a, 3, padding=1), nn.BatchNorm2d(a), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(a, b, 3, padding=1), nn.BatchNorm2d(b), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(b, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU(),
        nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(c, n_classes),
    )


def fit_cnn(x_train: np.ndarray, y_train: np.ndarray, n_classes: int,
            seed: int = 0) -> Callable[[np.ndarray], np.ndarray]:
    """Train the fixed CNN on images (N, C, H, W) and labels; returns `predict(x) -> class indices`."""
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    images = torch.from_numpy(np.ascontiguousarray(x_train, dtype=np.float32))
    labels = torch.from_numpy(np.asarray(y_train, dtype=np.int64))
    network = _network(images.shape[1], n_classes)
    optimizer = torch.optim.Adam(network.parameters(), lr=CNN_SETTINGS["lr"])
    network.train()
    for _ in range(CNN_SETTINGS["steps"]):
        rows = torch.randint(len(images), (min(CNN_SETTINGS["batch_size"], len(images)),), generator=generator)
        loss = F.cross_entropy(network(images[rows]), labels[rows])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    network.eval()

    def predict(x: np.ndarray) -> np.ndarray:
        batch = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
        with torch.no_grad():
            return torch.cat([network(chunk).argmax(1) for chunk in batch.split(256)]).numpy()

    return predict
