"""Gene circuits: the textbook circuits' behaviours, the ODE against scipy, enumeration."""

import numpy as np
import pytest
import torch
from scipy.integrate import solve_ivp

from gankit.design.circuits import BEHAVIOURS, CircuitModel, enumerate_circuits

MODEL = CircuitModel()
REPRESSILATOR = torch.tensor([[0, 0, -1], [-1, 0, 0], [0, -1, 0]])  # 2 ⊣ 0, 0 ⊣ 1, 1 ⊣ 2
TOGGLE = torch.tensor([[0, -1], [-1, 0]])
SELF_REPRESSION = torch.tensor([[-1]])


def test_textbook_circuits_show_their_behaviour_and_no_other():
    assert MODEL.oscillates(REPRESSILATOR[None]).item() and not MODEL.bistable(REPRESSILATOR[None]).item()
    assert MODEL.bistable(TOGGLE[None]).item() and not MODEL.oscillates(TOGGLE[None]).item()
    for name in BEHAVIOURS:
        assert not MODEL.behaviour(SELF_REPRESSION[None], name).item()


def test_a_weak_repressilator_does_not_oscillate():
    # loop gain below 2 (k = 1.5): the ring's fixed point is stable, the oscillation dies out
    assert not CircuitModel(hill=1.5).oscillates(REPRESSILATOR[None]).item()


def test_rk4_matches_scipy_on_the_toggle_switch_with_fourth_order_error():
    def rates(_, x):
        return [10 / (1 + x[1] ** 3) - x[0], 10 / (1 + x[0] ** 3) - x[1]]

    errors = []
    for dt in (0.05, 0.025):
        model = CircuitModel(dt=dt)
        path = model.simulate(TOGGLE[None], torch.tensor([[[0.3, 2.0]]], dtype=torch.float64), horizon=5.0)[:, 0, 0]
        times = np.arange(len(path)) * dt
        reference = solve_ivp(rates, (0, 5.0), [0.3, 2.0], t_eval=times, rtol=1e-11, atol=1e-12).y.T
        errors.append(np.abs(path.numpy() - reference).max())
    assert errors[0] < 1e-4
    assert 8 < errors[0] / errors[1] < 32  # halving the step divides a fourth-order method's error by about 16


def test_enumeration_is_every_signed_graph_once():
    circuits = enumerate_circuits(2)
    assert circuits.shape == (81, 2, 2) and circuits.dtype == torch.int8
    assert len({tuple(c.flatten().tolist()) for c in circuits}) == 81
    assert set(circuits.unique().tolist()) == {-1, 0, 1}


def test_unknown_behaviour_is_refused():
    with pytest.raises(ValueError, match="oscillation, bistability, adaptation"):
        MODEL.behaviour(TOGGLE[None], "chaos")


IFFL = torch.tensor([[0, 0, 0], [1, 0, 0], [1, -1, 0]])  # 0 → 1, 0 → 2, 1 ⊣ 2: incoherent feed-forward loop
CASCADE = torch.tensor([[0, 0, 0], [1, 0, 0], [0, 1, 0]])  # 0 → 1 → 2
SELF_REPRESSING_OUTPUT = torch.tensor([[0, 0, 0], [0, 0, 0], [1, 0, -1]])  # 0 → 2, 2 ⊣ 2


def iffl_output(u, alpha=10.0, k=3.0):
    """The feed-forward loop's steady output at input level u in closed form: A = αu, B = α h⁺(A), C = α h⁺(A) h⁻(B)."""
    a = alpha * u
    on = a**k / (1 + a**k)
    return alpha * on / (1 + (alpha * on) ** k)


def test_the_feed_forward_loop_adapts_and_a_cascade_or_a_self_repressing_output_does_not():
    levels, sensitivity, precision = MODEL.adaptation(torch.stack([IFFL, CASCADE, SELF_REPRESSING_OUTPUT]))
    assert (precision >= 10).tolist() == [True, False, False]
    assert (precision[1:] < 1).all() and (sensitivity[1:] >= 1).all()  # they respond, but keep most of the change
    level = levels[0].item()
    # the closed-form steady states: a doubling from this level changes the output by < 10% only in a ~3% window
    assert 0.0297 < level < 0.0307 and abs(iffl_output(2 * level) / iffl_output(level) - 1) <= 0.1

    def rates(_, x):
        on = x[0] ** 3 / (1 + x[0] ** 3)
        return [10 * 2 * level - x[0], 10 * on - x[1], 10 * on / (1 + x[1] ** 3) - x[2]]

    a = 10 * level
    b = 10 * a**3 / (1 + a**3)
    start = [a, b, iffl_output(level)]
    times = np.arange(round(MODEL.horizon / MODEL.dt) + 1) * MODEL.dt
    output = solve_ivp(rates, (0, MODEL.horizon), start, t_eval=times, rtol=1e-11, atol=1e-12).y[2]
    reference_sensitivity = np.abs(output / start[2] - 1).max()  # over an input change of 2 - 1 = 1
    reference_precision = 1 / abs(output[-1] / start[2] - 1)
    assert 1.6 < reference_sensitivity < 1.8 and reference_precision >= 10
    assert sensitivity[0].item() == pytest.approx(reference_sensitivity, rel=1e-4)
    assert precision[0].item() == pytest.approx(reference_precision, rel=1e-3)
