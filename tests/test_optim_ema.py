"""EMA of weights and the optimizer factory."""

import pytest
import torch
from torch import nn

from gankit.optim import ExponentialMovingAverage, make_optimizer


def test_ema_update_is_the_exact_moving_average():
    torch.manual_seed(0)
    module = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    ema = ExponentialMovingAverage(module, decay=0.9)
    start = [p.detach().clone() for p in module.parameters()]
    with torch.no_grad():
        for p in module.parameters():
            p.add_(1.0)
    module(torch.randn(8, 3))  # moves BatchNorm running stats
    ema.update()
    for avg, old, live in zip(ema.shadow.parameters(), start, module.parameters()):
        torch.testing.assert_close(avg, 0.9 * old + 0.1 * live.detach())
    for avg, live in zip(ema.shadow.buffers(), module.buffers()):
        assert torch.equal(avg, live)


def test_ema_after_many_steps_of_constant_weights_converges_to_them():
    module = nn.Linear(2, 2)
    ema = ExponentialMovingAverage(module, decay=0.5)
    with torch.no_grad():
        module.weight.fill_(3.0)
    for _ in range(60):
        ema.update()
    torch.testing.assert_close(ema.shadow.weight, torch.full((2, 2), 3.0))


def test_ema_shadow_is_a_frozen_copy():
    module = nn.Linear(2, 2)
    ema = ExponentialMovingAverage(module, decay=0.99)
    assert ema.shadow is not module
    assert not any(p.requires_grad for p in ema.shadow.parameters())
    state = ema.state_dict()
    other = ExponentialMovingAverage(nn.Linear(2, 2), decay=0.99)
    other.load_state_dict(state)
    torch.testing.assert_close(other.shadow.weight, ema.shadow.weight)


@pytest.mark.parametrize("decay", [0.0, 1.0, -0.1])
def test_ema_rejects_decay_outside_open_unit_interval(decay):
    with pytest.raises(ValueError):
        ExponentialMovingAverage(nn.Linear(1, 1), decay)


@pytest.mark.parametrize("name, cls", [("adam", torch.optim.Adam), ("sgd", torch.optim.SGD), ("rmsprop", torch.optim.RMSprop)])
def test_make_optimizer(name, cls):
    params = list(nn.Linear(2, 2).parameters())
    opt = make_optimizer(name, params, lr=0.01, betas=(0.5, 0.9))
    assert isinstance(opt, cls)
    assert opt.param_groups[0]["lr"] == 0.01
    if name == "adam":
        assert opt.param_groups[0]["betas"] == (0.5, 0.9)
