"""Evaluation speed: images per second of each CPU feature extractor, and gankit's FID core vs torchmetrics'.

1. Throughput of the CPU feature extractors: the shipped MNIST and digits classifiers
   (batch 256) and the FID Inception-v3 (batch 50, random weights: same cost).
2. FID of two feature sets (real MNIST-sample features vs features of noisy copies)
   by gankit's `fid_from_features` and by torchmetrics' core on the same means and
   covariances: the values (must agree to 1e-4 relative) and the time ratio.
   torchmetrics is not a gankit dependency: `pip install torchmetrics` for this part.

    python benchmarks/bench_metrics.py [--n 5000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch

from gankit.data import load_digits, load_mnist_sample
from gankit.metrics.features import ClassifierFeatures, InceptionFeatures, InceptionV3FID
from gankit.metrics.fid import fid_from_features, gaussian_stats


def best_seconds(fn: Callable[[], object], repeats: int) -> float:
    """Median wall time of `fn` over `repeats` calls after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def extractor_throughput(n: int, repeats: int) -> None:
    print("| extractor | input | images/s |\n|---|---|---|")
    for name, images in (("mnist", load_mnist_sample()[:n]), ("digits", load_digits())):
        extractor = ClassifierFeatures(name)
        seconds = best_seconds(lambda: extractor.features(images), repeats)
        shape = "x".join(str(s) for s in images.shape[1:])
        print(f"| {name} classifier | {shape} | {len(images) / seconds:,.0f} |")
    inception = InceptionFeatures(model=InceptionV3FID().eval())  # random weights: speed does not depend on them
    images = load_mnist_sample()[:50]
    seconds = best_seconds(lambda: inception.features(images), max(1, repeats // 2))
    print(f"| FID Inception-v3 (resized to 299) | 1x28x28 | {len(images) / seconds:,.1f} |")


def fid_against_torchmetrics(n: int, repeats: int) -> None:
    try:
        from torchmetrics.image.fid import _compute_fid  # private core of FrechetInceptionDistance
    except ImportError:
        print("\ntorchmetrics is not installed: pip install torchmetrics to compare FID cores")
        return
    extractor = ClassifierFeatures("mnist")
    images = load_mnist_sample()[:n]
    noisy = (images + 0.3 * torch.randn(images.shape, generator=torch.Generator().manual_seed(0))).clamp(-1, 1)
    mu1, sigma1 = gaussian_stats(extractor.features(images))
    mu2, sigma2 = gaussian_stats(extractor.features(noisy))
    ours = fid_from_features(mu1, sigma1, mu2, sigma2)
    tensors = [torch.from_numpy(a) for a in (mu1, sigma1, mu2, sigma2)]
    theirs = float(_compute_fid(*tensors))
    t_ours = best_seconds(lambda: fid_from_features(mu1, sigma1, mu2, sigma2), repeats)
    t_theirs = best_seconds(lambda: _compute_fid(*tensors), repeats)
    print(f"\nFID core on {n} MNIST-sample features (dim {len(mu1)}), float64:")
    print(f"gankit {ours:.8f}  torchmetrics {theirs:.8f}  relative difference {abs(ours - theirs) / theirs:.1e}")
    print(f"time: gankit {1000 * t_ours:.2f} ms, torchmetrics {1000 * t_theirs:.2f} ms, "
          f"ratio gankit/torchmetrics {t_ours / t_theirs:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU\n")
    extractor_throughput(args.n, args.repeats)
    fid_against_torchmetrics(args.n, args.repeats)


if __name__ == "__main__":
    main()
