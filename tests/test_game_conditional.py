"""Conditional, AC-GAN and InfoGAN games: each extra term equals its hand computation."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from gankit import losses
from gankit.game import ConditionalGANGame, InfoGANGame, information_loss, mutual_information_lower_bound
from gankit.nn import MLPDiscriminator, MLPGenerator
from gankit.nn.conditional import ConditionalDiscriminator, ConditionalGenerator, ConditionEncoder, ConditionSpec
from gankit.nn.infogan import InfoCodes, InfoGANDiscriminator, InfoGANGenerator


def test_mi_lower_bound_is_the_entropy_for_a_q_that_recovers_the_code():
    k = 10
    codes = torch.arange(k).repeat(20)
    perfect = F.one_hot(codes, k).double() * 50.0  # Q puts all its mass on the true code
    assert float(mutual_information_lower_bound(perfect, codes)) == pytest.approx(math.log(k), abs=1e-12)
    uniform = torch.zeros(len(codes), k, dtype=torch.float64)
    assert float(mutual_information_lower_bound(uniform, codes)) == pytest.approx(0.0, abs=1e-12)
    # A Q that is right with probability 0.7 and spreads the rest: bound = log k + E log q(c|x), by NumPy.
    p = np.full((len(codes), k), 0.3 / (k - 1))
    p[np.arange(len(codes)), codes.numpy()] = 0.7
    noisy = torch.from_numpy(np.log(p))
    expected = math.log(k) + np.log(0.7)
    assert float(mutual_information_lower_bound(noisy, codes)) == pytest.approx(expected, abs=1e-12)
    assert 0 < expected < math.log(k)


def test_information_loss_is_cross_entropy_plus_weighted_gaussian_term():
    spec = InfoCodes(categorical=3, continuous=2)
    codes = spec.encode(torch.tensor([0, 2]), torch.tensor([[0.5, -1.0], [0.0, 0.25]]))
    q = torch.tensor([[2.0, 0.0, -1.0, 0.5, 0.0], [0.0, 1.0, 3.0, 1.0, 0.25]])
    loss, bound = information_loss(q, codes, spec, continuous_weight=0.1)
    logp = q[:, :3] - torch.logsumexp(q[:, :3], 1, keepdim=True)
    ce = -(logp[0, 0] + logp[1, 2]) / 2
    gauss = 0.5 * ((0.0 ** 2 + 1.0 ** 2) + (1.0 ** 2 + 0.0 ** 2)) / 2
    assert float(loss) == pytest.approx(float(ce) + 0.1 * gauss, abs=1e-6)
    assert float(bound) == pytest.approx(math.log(3) - float(ce), abs=1e-6)
    only_continuous = InfoCodes(continuous=2)
    loss, bound = information_loss(q[:, 3:], codes[:, 3:], only_continuous)
    assert bound is None and float(loss) == pytest.approx(gauss, abs=1e-6)


def _conditional_game(aux_weight=0.0, conditioning="projection", **kwargs):
    torch.manual_seed(0)
    spec = ConditionSpec(n_classes=3)
    g = ConditionalGenerator(MLPGenerator(2 + 4, 2, hidden=8, depth=1), ConditionEncoder(spec, 4), latent_dim=2)
    d = ConditionalDiscriminator(MLPDiscriminator(2, hidden=8, depth=1), ConditionEncoder(spec, 4), conditioning,
                                 aux_classes=3 if aux_weight else None)
    return ConditionalGANGame(g, d, losses.get("nonsaturating"), 2, aux_weight=aux_weight, **kwargs)


def _batch(n=16):
    return torch.randn(n, 2), torch.arange(n) % 3


def test_conditional_game_draws_fakes_with_the_batch_labels():
    game = _conditional_game()
    real, labels = _batch()
    torch.manual_seed(5)
    out = game.losses((real, labels), players=["generator", "discriminator"], step=0)
    torch.manual_seed(5)
    z = game.sample_latent(len(real))
    fake = game.generator(z, labels)
    loss = losses.get("nonsaturating")
    expected_g = loss.generator(fake_logits=game.discriminator(fake, labels))
    expected_d = loss.discriminator(real_logits=game.discriminator(real, labels),
                                    fake_logits=game.discriminator(fake, labels))
    assert torch.allclose(out.losses["generator"], expected_g)
    assert torch.allclose(out.losses["discriminator"], expected_d)


def test_acgan_adds_the_classification_losses_with_their_weight():
    game = _conditional_game(aux_weight=0.5, conditioning="unconditional")
    real, labels = _batch()
    torch.manual_seed(5)
    out = game.losses((real, labels), players=["generator", "discriminator"], step=0)
    torch.manual_seed(5)
    fake = game.generator(game.sample_latent(len(real)), labels)
    d = game.discriminator
    ce_fake = F.cross_entropy(d.scores(fake, labels)[1], labels).item()
    ce_real = F.cross_entropy(d.scores(real, labels)[1], labels).item()
    assert out.losses["generator"].item() == pytest.approx(out.stats["loss_g"].item() + 0.5 * ce_fake, abs=1e-6)
    assert out.losses["discriminator"].item() == pytest.approx(
        out.stats["loss_d"].item() + 0.5 * (ce_fake + ce_real), abs=1e-6
    )
    assert 0 <= float(out.stats["aux_accuracy_real"]) <= 1


def test_acgan_weight_needs_a_classifier():
    spec = ConditionSpec(n_classes=3)
    g = ConditionalGenerator(MLPGenerator(6, 2), ConditionEncoder(spec, 4), latent_dim=2)
    d = ConditionalDiscriminator(MLPDiscriminator(2), ConditionEncoder(spec, 4), "projection")
    with pytest.raises(ValueError, match="auxiliary classifier"):
        ConditionalGANGame(g, d, losses.get("hinge"), 2, aux_weight=1.0)


def test_penalties_use_the_conditional_critic():
    game = _conditional_game(r1_gamma=2.0)
    real, labels = _batch()
    out = game.losses((real, labels), players=["discriminator"], step=0)
    x = real.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(game.discriminator(x, labels).sum(), x)
    assert float(out.stats["r1"]) == pytest.approx(float(grad.pow(2).sum(1).mean()), rel=1e-5)


def test_infogan_both_players_carry_the_information_term():
    torch.manual_seed(0)
    codes = InfoCodes(categorical=4, continuous=1)
    g = InfoGANGenerator(MLPGenerator(3 + codes.dim, 2, hidden=8, depth=1), codes, latent_dim=3)
    d = InfoGANDiscriminator(MLPDiscriminator(2, hidden=8, depth=1), codes, hidden=8)
    game = InfoGANGame(g, d, losses.get("nonsaturating"), 3, codes=codes, info_weight=2.0, continuous_weight=0.5)
    real = torch.randn(32, 2)
    torch.manual_seed(1)
    out = game.losses(real, players=["generator", "discriminator"], step=0)
    # By hand, on the game's draws (z, then the categories, then the continuous codes in [-1, 1]):
    torch.manual_seed(1)
    z, categories, continuous = torch.randn(32, 3), torch.randint(4, (32,)), torch.rand(32, 1) * 2 - 1
    fake = g.base(torch.cat([z, F.one_hot(categories, 4).float(), continuous], dim=1))
    features = d.base.features(fake)
    logits, q = d.base.logit_from_features(features), d.q_head(features)
    cross_entropy = -q[:, :4].log_softmax(dim=1)[torch.arange(32), categories].mean()
    info = cross_entropy + 0.5 * 0.5 * (continuous[:, 0] - q[:, 4]).pow(2).mean()
    loss_g = F.softplus(-logits).mean()
    loss_d = F.softplus(-d(real)).mean() + F.softplus(logits).mean()
    assert out.stats["info_loss"].item() == pytest.approx(info.item(), abs=1e-6)
    assert out.stats["mi_lower_bound"].item() == pytest.approx(math.log(4) - cross_entropy.item(), abs=1e-6)
    for player, expected in [("generator", loss_g + 2.0 * info), ("discriminator", loss_d + 2.0 * info)]:
        assert out.losses[player].item() == pytest.approx(expected.item(), abs=1e-6)
        params = list(game.players[player].parameters())  # the term's gradient reaches the player, Q's head too
        got = torch.autograd.grad(out.losses[player], params, retain_graph=True, allow_unused=True)
        want = torch.autograd.grad(expected, params, retain_graph=True, allow_unused=True)
        for a, b in zip(got, want, strict=True):
            assert (a is None) == (b is None)
            if a is not None:
                torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7)
    q_grads = torch.autograd.grad(out.losses["discriminator"], list(d.q_head.parameters()), retain_graph=True)
    assert all(float(grad.abs().sum()) > 0 for grad in q_grads)
