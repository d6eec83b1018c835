"""Class accuracy and InfoGAN's best code-to-class matching, checked against brute force."""

import itertools

import numpy as np
import pytest
import torch

from gankit.metrics.conditional import best_matching_accuracy, class_accuracy, contingency_table, per_class_indices


def test_class_accuracy_counts_matches():
    assert class_accuracy(torch.tensor([0, 1, 2, 2]), torch.tensor([0, 1, 1, 2])) == 0.75
    with pytest.raises(ValueError):
        class_accuracy(torch.tensor([0, 1]), torch.tensor([0]))


def test_contingency_table_by_hand():
    codes = torch.tensor([0, 0, 1, 1, 1, 2])
    predicted = torch.tensor([3, 3, 0, 0, 2, 1])
    table = contingency_table(codes, predicted, 3, 4)
    assert table.tolist() == [[0, 0, 0, 2], [2, 0, 1, 0], [0, 1, 0, 0]]


def test_a_relabelled_perfect_code_scores_one():
    codes = torch.arange(10).repeat(30)
    permutation = torch.tensor([3, 7, 0, 1, 9, 2, 8, 4, 6, 5])
    accuracy, mapping = best_matching_accuracy(codes, permutation[codes], 10, 10)
    assert accuracy == 1.0
    assert mapping == {i: int(permutation[i]) for i in range(10)}


def test_two_codes_on_one_class_cannot_both_count():
    codes = torch.tensor([0, 0, 1, 1])
    predicted = torch.tensor([5, 5, 5, 5])
    accuracy, _ = best_matching_accuracy(codes, predicted, 2, 10)
    assert accuracy == 0.5


@pytest.mark.parametrize("seed", range(5))
def test_hungarian_matching_equals_brute_force_over_permutations(seed):
    rng = np.random.default_rng(seed)
    k = 5
    codes = torch.from_numpy(rng.integers(0, k, 200))
    noisy = np.where(rng.random(200) < 0.6, (codes.numpy() * 2) % k, rng.integers(0, k, 200))
    predicted = torch.from_numpy(noisy)
    accuracy, _ = best_matching_accuracy(codes, predicted, k, k)
    table = contingency_table(codes, predicted, k, k)
    brute = max(sum(table[i, p[i]] for i in range(k)) for p in itertools.permutations(range(k))) / 200
    assert accuracy == pytest.approx(brute, abs=1e-12)


def test_per_class_indices_partition_the_rows():
    labels = torch.tensor([2, 0, 2, 1, 0])
    groups = per_class_indices(labels)
    assert list(groups) == [0, 1, 2]
    assert [g.tolist() for g in groups.values()] == [[1, 4], [3], [0, 2]]
