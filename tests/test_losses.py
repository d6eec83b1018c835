"""Every objective on a fixed table of logits, both players, against NumPy."""

import numpy as np
import pytest
import torch

from gankit import losses
from gankit.errors import ConfigError

REAL = np.array([-3.0, -0.5, 0.0, 0.7, 2.5, 8.0])
FAKE = np.array([-6.0, -1.2, 0.0, 0.3, 1.5, 4.0])


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


# Written from the textbook definitions with probabilities, not logits.
def _np_bce_d(real, fake, t=1.0):
    d_real, d_fake = _sigmoid(real), _sigmoid(fake)
    return -np.mean(t * np.log(d_real) + (1 - t) * np.log(1 - d_real)) - np.mean(np.log(1 - d_fake))


EXPECTED_D = {
    "minimax": _np_bce_d,
    "nonsaturating": _np_bce_d,
    "wasserstein": lambda r, f: np.mean(f) - np.mean(r),
    "hinge": lambda r, f: np.mean(np.maximum(0, 1 - r)) + np.mean(np.maximum(0, 1 + f)),
    "least_squares": lambda r, f: 0.5 * np.mean((r - 1) ** 2) + 0.5 * np.mean(f**2),
}
EXPECTED_G = {
    "minimax": lambda f: np.mean(np.log(1 - _sigmoid(f))),
    "nonsaturating": lambda f: -np.mean(np.log(_sigmoid(f))),
    "wasserstein": lambda f: -np.mean(f),
    "hinge": lambda f: -np.mean(f),
    "least_squares": lambda f: 0.5 * np.mean((f - 1) ** 2),
}


def _t(x):
    return torch.tensor(x, dtype=torch.float64)


@pytest.mark.parametrize("name", sorted(EXPECTED_D))
def test_discriminator_loss_matches_numpy(name):
    loss = losses.get(name)
    value = loss.discriminator(real_logits=_t(REAL), fake_logits=_t(FAKE))
    assert value.shape == ()
    assert value.item() == pytest.approx(EXPECTED_D[name](REAL, FAKE), rel=1e-10, abs=1e-12)


@pytest.mark.parametrize("name", sorted(EXPECTED_G))
def test_generator_loss_matches_numpy(name):
    value = losses.get(name).generator(fake_logits=_t(FAKE))
    assert value.shape == ()
    assert value.item() == pytest.approx(EXPECTED_G[name](FAKE), rel=1e-10, abs=1e-12)


@pytest.mark.parametrize("name", ["minimax", "nonsaturating"])
def test_label_smoothing_uses_soft_real_target(name):
    value = losses.get(name).discriminator(real_logits=_t(REAL), fake_logits=_t(FAKE), real_target=0.9)
    assert value.item() == pytest.approx(_np_bce_d(REAL, FAKE, 0.9), rel=1e-10)
    assert value.item() != pytest.approx(_np_bce_d(REAL, FAKE, 1.0), rel=1e-6)


def test_least_squares_label_smoothing_moves_the_real_target():
    value = losses.least_squares.discriminator(real_logits=_t(REAL), fake_logits=_t(FAKE), real_target=0.9)
    assert value.item() == pytest.approx(0.5 * np.mean((REAL - 0.9) ** 2) + 0.5 * np.mean(FAKE**2), rel=1e-10)


@pytest.mark.parametrize("name", ["wasserstein", "hinge"])
def test_label_smoothing_refused_where_meaningless(name):
    with pytest.raises(ConfigError, match="label smoothing"):
        losses.get(name).discriminator(real_logits=_t(REAL), fake_logits=_t(FAKE), real_target=0.9)
    assert not losses.get(name).supports_label_smoothing


def test_bce_losses_stay_finite_for_extreme_logits():
    big = _t([-200.0, 200.0])
    for name in ("minimax", "nonsaturating"):
        loss = losses.get(name)
        assert torch.isfinite(loss.discriminator(real_logits=big, fake_logits=big))
        assert torch.isfinite(loss.generator(fake_logits=big))
    # -log sigmoid(-200) = 200 (up to exp(-200)): the non-saturating loss keeps its gradient.
    assert losses.nonsaturating.generator(fake_logits=_t([-200.0])).item() == pytest.approx(200.0)


def test_minimax_generator_saturates_where_nonsaturating_does_not():
    """At confidently rejected fakes (logit -8) the minimax gradient vanishes, the -log D one does not."""
    fake = torch.tensor([-8.0], dtype=torch.float64, requires_grad=True)
    (g_minimax,) = torch.autograd.grad(losses.minimax.generator(fake_logits=fake), fake)
    (g_ns,) = torch.autograd.grad(losses.nonsaturating.generator(fake_logits=fake), fake)
    assert abs(g_minimax.item()) == pytest.approx(_sigmoid(-8.0), rel=1e-9)  # d/dl -softplus(l) = -sigmoid(l)
    assert abs(g_ns.item()) == pytest.approx(1 - _sigmoid(-8.0), rel=1e-9)
    assert abs(g_ns.item()) > 1000 * abs(g_minimax.item())


def test_registry_and_attribute_access_agree():
    assert losses.names() == ["minimax", "nonsaturating", "wasserstein", "hinge", "least_squares"]
    for name in losses.names():
        assert losses.get(name) is getattr(losses, name)
        assert losses.get(name).name == name


def test_unknown_loss_lists_valid_names():
    with pytest.raises(ConfigError) as err:
        losses.get("hinged")
    message = str(err.value)
    assert "'hinged'" in message
    for name in losses.names():
        assert name in message


def test_arguments_are_keyword_only():
    with pytest.raises(TypeError):
        losses.hinge.discriminator(_t(REAL), _t(FAKE))
