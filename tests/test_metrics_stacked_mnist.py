"""Stacked MNIST data and its 1,000-mode coverage metric (uses the shipped MNIST classifier)."""

import math

import pytest
import torch
from torch import nn

from gankit.data.images import load_mnist_sample
from gankit.data.stacked import stacked_mnist
from gankit.metrics.features import load_classifier
from gankit.metrics.stacked_mnist import N_STACKED_MODES, stacked_mnist_modes


@pytest.fixture(scope="module")
def classifier():
    return load_classifier("mnist")


def test_labels_decode_to_the_per_channel_mnist_labels():
    digits, digit_labels = load_mnist_sample(28, with_labels=True)
    lookup = {digit.numpy().tobytes(): int(label) for digit, label in zip(digits, digit_labels)}
    images, labels = stacked_mnist(300, seed=3)
    assert images.shape == (300, 3, 28, 28) and labels.dtype == torch.int64
    assert images.min() >= -1 and images.max() <= 1
    for image, label in zip(images, labels):
        channels = [lookup[channel[None].numpy().tobytes()] for channel in image]
        assert int(label) == 100 * channels[0] + 10 * channels[1] + channels[2]


def test_stacked_mnist_is_seeded():
    first, second, other = stacked_mnist(50, seed=1), stacked_mnist(50, seed=1), stacked_mnist(50, seed=2)
    assert torch.equal(first[0], second[0]) and torch.equal(first[1], second[1])
    assert not torch.equal(first[1], other[1])


class _Memoized(nn.Module):
    """The shipped classifier's logits, computed once per MNIST-sample digit and looked up by pixel content.

    The 78,000 channels of 26,000 real samples are copies of the 5,000 sample digits: looking them up gives the
    classifier's exact outputs in a fraction of the time.
    """

    def __init__(self, classifier: nn.Module) -> None:
        super().__init__()
        digits = load_mnist_sample(28)
        with torch.no_grad():
            logits = classifier(digits)
        self.table = {digit.numpy().tobytes(): row for digit, row in zip(digits, logits)}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([self.table[image.numpy().tobytes()] for image in x])


def test_real_stacked_mnist_covers_almost_every_mode(classifier):
    images, labels = stacked_mnist(26_000, seed=0)
    coverage = stacked_mnist_modes(images, _Memoized(classifier))
    assert coverage.modes >= 990
    assert coverage.kl < 0.05
    assert sum(coverage.counts) == 26_000 and len(coverage.counts) == N_STACKED_MODES
    true_counts = torch.bincount(labels, minlength=N_STACKED_MODES)
    assert (true_counts > 0).sum() >= 990


def test_one_class_generator_covers_at_most_ten_modes(classifier):
    digits = load_mnist_sample(28)
    same_image = digits[7].expand(100, 3, 28, 28)
    coverage = stacked_mnist_modes(same_image, classifier)
    assert coverage.modes == 1
    assert coverage.kl == pytest.approx(math.log(N_STACKED_MODES))
    one_digit_everywhere = digits[:500:5].expand(100, 3, 28, 28)  # 100 zeros, each copied to all channels
    coverage = stacked_mnist_modes(one_digit_everywhere, classifier)
    assert coverage.modes == 1 and coverage.counts[0] == 100  # every sample reads as the triple 000


def test_default_classifier_and_bad_shapes():
    images, labels = stacked_mnist(20, seed=0)
    coverage = stacked_mnist_modes(images)  # the shipped classifier reads these 20 triples right
    assert coverage.counts == tuple(torch.bincount(labels, minlength=N_STACKED_MODES).tolist())
    assert coverage.modes == len(set(labels.tolist()))
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        stacked_mnist_modes(images[:, :1])
