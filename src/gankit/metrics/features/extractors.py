"""Feature extractors that need no download: the shipped digit classifiers, or any module the user passes."""

from __future__ import annotations

import pickle
from importlib import resources
from pathlib import Path
from typing import Protocol, runtime_checkable

import torch
from torch import nn

from gankit.errors import CheckpointError, ConfigError
from gankit.metrics.features.classifier import DigitClassifier

__all__ = [
    "CLASSIFIERS",
    "ClassifierFeatures",
    "FeatureExtractor",
    "ModuleFeatures",
    "load_classifier",
    "weights_path",
]

CLASSIFIERS = ("mnist", "digits")
_TRAIN_HINT = "run `python scripts/train_classifiers.py` from the gankit repository to (re)create it"


@runtime_checkable
class FeatureExtractor(Protocol):
    """Maps images (N, C, H, W) to float features (N, D)."""

    def __call__(self, images: torch.Tensor) -> torch.Tensor: ...


def _check_name(name: str) -> None:
    if name not in CLASSIFIERS:
        raise ConfigError(f"unknown classifier {name!r}; choose one of {', '.join(CLASSIFIERS)}")


def weights_path(name: str) -> Path:
    """Where the shipped weights of classifier `name` ("mnist" or "digits") live."""
    _check_name(name)
    return Path(str(resources.files("gankit.metrics.features") / "weights" / f"{name}_classifier.pt"))


def load_classifier(name: str, path: str | Path | None = None) -> DigitClassifier:
    """The shipped classifier `name` ("mnist": 28x28, "digits": 8x8) in eval mode; `path` overrides the file.

    The file holds {"state_dict": tensors, "meta": plain values}, read with torch.load(weights_only=True).
    """
    file = weights_path(name) if path is None else Path(path)
    if not file.is_file():
        raise CheckpointError(f"classifier weights {file} are missing; {_TRAIN_HINT}")
    try:
        saved = torch.load(file, map_location="cpu", weights_only=True)
        meta = saved["meta"]
        model = DigitClassifier(int(meta["image_size"]), int(meta["width"]), int(meta["feature_dim"]))
        model.load_state_dict(saved["state_dict"])
    except (pickle.UnpicklingError, RuntimeError, EOFError, KeyError, TypeError, ValueError) as exc:
        problem = f"classifier weights {file} are corrupt or incompatible ({type(exc).__name__})"
        raise CheckpointError(f"{problem}; {_TRAIN_HINT}") from exc
    return model.eval()


class ModuleFeatures:
    """Run any `module` on images in eval mode, without gradients, `batch_size` at a time; (N, D) float32 on CPU.

    Outputs with more than two dimensions are flattened per sample. Every submodule's train/eval mode is restored.
    """

    def __init__(self, module: nn.Module, batch_size: int = 256) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.module = module
        self.batch_size = batch_size

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        if len(images) == 0:
            raise ValueError("no images to extract features from")
        parameter = next(self.module.parameters(), None)
        device = parameter.device if parameter is not None else images.device
        modes = [(submodule, submodule.training) for submodule in self.module.modules()]
        self.module.eval()
        try:
            with torch.no_grad():
                outputs = [
                    self.module(batch.to(device)).reshape(len(batch), -1).float().cpu()
                    for batch in images.split(self.batch_size)
                ]
        finally:
            for submodule, training in modes:
                submodule.training = training
        return torch.cat(outputs)


class _FeaturesAndProbabilities:
    """`features` (also `__call__`) and `probabilities` of `model`, each batched by ModuleFeatures."""

    def __init__(self, model: nn.Module, batch_size: int) -> None:
        self._features = ModuleFeatures(_Method(model, "features"), batch_size)
        self._probabilities = ModuleFeatures(_Method(model, "probabilities"), batch_size)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """Features (N, D), float32 on CPU."""
        return self._features(images)

    __call__ = features

    def probabilities(self, images: torch.Tensor) -> torch.Tensor:
        """Class probabilities (N, C), float32 on CPU."""
        return self._probabilities(images)


class ClassifierFeatures(_FeaturesAndProbabilities):
    """Penultimate features (FID/KID/PRDC, (N, feature_dim)) and 10-class probabilities (Inception Score) of a
    shipped classifier."""

    def __init__(self, name: str = "mnist", batch_size: int = 256) -> None:
        self.name = name
        self.classifier = load_classifier(name)
        super().__init__(self.classifier, batch_size)


class _Method(nn.Module):
    """Expose one method of a classifier as a module's forward, so ModuleFeatures can batch it."""

    def __init__(self, classifier: DigitClassifier, method: str) -> None:
        super().__init__()
        self.classifier = classifier
        self.method = method

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return getattr(self.classifier, self.method)(x)
