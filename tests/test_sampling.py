"""Sampling any kind of generator: inputs, condition checks, grids, traversals."""

import pytest
import torch

from gankit.errors import ConfigError
from gankit.nn import MLPGenerator
from gankit.nn.conditional import ConditionalGenerator, ConditionEncoder, ConditionSpec
from gankit.nn.infogan import InfoCodes
from gankit.sampling import (
    CodeInputs, ConditionInputs, LatentInputs, check_conditions, draw, traversal_inputs,
)


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
    g, inputs = _conditional(), ConditionInputs(2, ConditionSpec(n_classes=4))
    a = draw(g, inputs, 10, seed=3, conditions=torch.tensor([1]))
    assert torch.equal(a, draw(g, inputs, 10, seed=3, conditions=torch.tensor([1])))
    assert not torch.allclose(a, draw(g, inputs, 10, seed=3, conditions=torch.tensor([2])))
    # drawing in batches gives the same samples as one pass
    assert torch.allclose(draw(g, inputs, 10, seed=3, conditions=torch.tensor([1]), batch_size=3), a)


def test_unconditional_generators_refuse_conditions_and_vector_ones_need_them():
    with pytest.raises(ConfigError, match="unconditional"):
        LatentInputs(2).draw(3, torch.Generator(), torch.tensor([1]))
    with pytest.raises(ConfigError, match="--condition 0.0,0.0"):
        ConditionInputs(2, ConditionSpec(dim=2)).draw(3, torch.Generator())
    with pytest.raises(ConfigError, match="this is an InfoGAN run: its codes are drawn"):
        CodeInputs(2, InfoCodes(categorical=3)).draw(3, torch.Generator(), torch.tensor([1]))


def test_inputs_draw_z_first_then_their_condition_from_one_stream():
    z, labels = ConditionInputs(5, ConditionSpec(n_classes=4)).draw(6, torch.Generator().manual_seed(1))
    rng = torch.Generator().manual_seed(1)
    assert torch.equal(z, torch.randn(6, 5, generator=rng))
    assert torch.equal(labels, torch.randint(4, (6,), generator=rng))
    (plain,) = LatentInputs(5).draw(6, torch.Generator().manual_seed(1))
    assert torch.equal(plain, z)


def test_class_grids_have_one_row_per_class():
    labels = ConditionInputs(2, ConditionSpec(n_classes=4)).class_grid(3)
    assert labels.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]
    codes = InfoCodes(categorical=3, continuous=1)
    grid = CodeInputs(2, codes).class_grid(2)
    assert torch.equal(grid, torch.tensor([[1, 0, 0, 0], [1, 0, 0, 0], [0, 1, 0, 0], [0, 1, 0, 0],
                                           [0, 0, 1, 0], [0, 0, 1, 0.0]]))
    assert LatentInputs(2).class_grid(3) is None
    assert ConditionInputs(2, ConditionSpec(dim=3)).class_grid(3) is None  # vectors have no classes
    assert CodeInputs(2, InfoCodes(continuous=2)).class_grid(3) is None


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
