"""The contact model against its limits, an independent FFT boundary-element solution, and gradcheck."""

import math

import numpy as np
import pytest
import torch
from scipy.integrate import quad
from contact_bem import solve_contact

from gankit.design import ContactModel, Manufacturing

MODEL = ContactModel(modulus=1000.0, shear_strength=5.0, hardness=60.0, pressure=10.0)


def t(*values):
    return torch.tensor(values, dtype=torch.float64)


def test_closed_form_limits():
    a, w = t(0.1), t(10.0)
    p_star = math.pi * 1000 * 0.1 / 10
    assert MODEL.full_contact_pressure(a, w).item() == pytest.approx(p_star)
    # at p̄ = p*/2: fraction (2/π) asin(√½) = 1/2, peak 2 √(p̄ p*) = √2 p*
    assert MODEL.contact_fraction(a, w, p_star / 2).item() == pytest.approx(0.5)
    assert MODEL.peak_pressure(a, w, p_star / 2).item() == pytest.approx(math.sqrt(2) * p_star)
    # full contact: fraction 1 and peak p̄ + p*; both branches meet at p̄ = p* (peak 2 p*)
    assert MODEL.contact_fraction(a, w, 2 * p_star).item() == 1.0
    assert MODEL.peak_pressure(a, w, 2 * p_star).item() == pytest.approx(3 * p_star)
    assert MODEL.peak_pressure(a, w, p_star * (1 - 1e-9)).item() == pytest.approx(2 * p_star, rel=1e-6)
    # light load: fraction ≈ (2/π) √(p̄/p*) (Hertz-like limit)
    assert MODEL.contact_fraction(a, w, 1e-6 * p_star).item() == pytest.approx(2 / math.pi * 1e-3, rel=1e-6)
    # friction: τ · fraction / p̄; flat surface (A → 0) gives τ / p̄
    assert MODEL.friction(a, w, p_star / 2).item() == pytest.approx(5.0 * 0.5 / (p_star / 2))
    assert MODEL.friction(t(1e-9), w).item() == pytest.approx(5.0 / 10.0)


def test_ploughing_adds_two_over_pi_times_the_mean_slope():
    ploughing = ContactModel(pressure=10.0, ploughing=True)
    a, w = t(0.5), t(10.0)
    fraction = MODEL.contact_fraction(a, w).item()
    half_width = fraction * 10 / 2
    mean_slope = quad(lambda x: abs(2 * np.pi * 0.5 / 10 * np.sin(2 * np.pi * x / 10)), 0, half_width)[0] / half_width
    assert ploughing.friction(a, w).item() == pytest.approx(MODEL.friction(a, w).item() + 2 / math.pi * mean_slope,
                                                            rel=1e-6)
    assert MODEL.mean_contact_slope(t(0.1), t(10.0), 100.0).item() == pytest.approx(4 * 0.1 / 10)  # full period


@pytest.mark.parametrize(("amplitude", "wavelength", "pressure"), [
    (0.1, 10.0, 2.0), (0.1, 10.0, 15.0), (0.5, 20.0, 40.0), (0.5, 20.0, 100.0), (1.0, 5.0, 100.0), (0.05, 40.0, 1.0),
])
def test_agrees_with_an_fft_boundary_element_solution(amplitude, wavelength, pressure):
    x, p = solve_contact(amplitude, wavelength, pressure, modulus=1000.0, n=512)
    a, w = t(amplitude), t(wavelength)
    fraction = MODEL.contact_fraction(a, w, pressure).item()
    assert np.mean(p > 0) == pytest.approx(fraction, abs=2 / 512)  # within a node at each contact edge
    assert p.max() == pytest.approx(MODEL.peak_pressure(a, w, pressure).item(), rel=0.02)
    assert p.mean() == pytest.approx(pressure, rel=1e-9)


def test_full_contact_pressure_is_the_westergaard_cosine():
    x, p = solve_contact(0.1, 10.0, 50.0, modulus=1000.0, n=256)
    p_star = math.pi * 1000 * 0.1 / 10
    np.testing.assert_allclose(p, 50.0 + p_star * np.cos(2 * np.pi * x / 10.0), rtol=1e-9)


def test_gradients_are_correct_away_from_the_transition():
    ploughing = ContactModel(pressure=10.0, ploughing=True)
    for model in (MODEL, ploughing):
        for a, w, p in ((0.3, 10.0, 20.0), (0.05, 10.0, 20.0)):  # partial, full contact
            inputs = tuple(t(v).requires_grad_() for v in (a, w, p))
            assert torch.autograd.gradcheck(lambda *v: model.friction(*v), inputs)
            assert torch.autograd.gradcheck(lambda *v: model.peak_pressure(*v), inputs)
    a = t(0.3, 0.02).requires_grad_()  # p* = 94 and 6.3 against p̄ = 10
    MODEL.friction(a, t(10.0, 10.0)).sum().backward()
    assert torch.isfinite(a.grad).all() and a.grad[1] == 0  # full contact: μ = τ/p̄ does not depend on A


def test_feasibility():
    model = ContactModel(hardness=60.0, pressure=10.0, manufacturing=Manufacturing((0.05, 2.0), (2.0, 50.0), 0.1))
    a, w = t(0.1, 0.01, 3.0, 1.0, 0.5), t(10.0, 10.0, 40.0, 5.0, 4.0)
    margins = model.feasibility_margins(a, w)
    assert margins.shape == (5, 6)
    # 1: fine; 2: amplitude under its bound; 3: over its bound; 4: aspect 0.2 > 0.1; 5: aspect 0.125 and peak
    assert model.feasible(a, w).tolist() == [True, False, False, False, False]
    peak = model.peak_pressure(a, w)
    assert margins[:, 0].tolist() == pytest.approx((1 - peak / 60).tolist())
    assert margins[3, 5].item() == pytest.approx(1 - 0.2 / 0.1)
