"""What an `invert` table says, as numbers: how many fewer measurements the GAN prior needs than each baseline,
where it stops winning, how close CSGM + sparse deviations stays to the better of the two; and whether the
test images or the generator's samples copy the training set."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from torch import Tensor

__all__ = ["GAN_SOLVERS", "measurements_needed", "memorization_check", "prior_summary"]

GAN_SOLVERS = ("csgm", "csgm_sparse")


def measurements_needed(sizes: list[int], errors: list[float], target: float) -> float | None:
    """The number of measurements at which the error curve (sizes ascending) first reaches `target`, by linear
    interpolation in (log m, log error) between the measured points; None if it never does in the measured range.
    Already at or below target at the smallest size: that size."""
    if errors[0] <= target:
        return float(sizes[0])
    for (m0, e0), (m1, e1) in zip(zip(sizes, errors), zip(sizes[1:], errors[1:])):
        if e1 <= target:
            t = (math.log(e0) - math.log(target)) / (math.log(e0) - math.log(e1))
            return math.exp(math.log(m0) + t * (math.log(m1) - math.log(m0)))
    return None


def prior_summary(rows: list[dict[str, Any]], key: str) -> dict[str, Any]:
    """Per baseline (every solver not in GAN_SOLVERS): at each size, the measurements the baseline needs to reach
    CSGM's error divided by that size (`ratio`; None beyond the measured range, so at least the largest size over
    this one), and the `crossover`, the smallest size at which the baseline's error is below CSGM's (None: never).
    Plus `sparse_excess`: at each size, CSGM + sparse's error over the best of CSGM and every baseline, minus 1."""
    table = {(row["solver"], row[key]): row["mse"] for row in rows}
    solvers = list(dict.fromkeys(row["solver"] for row in rows))
    sizes = sorted({row[key] for row in rows})
    if "csgm" not in solvers:
        return {}
    csgm = [table[("csgm", size)] for size in sizes]
    summary: dict[str, Any] = {"sizes": sizes, "baselines": {}}
    for name in (s for s in solvers if s not in GAN_SOLVERS):
        errors = [table[(name, size)] for size in sizes]
        needed = [measurements_needed(sizes, errors, target) for target in csgm]
        summary["baselines"][name] = {
            "ratio": [None if m is None else m / size for m, size in zip(needed, sizes)],
            "crossover": next((size for size, e, c in zip(sizes, errors, csgm) if e < c), None),
        }
    if "csgm_sparse" in solvers:
        best = [min(table[(s, size)] for s in solvers if s != "csgm_sparse") for size in sizes]
        summary["sparse_excess"] = [table[("csgm_sparse", size)] / b - 1 for size, b in zip(sizes, best)]
    return summary


def memorization_check(test: Tensor, train: Tensor, generated: Tensor) -> dict[str, float]:
    """Pixel-space nearest-neighbour distances (gankit.metrics.memorization), images in [0, 1]: is any test image
    a (near-)copy of a training image, and does the generator copy its training set?

    `test_min` / `test_median`: distance from each test image to its nearest training image; `train_q01` /
    `train_median`: the same for each training image to its nearest other one (the scale of "close" in this
    data); `test_closer_than_train_q01`: test images nearer the training set than 99% of training images are to
    each other; `generated_*`: memorization_summary of generated samples against the training set
    (copy_fraction ≈ 0.5 for fresh samples, near 1 for copies)."""
    from gankit.metrics.memorization import (
        memorization_summary, nearest_neighbour_distances, self_nearest_neighbour_distances,
    )

    flat_train = train.flatten(1).double()
    test_nn = nearest_neighbour_distances(test.flatten(1).double(), flat_train).numpy()
    train_nn = self_nearest_neighbour_distances(flat_train).numpy()
    q01 = float(np.quantile(train_nn, 0.01))
    generated_summary = memorization_summary(nearest_neighbour_distances(generated.flatten(1).double(), flat_train),
                                             train_nn)
    return {"test_min": float(test_nn.min()), "test_median": float(np.median(test_nn)), "train_q01": q01,
            "train_median": float(np.median(train_nn)),
            "test_closer_than_train_q01": int((test_nn < q01).sum()),
            **{f"generated_{name}": value for name, value in generated_summary.items()}}
