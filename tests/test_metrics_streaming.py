"""Streaming metrics agree with the functional cores whatever the batch size; reset and empty states."""

import numpy as np
import pytest
import torch

from gankit.metrics import FID, KID, PRDC, InceptionScore, fid, inception_score, kid, prdc

RNG = np.random.default_rng(0)
REAL = RNG.normal(size=(300, 16)) + 0.5
FAKE = RNG.normal(size=(250, 16)) * 1.2
PROBS = np.exp(RNG.normal(size=(210, 5)))
PROBS /= PROBS.sum(1, keepdims=True)


def stream(metric, real: np.ndarray, fake: np.ndarray, batch: int):
    for start in range(0, max(len(real), len(fake)), batch):
        if start < len(real):
            metric.update(torch.from_numpy(real[start : start + batch]), real=True)
        if start < len(fake):
            metric.update(fake[start : start + batch], real=False)
    return metric.compute()


@pytest.mark.parametrize("batch", [7, 64, 1000])
def test_fid_does_not_depend_on_batch_size(batch):
    assert stream(FID(), REAL, FAKE, batch) == pytest.approx(fid(REAL, FAKE), rel=1e-9)


@pytest.mark.parametrize("batch", [7, 64, 1000])
def test_kid_and_prdc_do_not_depend_on_batch_size(batch):
    assert stream(KID(n_subsets=10, subset_size=100), REAL, FAKE, batch) == kid(REAL, FAKE, 10, 100)
    assert stream(PRDC(k=3), REAL, FAKE, batch) == prdc(REAL, FAKE, k=3)


@pytest.mark.parametrize("batch", [7, 64, 1000])
def test_inception_score_does_not_depend_on_batch_size(batch):
    metric = InceptionScore(splits=3)
    for start in range(0, len(PROBS), batch):
        metric.update(PROBS[start : start + batch])
    assert metric.compute() == inception_score(PROBS, splits=3)


def test_cap_keeps_the_first_rows():
    metric = PRDC(k=3, max_samples=100)
    stream(metric, REAL, FAKE, 64)
    assert metric.compute() == prdc(REAL[:100], FAKE[:100], k=3)


def test_fid_stats_are_the_gaussian_stats():
    metric = FID()
    metric.update(REAL[:100], real=True)
    metric.update(REAL[100:], real=True)
    mu, sigma = metric.stats(real=True)
    np.testing.assert_allclose(mu.numpy(), REAL.mean(0), rtol=1e-12)
    np.testing.assert_allclose(sigma.numpy(), np.cov(REAL, rowvar=False), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("metric", [FID(), KID(n_subsets=2, subset_size=10), PRDC(k=3)])
def test_reset_clears_and_empty_side_raises(metric):
    with pytest.raises(ValueError, match="real"):
        metric.compute()
    metric.update(REAL, real=True)
    with pytest.raises(ValueError, match="fake"):
        metric.compute()
    metric.update(FAKE, real=False)
    first = metric.compute()
    metric.reset()
    with pytest.raises(ValueError):
        metric.compute()
    metric.update(REAL, real=True)
    metric.update(FAKE, real=False)
    assert metric.compute() == first


def test_inception_score_reset_and_empty():
    metric = InceptionScore(splits=2)
    with pytest.raises(ValueError, match="probabilities"):
        metric.compute()
    metric.update(PROBS)
    metric.reset()
    with pytest.raises(ValueError):
        metric.compute()


def test_feature_dimension_change_is_refused():
    metric = FID()
    metric.update(REAL, real=True)
    with pytest.raises(ValueError, match="dimension"):
        metric.update(REAL[:, :8], real=True)


def test_stored_rows_do_not_follow_the_callers_buffer():
    buffer = torch.randn(40, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    other = torch.randn(40, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    metric = PRDC(k=3)
    metric.update(buffer, real=True)
    expected = prdc(buffer.clone(), other, k=3)
    buffer.fill_(100.0)  # a caller reusing its array between updates
    metric.update(other, real=False)
    assert metric.compute() == expected
