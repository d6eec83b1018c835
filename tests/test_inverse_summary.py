"""gankit.inverse.summary against hand-computed tables: measurements saved by the prior, crossover, Sparse-Gen's
excess, and the memorization check; and the held-out split the test images come from."""

import math

import numpy as np
import pytest
import torch

from gankit.config import load_config
from gankit.errors import ConfigError
from gankit.inverse import measurements_needed, memorization_check, prior_summary
from gankit.kinds.gan_players import held_out_rows, load_real_data


def test_measurements_needed_interpolates_in_log_log():
    assert measurements_needed([10, 100], [0.1, 0.01], 10 ** -1.5) == pytest.approx(math.sqrt(10) * 10)
    assert measurements_needed([10, 100], [0.1, 0.01], 0.2) == 10  # already there at the smallest m
    assert measurements_needed([10, 100], [0.1, 0.01], 0.01) == pytest.approx(100)
    assert measurements_needed([10, 100], [0.1, 0.01], 0.005) is None  # never, in the measured range


def test_prior_summary_matches_a_hand_computed_table():
    table = {"csgm": [0.05, 0.02, 0.015], "lasso": [0.1, 0.05, 0.005], "tv": [0.2, 0.2, 0.2],
             "csgm_sparse": [0.05, 0.019, 0.006]}
    rows = [{"solver": name, "m": m, "mse": e} for name, errors in table.items() for m, e in zip((10, 100, 1000), errors)]
    summary = prior_summary(rows, "m")
    lasso = summary["baselines"]["lasso"]
    # m=10: lasso reaches 0.05 at m=100; m=100: 0.02 at 100·10^log10(2.5) = 250; m=1000: 0.015 at 100·10^log10(10/3)
    assert lasso["ratio"] == pytest.approx([10.0, 2.5, 1 / 3])
    assert lasso["crossover"] == 1000
    assert summary["baselines"]["tv"] == {"ratio": [None, None, None], "crossover": None}
    assert summary["sparse_excess"] == pytest.approx([0.0, -0.05, 0.2])  # against min(csgm, lasso, tv)
    assert summary["sizes"] == [10, 100, 1000] and set(summary["baselines"]) == {"lasso", "tv"}


def test_memorization_check_finds_a_copied_test_image_and_a_copying_generator():
    g = torch.Generator().manual_seed(0)
    train = torch.rand(200, 1, 6, 6, generator=g)
    fresh = torch.rand(20, 1, 6, 6, generator=g)
    clean = memorization_check(fresh, train, torch.rand(200, 1, 6, 6, generator=g))
    assert clean["test_min"] > 0.5 and clean["test_closer_than_train_q01"] == 0
    assert 0.3 < clean["generated_copy_fraction"] < 0.7  # fresh draws from the same distribution: about 0.5
    copied = memorization_check(torch.cat([fresh, train[:1]]), train, train[:100] + 1e-4)
    assert copied["test_min"] == pytest.approx(0, abs=1e-12) and copied["test_closer_than_train_q01"] == 1
    assert copied["generated_copy_fraction"] == 1.0
    expected = np.median(torch.cdist(fresh.flatten(1).double(), train.flatten(1).double()).min(1).values.numpy())
    assert clean["test_median"] == pytest.approx(expected)


def test_held_out_split_partitions_the_data_and_training_never_sees_it():
    config = load_config("digits", ["data.held_out=100"]).data
    train, held, everything = (load_real_data(config, 0, part) for part in ("train", "held_out", "all"))
    assert len(train.samples) == 1697 and len(held.samples) == 100 and len(everything.samples) == 1797
    rows = held_out_rows(1797, 100, 0)
    assert torch.equal(held.samples, everything.samples[rows]) and torch.equal(held.labels, everything.labels[rows])
    kept = torch.ones(1797, dtype=torch.bool)
    kept[rows] = False
    assert torch.equal(train.samples, everything.samples[kept]) and torch.equal(train.labels, everything.labels[kept])
    assert not torch.equal(rows, held_out_rows(1797, 100, 1))  # another seed, another split
    with pytest.raises(ConfigError, match="data.held_out 1797 leaves no training samples"):
        load_real_data(load_config("digits", ["data.held_out=1797"]).data, 0)


def test_the_gan_kind_trains_on_the_training_part_only():
    from gankit.kinds import get_kind

    config = load_config("digits", ["data.held_out=97", "model.g_width=8", "model.d_width=8"])
    setup = get_kind("gan").build(config, torch.device("cpu"))
    assert len(setup.data.real.samples) == 1700


def test_choose_weights_keeps_the_grid_value_with_the_lowest_validation_error_ties_to_the_larger():
    from gankit.inverse import choose_weights

    validation = torch.full((2, 1, 3, 3), 0.5)
    candidates = {
        "a": ((0.1, 0.2, 0.4), lambda w: validation + (w - 0.2)),  # error (w - 0.2)²: 0.2
        "b": ((1.0, 2.0, 3.0), lambda w: validation + (0.0 if w < 2.5 else 1.0)),  # 1 and 2 tie: the larger
    }
    assert choose_weights(validation, candidates) == {"a": 0.2, "b": 2.0}
