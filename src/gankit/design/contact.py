"""Differentiable contact mechanics of a 1-D sinusoidal texture pressed on an elastic half-space: friction and
feasibility of a design (amplitude A, wavelength λ) at a nominal pressure p̄.

The Westergaard solution (Johnson, *Contact Mechanics*, 1985, §13.2) for a rigid surface of profile
A cos(2πx/λ) on a half-space of plane-strain modulus E* = E / (1 − ν²):

    p* = π E* A / λ                       the nominal pressure that flattens the waviness completely
    p̄ < p*: contact fraction (2/π) arcsin √(p̄/p*), peak pressure 2 √(p̄ p*)
    p̄ ≥ p*: full contact, peak pressure p̄ + p*

Adhesive friction (Bowden & Tabor): the shear strength τ of the junctions acts over the real contact area,
μ = τ · (contact fraction) / p̄. Optional ploughing adds (2/π)·tan θ with θ the mean slope of the profile
over the contact patch, Bowden & Tabor's term for a hard asperity of attack angle θ. A design is feasible
when its peak pressure stays under the hardness H, A and λ lie within manufacturable bounds, and A/λ under
a maximum aspect ratio. Every function takes tensors (broadcast together) and is differentiable in A, λ and
p̄ away from the contact transition p̄ = p* (tested with gradcheck). Units: any consistent set; the defaults
are MPa and μm.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = ["ContactModel", "Manufacturing"]

_EPS = 1e-12


@dataclass(frozen=True)
class Manufacturing:
    """What a process can make: amplitude and wavelength bounds (μm) and the largest aspect ratio A/λ."""

    amplitude: tuple[float, float] = (0.05, 2.0)
    wavelength: tuple[float, float] = (2.0, 50.0)
    max_aspect: float = 0.1


@dataclass(frozen=True)
class ContactModel:
    """A material pair and a load: plane-strain modulus E* (MPa), junction shear strength τ (MPa), hardness H
    (MPa) of the softer body, nominal pressure p̄ (MPa), and whether ploughing adds to the adhesive friction."""

    modulus: float = 1000.0
    shear_strength: float = 5.0
    hardness: float = 60.0
    pressure: float = 10.0
    ploughing: bool = False
    manufacturing: Manufacturing = Manufacturing()

    def full_contact_pressure(self, amplitude: Tensor, wavelength: Tensor) -> Tensor:
        """p* = π E* A / λ."""
        return math.pi * self.modulus * amplitude / wavelength

    def contact_fraction(self, amplitude: Tensor, wavelength: Tensor, pressure: Tensor | float | None = None) -> Tensor:
        """(2/π) arcsin √(p̄/p*) in partial contact, 1 in full contact."""
        ratio = self._ratio(amplitude, wavelength, pressure)
        partial = ratio < 1
        safe = torch.where(partial, ratio, torch.full_like(ratio, 0.5))  # no NaN gradient through the unused branch
        return torch.where(partial, (2 / math.pi) * torch.asin(safe.clamp_min(_EPS).sqrt()), torch.ones_like(ratio))

    def peak_pressure(self, amplitude: Tensor, wavelength: Tensor, pressure: Tensor | float | None = None) -> Tensor:
        """2 √(p̄ p*) in partial contact, p̄ + p* in full contact."""
        p_bar = self._pressure(pressure, amplitude)
        p_star = self.full_contact_pressure(amplitude, wavelength)
        partial = p_bar < p_star
        return torch.where(partial, 2 * (p_bar * p_star).clamp_min(_EPS).sqrt(), p_bar + p_star)

    def friction(self, amplitude: Tensor, wavelength: Tensor, pressure: Tensor | float | None = None) -> Tensor:
        """μ = τ · (contact fraction) / p̄, plus (2/π) tan θ when ploughing."""
        p_bar = self._pressure(pressure, amplitude)
        fraction = self.contact_fraction(amplitude, wavelength, p_bar)
        mu = self.shear_strength * fraction / p_bar
        if self.ploughing:
            mu = mu + (2 / math.pi) * self.mean_contact_slope(amplitude, wavelength, p_bar)
        return mu

    def mean_contact_slope(self, amplitude: Tensor, wavelength: Tensor,
                           pressure: Tensor | float | None = None) -> Tensor:
        """Mean |dh/dx| of A cos(2πx/λ) over the contact patch |x| < a, a = fraction · λ / 2:
        (A / a)(1 − cos(2πa/λ)); over a full period (full contact) 4A/λ."""
        fraction = self.contact_fraction(amplitude, wavelength, pressure)
        return 2 * amplitude * (1 - torch.cos(math.pi * fraction)) / (fraction * wavelength)

    def feasibility_margins(self, amplitude: Tensor, wavelength: Tensor,
                            pressure: Tensor | float | None = None) -> Tensor:
        """(..., 6) relative margins, each ≥ 0 exactly when its constraint holds: 1 − peak/H, A above its lower
        bound and below its upper one, the same for λ, and 1 − (A/λ)/max_aspect. Their negative parts are the
        feasibility hinge of a design loss."""
        bounds = self.manufacturing
        (a_lo, a_hi), (w_lo, w_hi) = bounds.amplitude, bounds.wavelength
        return torch.stack([
            1 - self.peak_pressure(amplitude, wavelength, pressure) / self.hardness,
            amplitude / a_lo - 1, 1 - amplitude / a_hi,
            wavelength / w_lo - 1, 1 - wavelength / w_hi,
            1 - amplitude / wavelength / bounds.max_aspect,
        ], dim=-1)

    def feasible(self, amplitude: Tensor, wavelength: Tensor, pressure: Tensor | float | None = None) -> Tensor:
        """Boolean: every constraint of `feasibility_margins` holds."""
        return (self.feasibility_margins(amplitude, wavelength, pressure) >= 0).all(dim=-1)

    def _pressure(self, pressure: Tensor | float | None, like: Tensor) -> Tensor:
        return torch.as_tensor(self.pressure if pressure is None else pressure, dtype=like.dtype, device=like.device)

    def _ratio(self, amplitude: Tensor, wavelength: Tensor, pressure: Tensor | float | None) -> Tensor:
        return self._pressure(pressure, amplitude) / self.full_contact_pressure(amplitude, wavelength)
