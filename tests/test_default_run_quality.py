"""The default preset, trained in full, draws recognisable digits of every class (slow: ~3.5 min)."""

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression

from gankit.config import load_config
from gankit.data import load_mnist_sample
from gankit.runs import sample_from_run
from gankit.train.run import train


@pytest.mark.slow
def test_default_mnist_run_draws_recognisable_digits(tmp_path):
    images, labels = load_mnist_sample(with_labels=True)
    x = images.flatten(1).numpy()
    classifier = LogisticRegression(max_iter=300).fit(x[:4000], labels[:4000].numpy())
    held_out = classifier.predict_proba(x[4000:]).max(1)

    run = train(load_config(), tmp_path / "run", progress=False)
    assert not (run.path / "alarms.jsonl").exists()  # the default preset trains without any alarm
    samples = sample_from_run(run.path, 1000, tmp_path / "s.npy", seed=1)
    proba = classifier.predict_proba(samples.flatten(1).numpy())
    counts = np.bincount(proba.argmax(1), minlength=10)

    # Samples the classifier is about as sure of as it is of real held-out digits...
    assert np.median(proba.max(1)) > 0.8 * np.median(held_out)
    # ...spread over the digit classes rather than collapsed onto a few.
    assert (counts >= 30).sum() >= 8, counts
    assert samples.min() >= -1 and samples.max() <= 1
    assert torch.isfinite(samples).all()
