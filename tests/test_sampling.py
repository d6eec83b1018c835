"""Sampling any kind of generator: inputs, condition checks, grids, traversals."""

import pytest
import torch

from gankit.errors import ConfigError
from gankit.nn import MLPGenerator
from gankit.nn.conditional import ConditionalGenerator, ConditionEncoder, ConditionSpec
from gankit.nn.infogan import InfoCodes, InfoGANGenerator
from gankit.sampling import check_conditions, class_grid_conditions, draw, generator_inputs, traversal_inputs


def _conditional(spec=ConditionSpec(n_classes=4)):
    encoder = ConditionEncoder(spec, 3)
    return ConditionalGenerator(MLPGenerator(2 + encoder.out_dim, 2, hidden=8, depth=1), encoder, latent_dim=2)


def test_labels_are_checked_against_the_trained_classes():
    spec = ConditionSpec(n_classes=4)
    assert check_conditions(spec, torch.tensor([3]), 5).tolist() == [3] * 5
    with pytest.raises(ConfigError, match="label 4 is outside the trained classes 0..3"):
        check_conditions(spec, torch.tensor([4]), 1)
    with pytest.raises(ConfigError, match="give --label"):
        check_conditions(spec, torch.tensor([[0.5, 1.0]]), 1)


def test_vectors_must_have_the_trained_length():
    spec = ConditionSpec(dim=2)
    assert check_conditions(spec, torch.tensor([[0.3, 1.2]]), 3).shape == (3, 2)
    with pytest.raises(ConfigError, match="vector of 3 numbers was given; this generator takes 2"):
        check_conditions(spec, torch.tensor([[0.3, 1.2, 4.0]]), 1)
    with pytest.raises(ConfigError, match="give --condition"):
        check_conditions(spec, torch.tensor([1]), 1)
    with pytest.raises(ConfigError, match="NaN"):
        check_conditions(spec, torch.tensor([[float("nan"), 1.0]]), 1)


def test_draw_is_reproducible_and_conditions_change_the_output():
    g = _conditional()
    a = draw(g, 10, seed=3, conditions=torch.tensor([1]))
    assert torch.equal(a, draw(g, 10, seed=3, conditions=torch.tensor([1])))
    assert not torch.allclose(a, draw(g, 10, seed=3, conditions=torch.tensor([2])))
    # drawing in batches gives the same samples as one pass
    assert torch.allclose(draw(g, 10, seed=3, conditions=torch.tensor([1]), batch_size=3), a)


def test_unconditional_generators_refuse_conditions_and_vector_ones_need_them():
    with pytest.raises(ConfigError, match="unconditional"):
        generator_inputs(MLPGenerator(2, 2), 3, torch.Generator(), torch.tensor([1]))
    with pytest.raises(ConfigError, match="--condition 0.0,0.0"):
        generator_inputs(_conditional(ConditionSpec(dim=2)), 3, torch.Generator())


def test_class_grids_have_one_row_per_class():
    labels = class_grid_conditions(_conditional(), 3)
    assert labels.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]
    codes = InfoCodes(categorical=3, continuous=1)
    info = InfoGANGenerator(MLPGenerator(2 + codes.dim, 2), codes, latent_dim=2)
    grid = class_grid_conditions(info, 2)
    assert torch.equal(grid, torch.tensor([[1, 0, 0, 0], [1, 0, 0, 0], [0, 1, 0, 0], [0, 1, 0, 0],
                                           [0, 0, 1, 0], [0, 0, 1, 0.0]]))
    assert class_grid_conditions(MLPGenerator(2, 2), 3) is None


def test_traversal_sweeps_one_continuous_code_per_row():
    codes = InfoCodes(categorical=2, continuous=2)
    z, c = traversal_inputs(codes, 4, 1, steps=3, span=2.0)
    assert z.shape == (6, 4) and c.shape == (6, 4)
    assert torch.equal(z[0], z[2]) and not torch.equal(z[0], z[3])  # one z per row
    assert c[:, 3].tolist() == [-2.0, 0.0, 2.0, -2.0, 0.0, 2.0]
    assert c[:, 2].abs().sum() == 0  # the other code stays at 0
    assert c[:, :2].argmax(1).tolist() == [0, 0, 0, 1, 1, 1]
    with pytest.raises(ConfigError, match="continuous code 2 does not exist"):
        traversal_inputs(codes, 4, 2)
