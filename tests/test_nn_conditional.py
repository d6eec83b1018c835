"""Conditional and InfoGAN players: shapes, the projection identity, where the condition enters."""

import pytest
import torch
from torch import nn

from gankit.nn import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator
from gankit.nn.conditional import (
    ConditionalDiscriminator,
    ConditionalGenerator,
    ConditionEncoder,
    ConditionSpec,
    join_condition,
)
from gankit.nn.infogan import InfoCodes, InfoGANDiscriminator, InfoGANGenerator


def test_label_embedding_and_vector_encoding_shapes():
    labels = ConditionEncoder(ConditionSpec(n_classes=10), embed_dim=6)
    assert labels(torch.tensor([0, 3, 9])).shape == (3, 6)
    assert labels.out_dim == 6
    vectors = ConditionEncoder(ConditionSpec(dim=2), embed_dim=6)
    v = torch.tensor([[0.3, 1.2], [-1.0, 0.0]])
    assert vectors.out_dim == 2
    assert torch.equal(vectors(v), v)  # vectors pass through unchanged


@pytest.mark.parametrize("kwargs", [{}, {"n_classes": 3, "dim": 2}, {"n_classes": 1}, {"dim": 0}])
def test_condition_spec_needs_exactly_one_valid_kind(kwargs):
    with pytest.raises(ValueError):
        ConditionSpec(**kwargs)


def test_condition_spec_round_trips_through_plain_values():
    for spec in (ConditionSpec(n_classes=4), ConditionSpec(dim=3)):
        assert ConditionSpec.from_dict(spec.to_dict()) == spec


def test_conditional_generator_joins_the_embedding_to_z():
    spec = ConditionSpec(n_classes=4)
    g = ConditionalGenerator(MLPGenerator(3 + 5, 2, hidden=8, depth=1), ConditionEncoder(spec, 5), latent_dim=3)
    z = torch.randn(6, 3)
    labels = torch.tensor([0, 1, 2, 3, 0, 1])
    expected = g.base(torch.cat([z, g.encoder.embedding.weight[labels]], dim=1))
    assert torch.equal(g(z, labels), expected)
    assert not torch.allclose(g(z, torch.zeros(6, dtype=torch.long)), g(z, torch.ones(6, dtype=torch.long)))


def test_dcgan_generator_with_labels_makes_images():
    spec = ConditionSpec(n_classes=10)
    g = ConditionalGenerator(DCGANGenerator(8 + 4, 1, 28, width=8), ConditionEncoder(spec, 4), latent_dim=8)
    assert g(torch.randn(5, 8), torch.arange(5)).shape == (5, 1, 28, 28)


def test_join_condition_as_columns_and_as_constant_channels():
    e = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert torch.equal(join_condition(torch.zeros(2, 3), e), torch.tensor([[0, 0, 0, 1, 2], [0, 0, 0, 3, 4.0]]))
    images = join_condition(torch.zeros(2, 1, 4, 4), e)
    assert images.shape == (2, 3, 4, 4)
    assert torch.equal(images[1, 2], torch.full((4, 4), 4.0))


def test_projection_discriminator_is_the_unconditional_term_plus_the_inner_product():
    # Hand-built: features φ(x) = x (identity body), ψ(φ) = w·φ + b, embedding rows e_y.
    base = MLPDiscriminator(2, hidden=2, depth=1)
    with torch.no_grad():
        base.net[0].weight.copy_(torch.eye(2))
        base.net[0].bias.zero_()
        base.net[2].weight.copy_(torch.tensor([[0.5, -1.0]]))
        base.net[2].bias.fill_(0.25)
    d = ConditionalDiscriminator(base, ConditionEncoder(ConditionSpec(n_classes=2), 4), "projection")
    with torch.no_grad():
        d.projection.weight.copy_(torch.tensor([[1.0, 2.0], [-3.0, 0.5]]))
    x = torch.tensor([[1.0, 2.0], [3.0, 1.0]])  # positive: LeakyReLU is the identity
    y = torch.tensor([0, 1])
    # sample 0: 0.5*1 - 1*2 + 0.25 = -1.25, plus <(1,2),(1,2)> = 5  -> 3.75
    # sample 1: 0.5*3 - 1*1 + 0.25 = 0.75, plus <(-3,0.5),(3,1)> = -8.5 -> -7.75
    assert torch.allclose(d(x, y), torch.tensor([3.75, -7.75]))


