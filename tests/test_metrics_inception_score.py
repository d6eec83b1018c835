"""Inception Score on predictions with known scores, and against NumPy."""

import numpy as np
import pytest
import torch

from gankit.metrics import inception_score


def numpy_is(probs: np.ndarray, splits: int) -> tuple[float, float]:
    scores = []
    for part in np.array_split(probs, splits):
        py = part.mean(0, keepdims=True)
        scores.append(np.exp(np.mean(np.sum(part * (np.log(part) - np.log(py)), axis=1))))
    return float(np.mean(scores)), float(np.std(scores))


def test_confident_and_uniform_over_c_classes_gives_c():
    probs = np.tile(np.eye(10), (5, 1))
    mean, std = inception_score(probs, splits=1)
    assert mean == pytest.approx(10.0, rel=1e-12) and std == 0.0


def test_identical_predictions_give_one():
    probs = torch.softmax(torch.randn(1, 7), dim=1).repeat(40, 1)
    mean, _ = inception_score(probs, splits=4)
    assert mean == pytest.approx(1.0, abs=1e-12)


def test_matches_numpy():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(103, 6)) * 2
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    mean, std = inception_score(probs, splits=5)
    expected_mean, expected_std = numpy_is(probs, 5)
    assert mean == pytest.approx(expected_mean, rel=1e-12)
    assert std == pytest.approx(expected_std, rel=1e-9)


def test_rejects_logits_and_bad_splits():
    with pytest.raises(ValueError, match="softmax"):
        inception_score(np.random.default_rng(1).normal(size=(10, 3)), splits=1)
    with pytest.raises(ValueError, match="splits"):
        inception_score(np.eye(3), splits=4)
