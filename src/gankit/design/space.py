"""The texture design space: coordinates the players work in, the process model's catalogue, the friction any
feasible texture can reach, and the set of feasible textures of a target friction (what designs should cover).

Designs live as u ∈ [−1, 1]² : u = 2 (log v − log low) / (log high − log low) − 1 for v = A and v = λ within
their manufacturable bounds, so both players see scale-free, bounded inputs.

The friction depends on a texture only through its aspect A/λ (the contact fraction and the mean contact slope
do), so the feasible textures of a target friction form segments at fixed aspects, running over the wavelengths
whose amplitude is manufacturable: designs are diverse when they spread over those wavelengths. Coverage is
counted in COVERAGE_BINS bins of log λ.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from gankit.design.contact import ContactModel, Manufacturing

__all__ = ["DesignSpace", "catalogue", "contact_model"]

GRID = 400  # points per axis of the dense grid that finds the reachable range and the solution sets
COVERAGE_BINS = 40  # bins of log λ over its bounds in which coverage is counted


def contact_model(section: object) -> ContactModel:
    """The ContactModel a config's `contact` section describes."""
    return ContactModel(modulus=section.modulus, shear_strength=section.shear_strength, hardness=section.hardness,
                        pressure=section.pressure, ploughing=section.ploughing,
                        manufacturing=Manufacturing(tuple(section.amplitude), tuple(section.wavelength),
                                                    section.max_aspect))


@dataclass(frozen=True)
class DesignSpace:
    """A contact model with the coordinates and sets of its designs."""

    model: ContactModel

    def to_designs(self, u: Tensor) -> tuple[Tensor, Tensor]:
        """(A, λ) of coordinates u (..., 2) in [−1, 1]."""
        bounds = self.model.manufacturing
        return tuple(_from_unit(u[..., i], *limits) for i, limits in enumerate((bounds.amplitude, bounds.wavelength)))

    def to_unit(self, amplitude: Tensor, wavelength: Tensor) -> Tensor:
        """Coordinates (..., 2) of designs (A, λ)."""
        bounds = self.model.manufacturing
        return torch.stack([_to_unit(amplitude, *bounds.amplitude), _to_unit(wavelength, *bounds.wavelength)], -1)

    def grid(self, points: int = GRID) -> tuple[Tensor, Tensor]:
        """(A, λ), each (points, points) float64: a log-spaced grid over the manufacturable bounds."""
        axis = torch.linspace(-1, 1, points, dtype=torch.float64)
        u = torch.stack(torch.meshgrid(axis, axis, indexing="ij"), -1)
        return self.to_designs(u)

    def reachable(self) -> tuple[float, float]:
        """(lowest, highest) friction of the feasible textures on the dense grid."""
        amplitude, wavelength = self.grid()
        feasible = self.model.feasible(amplitude, wavelength)
        if not feasible.any():
            raise ValueError("no texture within the manufacturable bounds is feasible under this load and hardness")
        mu = self.model.friction(amplitude, wavelength)[feasible]
        return float(mu.min()), float(mu.max())

    def solution_bins(self, target: float, tolerance: float) -> Tensor:
        """Boolean (COVERAGE_BINS,): the wavelength bins holding a feasible texture of friction within `tolerance`
        of `target` (on the dense grid)."""
        amplitude, wavelength = self.grid()
        hits = self.model.feasible(amplitude, wavelength) & (
            (self.model.friction(amplitude, wavelength) - target).abs() <= tolerance)
        return self.bins(wavelength[hits])

    def bins(self, wavelength: Tensor) -> Tensor:
        """Boolean (COVERAGE_BINS,): the wavelength bins holding at least one of the designs."""
        u = _to_unit(wavelength.double(), *self.model.manufacturing.wavelength)
        index = ((u + 1) / 2 * COVERAGE_BINS).long().clamp(0, COVERAGE_BINS - 1)
        occupied = torch.zeros(COVERAGE_BINS, dtype=torch.bool)
        occupied[index] = True
        return occupied


def catalogue(space: DesignSpace, n: int, seed: int) -> Tensor:
    """`n` textures (coordinates, (n, 2) float32) a laser-texturing-like process makes: λ log-uniform over its
    bounds, aspect A/λ log-uniform between 0.001 and the process's maximum, with 5% log-normal scatter on A; only
    textures within the manufacturable bounds are kept (the catalogue is what can be made, not what suits a
    load). Deterministic by `seed`."""
    bounds = space.model.manufacturing
    g = torch.Generator().manual_seed(seed)
    kept: list[Tensor] = []
    total = 0
    while total < n:
        draws = 2 * n
        wavelength = _from_unit(2 * torch.rand(draws, generator=g, dtype=torch.float64) - 1, *bounds.wavelength)
        aspect = _from_unit(2 * torch.rand(draws, generator=g, dtype=torch.float64) - 1, 1e-3, bounds.max_aspect)
        amplitude = aspect * wavelength * torch.exp(0.05 * torch.randn(draws, generator=g, dtype=torch.float64))
        inside = ((amplitude >= bounds.amplitude[0]) & (amplitude <= bounds.amplitude[1])
                  & (amplitude / wavelength <= bounds.max_aspect))
        kept.append(space.to_unit(amplitude[inside], wavelength[inside]))
        total += int(inside.sum())
    return torch.cat(kept)[:n].float()


def _to_unit(value: Tensor, low: float, high: float) -> Tensor:
    return 2 * (torch.log(value) - math.log(low)) / (math.log(high) - math.log(low)) - 1


def _from_unit(u: Tensor, low: float, high: float) -> Tensor:
    return torch.exp(math.log(low) + (u + 1) / 2 * (math.log(high) - math.log(low)))