def test_projection_on_dcgan_features_matches_its_head():
    base = DCGANDiscriminator(1, 28, width=8)
    d = ConditionalDiscriminator(base, ConditionEncoder(ConditionSpec(n_classes=3), 4), "projection")
    x = torch.randn(4, 1, 28, 28)
    y = torch.tensor([0, 1, 2, 1])
    features = base.features(x)
    assert features.shape == (4, base.feature_dim)
    expected = base(x) + (d.projection.weight[y] * features).sum(1)
    assert torch.allclose(d(x, y), expected, atol=1e-5)


def test_vector_projection_uses_a_linear_map_of_the_condition():
    base = MLPDiscriminator(3, hidden=5, depth=2)
    d = ConditionalDiscriminator(base, ConditionEncoder(ConditionSpec(dim=2), 4), "projection")
    x, c = torch.randn(7, 3), torch.randn(7, 2)
    expected = base(x) + ((c @ d.projection.weight.T) * base.features(x)).sum(1)
    assert torch.allclose(d(x, c), expected, atol=1e-6)


def test_concat_discriminator_sees_the_label_at_its_input():
    spec = ConditionSpec(n_classes=3)
    base = DCGANDiscriminator(1 + 2, 28, width=8)
    d = ConditionalDiscriminator(base, ConditionEncoder(spec, 2), "concat")
    x = torch.randn(3, 1, 28, 28)
    logits, aux = d.scores(x, torch.tensor([0, 1, 2]))
    assert logits.shape == (3,) and aux is None
    embedded = d.encoder.embedding.weight[torch.tensor([0, 1, 2])]
    assert torch.allclose(logits, base(join_condition(x, embedded)))


def test_acgan_classifier_reads_the_features_only():
    base = MLPDiscriminator(4, hidden=6, depth=2)
    d = ConditionalDiscriminator(base, ConditionEncoder(ConditionSpec(n_classes=5), 3), "unconditional", aux_classes=5)
    x = torch.randn(8, 4)
    logits, aux = d.scores(x, torch.zeros(8, dtype=torch.long))
    assert torch.allclose(logits, base(x))  # unconditional: the label does not enter the logit
    assert torch.allclose(aux, d.classifier(base.features(x)))
    assert aux.shape == (8, 5)
    with pytest.raises(ValueError, match="would see the label"):
        ConditionalDiscriminator(base, ConditionEncoder(ConditionSpec(n_classes=5), 3), "concat", aux_classes=5)


def test_spectral_norm_reaches_the_conditional_heads():
    base = MLPDiscriminator(4, hidden=6, depth=1, spectral_norm=True)
    d = ConditionalDiscriminator(base, ConditionEncoder(ConditionSpec(n_classes=3), 3), "projection",
                                 aux_classes=3, spectral_norm=True)
    assert nn.utils.parametrize.is_parametrized(d.classifier, "weight")
    assert not nn.utils.parametrize.is_parametrized(d.projection, "weight")  # an embedding: rows, not a map


def test_info_codes_encode_split_and_sample():
    codes = InfoCodes(categorical=4, continuous=2)
    encoded = codes.encode(torch.tensor([2, 0]), torch.tensor([[0.5, -0.5], [1.0, 0.0]]))
    assert torch.equal(encoded, torch.tensor([[0, 0, 1, 0, 0.5, -0.5], [1, 0, 0, 0, 1.0, 0.0]]))
    categories, continuous = codes.split(encoded)
    assert torch.equal(categories, torch.tensor([2, 0]))
    assert torch.equal(continuous, encoded[:, 4:])
    sample = codes.sample(4000, generator=torch.Generator().manual_seed(0))
    counts = torch.bincount(sample[:, :4].argmax(1), minlength=4).float()
    assert counts.min() > 900 and counts.max() < 1100  # uniform categories (1000 expected each)
    assert sample[:, 4:].min() >= -1 and sample[:, 4:].max() <= 1
    assert abs(float(sample[:, 4:].mean())) < 0.05
    for bad in ({"categorical": 1}, {"categorical": 0, "continuous": 0}, {"continuous": -1}):
        with pytest.raises(ValueError):
            InfoCodes(**bad)


def test_infogan_players_share_the_discriminator_body():
    codes = InfoCodes(categorical=10, continuous=2)
    g = InfoGANGenerator(DCGANGenerator(16 + codes.dim, 1, 28, width=8), codes, latent_dim=16)
    d = InfoGANDiscriminator(DCGANDiscriminator(1, 28, width=8), codes)
    x = g(torch.randn(3, 16), codes.sample(3))
    logits, q = d.scores(x)
    assert logits.shape == (3,) and q.shape == (3, 12)
    assert torch.allclose(logits, d(x)) and torch.allclose(logits, d.base(x))
    assert torch.allclose(q, d.q_head(d.base.features(x)))
