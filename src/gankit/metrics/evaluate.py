"""Evaluate a generator against its real data: several metrics side by side, each named by its protocol.

A protocol name says what produced a number: `<metric>_<features>_<n>`, e.g.
`fid_mnist_5k` (FID on the shipped MNIST classifier's features, 5,000 samples
per side) or `modes_grid25_2.5k`. Numbers without their protocol are not
comparable across papers or runs.

This module takes data and players and returns numbers: it reads no run directory and knows no
config (gankit.runs restores a run and writes its eval.json; a game kind decides what to score).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gankit.data import RealData
from gankit.errors import ConfigError
from gankit.metrics.conditional import best_matching_accuracy, class_accuracy, per_class_indices
from gankit.metrics.fid import fid
from gankit.metrics.inception_score import inception_score
from gankit.metrics.kid import kid
from gankit.metrics.memorization import (
    memorization_summary,
    nearest_neighbour_distances,
    self_nearest_neighbour_distances,
)
from gankit.metrics.modes import mixture_mode_stats
from gankit.metrics.names import FAMILIES
from gankit.metrics.prdc import prdc
from gankit.metrics.stacked_mnist import stacked_mnist_modes
from gankit.sampling import LatentInputs, draw

__all__ = ["FeatureOptions", "FeatureSpace", "evaluate_generator", "feature_space", "protocol_suffix", "quantize_8bit"]


@dataclass(frozen=True)
class FeatureOptions:
    """How `gankit eval` turns images into features: the FID Inception-v3 weights (None: a shipped classifier where
    the data has one) and whether every image, real and generated, is first quantized to 8 bits as an image file
    would store it (the protocol's feature name then ends in `_q8`: `fid_inception_q8_5k`)."""

    inception_weights: str | Path | None = None
    quantize: bool = False


def quantize_8bit(images: Tensor) -> Tensor:
    """Images in [-1, 1] rounded to the 256 levels of an 8-bit file, v / 127.5 - 1 (v = 0..255); idempotent."""
    return torch.round((images + 1) * 127.5) / 127.5 - 1


@dataclass
class FeatureSpace:
    """How samples become features: a name for protocols, features, and a classifier head when known.

    `head` maps features to class logits (the extractor's last layer), so the Inception Score
    reuses the features instead of running the network a second time. A space kept across
    evaluations (during training, over a sweep's members) computes the real side's features once.
    """

    name: str
    features: Callable[[Tensor], Tensor]
    head: nn.Module | None = None
    _real: dict[tuple[int, int], tuple[Tensor, Tensor]] = field(default_factory=dict, repr=False)

    def real_features(self, samples: Tensor, rows: Tensor, seed: int) -> Tensor:
        """Features of `samples[rows]`, the real subset drawn with `seed`: cached per (n, seed) for this tensor."""
        key = (len(rows), seed)
        cached = self._real.get(key)
        if cached is None or cached[0] is not samples:  # held, so the identity cannot pass to another tensor
            cached = (samples, self.features(samples[rows]))
            self._real[key] = cached
        return cached[1]


def protocol_suffix(features: str, n: int) -> str:
    """`mnist`, 5000 -> `mnist_5k`; 2500 -> `2.5k`; 800 -> `800`."""
    count = f"{n / 1000:g}k" if n >= 1000 else str(n)
    return f"{features}_{count}"


def feature_space(
    data_name: str, sample_shape: tuple[int, ...], options: FeatureOptions = FeatureOptions()
) -> FeatureSpace:
    """The feature space for samples of `sample_shape` (without the batch dimension) of data set `data_name`.

    Vectors are compared as they are (`raw2d`/`raw`). Images use the FID Inception-v3 when
    `options.inception_weights` is given or the data has no shipped classifier (folder, npy), else the
    shipped MNIST/digits classifiers (Stacked MNIST: the MNIST classifier on each channel). With the Inception
    network the Inception Score takes the bias-free logits of the original code. `options.quantize` rounds
    every image to 8 bits first and appends `_q8` to the space's name.
    """
    if len(sample_shape) == 1:
        if options.inception_weights is not None or options.quantize:
            raise ConfigError("--inception-weights and --quantize apply to image data; this run's samples are vectors")
        return FeatureSpace("raw2d" if data_name in ("ring8", "grid25") else "raw", lambda x: x.float())
    if sample_shape[0] not in (1, 3):
        raise ConfigError(f"gankit eval scores images of 1 or 3 channels; this run's samples are {sample_shape}")
    space = _image_space(data_name, options.inception_weights)
    if not options.quantize:
        return space
    features = space.features
    return FeatureSpace(f"{space.name}_q8", lambda x: features(quantize_8bit(x)), space.head)


def _image_space(data_name: str, inception_weights: str | Path | None) -> FeatureSpace:
    from gankit.metrics.features import ClassifierFeatures, InceptionFeatures, UnbiasedLogits

    if inception_weights is not None or data_name in ("folder", "npy"):
        inception = InceptionFeatures(inception_weights)  # without a path: $GANKIT_INCEPTION_WEIGHTS or one clear error
        return FeatureSpace("inception", inception.features, UnbiasedLogits(inception.model.fc))
    if data_name == "stacked_mnist":  # each channel through the MNIST classifier, features side by side
        mnist = ClassifierFeatures("mnist")
        return FeatureSpace("mnist3", lambda x: torch.cat([mnist.features(x[:, c : c + 1]) for c in range(3)], 1))
    extractor = ClassifierFeatures(data_name)
    size = 28 if data_name == "mnist" else 8

    def resized(images: Tensor) -> Tensor:
        return images if images.shape[-1] == size else F.interpolate(images, size=(size, size), mode="area")

    return FeatureSpace(data_name, lambda x: extractor.features(resized(x)), extractor.classifier.head)


def evaluate_generator(
    generator: nn.Module,
    inputs: LatentInputs,
    real_data: RealData,
    space: FeatureSpace,
    *,
    data_name: str,
    metrics: Collection[str] = FAMILIES,
    n: int = 5000,
    seed: int = 0,
) -> dict[str, float]:
    """Sample `n` images from `generator` (or fewer if the real data set is smaller) and score them against
    `real_data` in `space`.

    `inputs` says what the generator takes (noise, conditions or InfoGAN codes); `data_name` names the
    data set in mode-count protocols. Returns `{protocol name: value}`. Metrics that do not apply to
    the data (Inception Score without class probabilities, modes without a known mixture) are skipped.
    """
    if not metrics:
        raise ConfigError(f"no metric asked for; choose from {', '.join(FAMILIES)}")
    unknown = sorted(set(metrics) - set(FAMILIES))
    if unknown:
        raise ConfigError(f"unknown metric(s) {', '.join(unknown)}; choose from {', '.join(FAMILIES)}")
    if n < 2:
        raise ConfigError(f"--n must be at least 2, got {n}")
    # A random subset: files are often sorted by class (the MNIST sample is), so the first n are not a sample.
    order = torch.randperm(len(real_data.samples), generator=torch.Generator().manual_seed(seed))
    rows = order[:n]
    n = len(rows)
    real_labels = real_data.labels[rows] if real_data.labels is not None else None
    conditions, fake_labels = inputs.evaluation_conditions(real_labels, n, seed)
    fake = draw(generator, inputs, n, seed=seed, conditions=conditions)
    real_features = lambda: space.real_features(real_data.samples, rows, seed)  # noqa: E731 - only if a metric needs them
    try:
        results = _score(metrics, space, real_features, fake, real_data, data_name, n, seed)
        if fake_labels is not None:
            results.update(_score_classes(metrics, space, inputs, real_features, fake, fake_labels, n))
        return results
    except ValueError as err:  # a metric that cannot be computed on these samples (e.g. too few for k-NN)
        raise ConfigError(f"cannot compute the metrics with n={n} ({err}); use a larger --n") from None


def _score_classes(
    metrics: Collection[str], space: FeatureSpace, inputs: LatentInputs, real_features: Callable[[], Tensor],
    fake: Tensor, fake_labels: Tensor, n: int,
) -> dict[str, float]:
    """Per-class FID/precision/recall and class accuracy (labels), or code accuracy (InfoGAN codes)."""
    results: dict[str, float] = {}
    suffix = protocol_suffix(space.name, n)
    labelled = inputs.class_source == "label"
    wants_predictions = space.head is not None and (
        ("class_accuracy" in metrics and labelled) or ("code_accuracy" in metrics and inputs.class_source == "code")
    )
    fake_f = space.features(fake) if wants_predictions or "per_class" in metrics else None
    if wants_predictions:
        with torch.no_grad():
            device = next(space.head.parameters()).device
            predicted = space.head(fake_f.to(device)).argmax(dim=1).cpu()
        if labelled:
            results[f"class_accuracy_{suffix}"] = class_accuracy(predicted, fake_labels)
        else:
            accuracy, _ = best_matching_accuracy(
                fake_labels, predicted, inputs.codes.categorical, space.head.out_features
            )
            results[f"code_accuracy_{suffix}"] = accuracy
    if "per_class" in metrics and labelled:
        real_f = real_features()
        for label, rows in per_class_indices(fake_labels).items():
            class_suffix = f"{protocol_suffix(space.name, len(rows))}_class{label}"
            if len(rows) >= 2:
                results[f"fid_{class_suffix}"] = fid(real_f[rows], fake_f[rows])
            if len(rows) > 5:  # k-NN precision/recall with k = 5
                scores = prdc(real_f[rows], fake_f[rows], k=5)
                results[f"precision_{class_suffix}"] = scores["precision"]
                results[f"recall_{class_suffix}"] = scores["recall"]
    return results


def _score(
    metrics: Collection[str], space: FeatureSpace, real_features: Callable[[], Tensor], fake: Tensor,
    real_data: RealData, data_name: str, n: int, seed: int,
) -> dict[str, float]:
    """Every requested metric that applies, keyed by its protocol name."""
    results: dict[str, float] = {}
    suffix = protocol_suffix(space.name, n)
    real_f = real_features() if {"fid", "kid", "prdc", "memorization"} & set(metrics) else None
    fake_f = space.features(fake) if {"fid", "kid", "prdc", "memorization", "is"} & set(metrics) else None
    if "fid" in metrics:
        results[f"fid_{suffix}"] = fid(real_f, fake_f)
    if "kid" in metrics:
        mean, std = kid(real_f, fake_f, n_subsets=50, subset_size=min(1000, n), seed=seed)
        results[f"kid_{suffix}"], results[f"kid_{suffix}_std"] = mean, std
    if "prdc" in metrics:
        for key, value in prdc(real_f, fake_f, k=5).items():
            results[f"{key}_{suffix}"] = value
    if "is" in metrics and space.head is not None:
        with torch.no_grad():
            device = next(space.head.parameters()).device
            probabilities = torch.softmax(space.head(fake_f.to(device)).double(), dim=1).cpu()
        mean, std = inception_score(probabilities, splits=min(10, n))
        results[f"is_{suffix}"], results[f"is_{suffix}_std"] = mean, std
    if "modes" in metrics and real_data.mixture is not None:
        mixture = real_data.mixture
        stats = mixture_mode_stats(fake, mixture.means, mixture.std)
        mode_suffix = protocol_suffix(data_name, n)
        results[f"modes_{mode_suffix}"] = float(stats.captured)
        results[f"hq_fraction_{mode_suffix}"] = stats.hq_fraction
        results[f"mode_kl_{mode_suffix}"] = stats.reverse_kl
    if "modes" in metrics and data_name == "stacked_mnist":
        coverage = stacked_mnist_modes(fake)
        mode_suffix = protocol_suffix("stacked_mnist", n)
        results[f"modes_{mode_suffix}"] = float(coverage.modes)
        results[f"mode_kl_{mode_suffix}"] = coverage.kl
    if "memorization" in metrics:  # against the whole training set: a copy of any training sample counts
        train_f = space.features(real_data.samples)
        summary = memorization_summary(
            nearest_neighbour_distances(fake_f, train_f), self_nearest_neighbour_distances(train_f)
        )
        results[f"nn_distance_median_{suffix}"] = summary["median"]
        results[f"nn_distance_min_{suffix}"] = summary["min"]
        results[f"copy_fraction_{suffix}"] = summary["copy_fraction"]
    return results
