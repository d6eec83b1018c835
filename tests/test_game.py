"""GANGame: the losses it hands each player, and its regularizers, on players simple enough to check by hand."""

import pytest
import torch
from torch import nn

from gankit import losses
from gankit.game import GANGame


def _linear_players(dim=3, latent=2, seed=0):
    torch.manual_seed(seed)
    return nn.Linear(latent, dim), nn.Sequential(nn.Linear(dim, 1), nn.Flatten(0))


def _game(**kwargs):
    g, d = _linear_players()
    return GANGame(g, d, kwargs.pop("loss", losses.nonsaturating), latent_dim=2, **kwargs), g, d


def test_losses_equal_the_objective_on_the_same_latents():
    game, g, d = _game()
    real = torch.randn(8, 3)
    torch.manual_seed(5)
    out = game.losses(real, players=["discriminator", "generator"], step=0)
    torch.manual_seed(5)
    fake = g(torch.randn(8, 2))
    expected_d = losses.nonsaturating.discriminator(real_logits=d(real), fake_logits=d(fake))
    expected_g = losses.nonsaturating.generator(fake_logits=d(fake))
    assert out.losses["discriminator"].item() == pytest.approx(expected_d.item(), rel=1e-6)
    assert out.losses["generator"].item() == pytest.approx(expected_g.item(), rel=1e-6)
    assert out.stats["d_real"].item() == pytest.approx(d(real).mean().item(), rel=1e-6)
    assert out.stats["d_fake"].item() == pytest.approx(d(fake).mean().item(), rel=1e-6)


def test_discriminator_only_losses_do_not_reach_the_generator():
    game, g, d = _game()
    out = game.losses(torch.randn(8, 3), players=["discriminator"], step=0)
    assert set(out.losses) == {"discriminator"}
    out.losses["discriminator"].backward()
    assert all(p.grad is None for p in g.parameters())
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in d.parameters())


def test_generator_only_losses_reach_the_generator():
    game, g, _ = _game()
    out = game.losses(torch.randn(8, 3), players=["generator"], step=0)
    assert set(out.losses) == {"generator"}
    grads = torch.autograd.grad(out.losses["generator"], list(g.parameters()))
    assert all(gr.abs().sum() > 0 for gr in grads)


def test_gradient_penalty_of_linear_critic_is_added_with_its_weight():
    game, _, d = _game(loss=losses.wasserstein, gp_weight=10.0)
    w = d[0].weight.detach()
    out = game.losses(torch.randn(16, 3), players=["discriminator"], step=0)
    extra = out.losses["discriminator"].item() - out.stats["loss_d"].item()
    assert extra == pytest.approx(10.0 * (w.norm().item() - 1) ** 2, rel=1e-5)


@pytest.mark.parametrize("step, applied", [(0, True), (1, False), (3, False), (4, True)])
def test_lazy_r1_applies_every_n_steps_scaled_by_n(step, applied):
    game, _, d = _game(r1_gamma=2.0, r1_every=4)
    w2 = d[0].weight.detach().pow(2).sum().item()
    out = game.losses(torch.randn(16, 3), players=["discriminator"], step=step)
    extra = out.losses["discriminator"].item() - out.stats["loss_d"].item()
    assert extra == pytest.approx(0.5 * 2.0 * 4 * w2 if applied else 0.0, rel=1e-5, abs=1e-7)
    assert ("r1" in out.stats) == applied


def test_label_smoothing_target_reaches_the_discriminator_loss():
    smooth, g, d = _game(real_target=0.9)
    plain = GANGame(g, d, losses.nonsaturating, latent_dim=2)
    real = torch.randn(8, 3)
    torch.manual_seed(1)
    a = smooth.losses(real, players=["discriminator"], step=0).stats["loss_d"]
    torch.manual_seed(1)
    b = plain.losses(real, players=["discriminator"], step=0).stats["loss_d"]
    logits = d(real).detach()
    # The smoothed BCE differs from the plain one by 0.1·mean(logit) (the cross term of the soft target).
    assert (a - b).item() == pytest.approx(0.1 * logits.mean().item(), rel=1e-4)


def test_project_clips_only_the_discriminator():
    game, g, d = _game(clip_value=0.01)
    with torch.no_grad():
        for p in list(d.parameters()) + list(g.parameters()):
            p.fill_(0.5)
    game.project("generator")
    assert all((p == 0.5).all() for p in d.parameters())
    game.project("discriminator")
    assert all((p == 0.01).all() for p in d.parameters())
    assert all((p == 0.5).all() for p in g.parameters())


def test_players_are_ordered_discriminator_first():
    game, g, d = _game()
    assert list(game.players) == ["discriminator", "generator"]
    assert game.players["generator"] is g and game.players["discriminator"] is d


class _ContentGame(GANGame):
    """A paired game in a few lines: G maps the batch's `inputs` to outputs; the generator also minimizes
    weight · ‖G(x) − y‖₁ against the batch's `samples` (the targets)."""

    weight = 10.0

    def generator_inputs(self, batch, context, n):
        return (batch["inputs"],), None

    def extra_loss(self, player, *, real, fake, batch, stats):
        if player != "generator":
            return None
        content = (fake - real).abs().mean()
        stats["content"] = content.detach()
        return self.weight * content


def test_hooks_feed_the_generator_a_batch_tensor_and_add_a_loss_that_sees_real_and_fake():
    g, d = _linear_players()
    game = _ContentGame(g, d, losses.least_squares, latent_dim=2)
    batch = {"samples": torch.randn(6, 3), "inputs": torch.randn(6, 2)}
    state = torch.get_rng_state()
    out = game.losses(batch, players=["discriminator", "generator"], step=0)
    assert torch.equal(torch.get_rng_state(), state)  # no noise was drawn
    fake = g(batch["inputs"])
    content = (fake - batch["samples"]).abs().mean()
    expected_g = losses.least_squares.generator(fake_logits=d(fake)) + 10.0 * content
    expected_d = losses.least_squares.discriminator(real_logits=d(batch["samples"]), fake_logits=d(fake))
    assert out.losses["generator"].item() == pytest.approx(expected_g.item(), rel=1e-6)
    assert out.losses["discriminator"].item() == pytest.approx(expected_d.item(), rel=1e-6)  # no extra loss for D
    assert out.stats["content"].item() == pytest.approx(content.item(), rel=1e-6)
    # the extra loss moves G: its gradient is that of the adversarial term plus the content term
    grad = torch.autograd.grad(out.losses["generator"], g.weight)[0]
    expected = torch.autograd.grad(expected_g, g.weight)[0]
    assert torch.allclose(grad, expected, atol=1e-6) and grad.abs().sum() > 0


def test_a_mapping_batch_is_the_same_game_as_a_bare_tensor():
    game, _, _ = _game()
    real = torch.randn(8, 3)
    torch.manual_seed(1)
    bare = game.losses(real, players=["discriminator", "generator"], step=0)
    torch.manual_seed(1)
    named = game.losses({"samples": real}, players=["discriminator", "generator"], step=0)
    for player in ("discriminator", "generator"):
        assert torch.equal(bare.losses[player], named.losses[player])
