"""Extrapolation around torch optimizers, against hand-written extragradient steps."""

import io

import numpy as np
import pytest
import torch

from gankit.optim import ExtraAdam, Extrapolation, ExtraSGD

Q = np.array([[3.0, 1.0, 0.0], [1.0, 2.0, 0.5], [0.0, 0.5, 1.0]])
X0 = np.array([1.0, -2.0, 0.5])


def _set_quadratic_grad(param):
    """.grad of f(x) = ½xᵀQx, i.e. Qx, computed by autograd."""
    param.grad = None
    (0.5 * param @ torch.from_numpy(Q) @ param).backward()


def _extragradient_iteration(opt, param):
    _set_quadratic_grad(param)
    opt.extrapolate()
    _set_quadratic_grad(param)
    opt.step()


@pytest.mark.parametrize("make", [lambda p, lr: Extrapolation(torch.optim.SGD([p], lr=lr)), ExtraSGD])
def test_sgd_extragradient_step_matches_the_hand_formula(make):
    lr = 0.1
    param = torch.nn.Parameter(torch.from_numpy(X0.copy()))
    opt = make([param], lr=lr) if make is ExtraSGD else make(param, lr)
    _extragradient_iteration(opt, param)
    expected = X0 - lr * Q @ (X0 - lr * Q @ X0)
    np.testing.assert_allclose(param.detach().numpy(), expected, rtol=1e-14)


def _adam_numpy(x, g, m, v, t, lr, betas, eps=1e-8):
    """One Adam step (Kingma & Ba) in NumPy: the new point and moments, with step count t (1-based)."""
    m = betas[0] * m + (1 - betas[0]) * g
    v = betas[1] * v + (1 - betas[1]) * g**2
    m_hat, v_hat = m / (1 - betas[0] ** t), v / (1 - betas[1] ** t)
    return x - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def test_adam_moments_advance_once_per_iteration_with_the_look_ahead_gradient():
    lr, betas = 0.05, (0.5, 0.9)
    param = torch.nn.Parameter(torch.from_numpy(X0.copy()))
    opt = ExtraAdam([param], lr=lr, betas=betas)
    x, m, v = X0.copy(), np.zeros(3), np.zeros(3)
    for t in (1, 2):
        _extragradient_iteration(opt, param)
        look_ahead, _, _ = _adam_numpy(x, Q @ x, m, v, t, lr, betas)
        x, m, v = _adam_numpy(x, Q @ look_ahead, m, v, t, lr, betas)
        np.testing.assert_allclose(param.detach().numpy(), x, rtol=1e-13)
        np.testing.assert_allclose(opt.state[param]["exp_avg"].numpy(), m, rtol=1e-13)
    assert opt.state[param]["step"].item() == 2


def test_wrapper_shares_param_groups_so_schedulers_reach_the_wrapped_optimizer():
    param = torch.nn.Parameter(torch.ones(2))
    opt = ExtraSGD([param], lr=1.0)
    assert isinstance(opt, torch.optim.Optimizer)
    scheduler = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    param.grad = torch.ones(2)
    opt.step()
    scheduler.step()
    assert opt.optimizer.param_groups[0]["lr"] == 0.5


def test_state_dict_round_trips_through_weights_only_load():
    def run(opt, param, steps):
        for _ in range(steps):
            _extragradient_iteration(opt, param)

    param = torch.nn.Parameter(torch.from_numpy(X0.copy()))
    opt = ExtraAdam([param], lr=0.05)
    run(opt, param, 3)
    buffer = io.BytesIO()
    torch.save({"param": param.detach(), "opt": opt.state_dict()}, buffer)
    run(opt, param, 3)

    buffer.seek(0)
    saved = torch.load(buffer, weights_only=True)
    resumed = torch.nn.Parameter(saved["param"].clone())
    opt2 = ExtraAdam([resumed], lr=123.0)
    opt2.load_state_dict(saved["opt"])
    assert opt2.param_groups is opt2.optimizer.param_groups and opt2.param_groups[0]["lr"] == 0.05
    run(opt2, resumed, 3)
    torch.testing.assert_close(resumed, param, rtol=0, atol=0)


def _zero_grad_then_step(opt):
    opt.zero_grad()
    opt.step()


@pytest.mark.parametrize(
    "action, message",
    [
        (lambda opt: opt.extrapolate(), "extrapolate\\(\\) called twice"),
        (_zero_grad_then_step, "look-ahead"),
        (lambda opt: opt.state_dict(), "between extrapolate"),
    ],
    ids=["extrapolate-twice", "step-without-look-ahead-gradient", "state-dict-mid-iteration"],
)
def test_misuse_between_extrapolate_and_step_is_refused(action, message):
    param = torch.nn.Parameter(torch.ones(2))
    opt = ExtraSGD([param], lr=0.1)
    param.grad = torch.ones(2)
    opt.extrapolate()
    with pytest.raises(RuntimeError, match=message):
        action(opt)
    assert param.tolist() == pytest.approx([0.9, 0.9])  # refused before touching anything: still the look-ahead


def test_without_extrapolation_step_is_the_wrapped_step():
    param = torch.nn.Parameter(torch.ones(2))
    opt = ExtraSGD([param], lr=0.1)
    param.grad = torch.tensor([1.0, -2.0])
    opt.step()
    np.testing.assert_allclose(param.detach().numpy(), [0.9, 1.2], rtol=1e-6)


def test_parameters_without_gradient_stay_put():
    used, unused = torch.nn.Parameter(torch.ones(1)), torch.nn.Parameter(torch.ones(1))
    opt = ExtraSGD([used, unused], lr=0.5)
    used.grad = torch.ones(1)
    opt.extrapolate()
    used.grad = torch.full((1,), 3.0)
    opt.step()
    assert used.item() == pytest.approx(1.0 - 1.5) and unused.item() == 1.0


def test_wrapping_twice_is_refused():
    with pytest.raises(TypeError, match="already wrapped"):
        Extrapolation(ExtraSGD([torch.nn.Parameter(torch.ones(1))], lr=0.1))
