"""The texture design space: coordinates the players work in, the process model's catalogue, the friction any
feasible texture can reach, and the set of feasible textures of a target friction (what designs should cover).

Designs live as u ∈ [−1, 1]² : u = 2 (log v − log low) / (log high − log low) − 1 for v = λ and, by the chart,
v = A (within its bounds) or v = A/λ (within the aspects the bounds allow), so both players see scale-free,
bounded inputs.

The friction depends on a texture only through its aspect A/λ (the contact fraction and the mean contact slope
do), so the feasible textures of a target friction form segments at fixed aspects, running over the wavelengths
whose amplitude is manufacturable: designs are diverse when they spread over those wavelengths. Coverage is
counted in COVERAGE_BINS bins of log λ.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Literal

import torch
from torch import Tensor

from gankit.design.contact import ContactModel, Manufacturing

__all__ = ["DesignSpace", "catalogue", "contact_model"]

GRID = 400  # points per axis of the dense grid that finds the reachable range and the solution sets
ASPECT_TABLE = 65537  # points of the friction-over-log-aspect table that finds the solution aspects of a target
COVERAGE_BINS = 40  # bins of log λ over its bounds in which coverage is counted


def contact_model(section: object) -> ContactModel:
    """The ContactModel a config's `contact` section describes."""
    return ContactModel(modulus=section.modulus, shear_strength=section.shear_strength, hardness=section.hardness,
                        pressure=section.pressure, ploughing=section.ploughing,
                        manufacturing=Manufacturing(tuple(section.amplitude), tuple(section.wavelength),
                                                    section.max_aspect))


@dataclass(frozen=True)
class DesignSpace:
    """A contact model with the coordinates and sets of its designs. `chart` names the players' coordinates:
    "amplitude", (log A, log λ) over the manufacturable box; "aspect", (log A/λ, log λ) over the aspects the
    bounds allow, where the friction depends on the first coordinate alone (a design of the right aspect keeps
    it whatever its wavelength), at the price of proposals outside the amplitude bounds (infeasible: filtered)."""

    model: ContactModel
    chart: Literal["amplitude", "aspect"] = "amplitude"

    def to_designs(self, u: Tensor) -> tuple[Tensor, Tensor]:
        """(A, λ) of coordinates u (..., 2) in [−1, 1] of the players' chart."""
        if self.chart == "aspect":
            aspect, wavelength = _from_unit(u[..., 0], *self.aspect_bounds), _from_unit(u[..., 1], *self._wavelength)
            return aspect * wavelength, wavelength
        return _from_unit(u[..., 0], *self.model.manufacturing.amplitude), _from_unit(u[..., 1], *self._wavelength)

    def to_unit(self, amplitude: Tensor, wavelength: Tensor) -> Tensor:
        """Coordinates (..., 2) in the players' chart of designs (A, λ)."""
        first = (_to_unit(amplitude / wavelength, *self.aspect_bounds) if self.chart == "aspect"
                 else _to_unit(amplitude, *self.model.manufacturing.amplitude))
        return torch.stack([first, _to_unit(wavelength, *self._wavelength)], -1)

    @property
    def aspect_bounds(self) -> tuple[float, float]:
        """(smallest, largest) aspect A/λ the bounds allow: A_min/λ_max, and the maximum aspect ratio or
        A_max/λ_min, whichever is smaller."""
        bounds = self.model.manufacturing
        return (bounds.amplitude[0] / bounds.wavelength[1],
                min(bounds.max_aspect, bounds.amplitude[1] / bounds.wavelength[0]))

    @property
    def _wavelength(self) -> tuple[float, float]:
        return self.model.manufacturing.wavelength

    def box(self, u: Tensor) -> tuple[Tensor, Tensor]:
        """(A, λ) of u (..., 2) in [−1, 1]² spanning the manufacturable box log-uniformly, whatever the chart."""
        bounds = self.model.manufacturing
        return _from_unit(u[..., 0], *bounds.amplitude), _from_unit(u[..., 1], *bounds.wavelength)

    def grid(self, points: int = GRID) -> tuple[Tensor, Tensor]:
        """(A, λ), each (points, points) float64: a log-spaced grid over the manufacturable box."""
        axis = torch.linspace(-1, 1, points, dtype=torch.float64)
        return self.box(torch.stack(torch.meshgrid(axis, axis, indexing="ij"), -1))

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

    @cached_property
    def friction_table(self) -> tuple[Tensor, Tensor]:
        """(log aspect, friction), each (ASPECT_TABLE,) float64: the friction over a log-spaced grid of the aspects
        the bounds allow (A_min/λ_max to the maximum aspect ratio); the friction depends on a texture only
        through its aspect, so this one curve holds every texture's."""
        low, high = (math.log(bound) for bound in self.aspect_bounds)
        log_aspect = torch.linspace(low, high, ASPECT_TABLE, dtype=torch.float64)
        return log_aspect, self.model.friction(torch.exp(log_aspect), torch.ones_like(log_aspect))

    @cached_property
    def monotone_pieces(self) -> list[tuple[Tensor, Tensor]]:
        """`friction_table` cut where the friction turns (rising to falling or back; flat stretches, as in full
        contact, stay with their piece): [(log aspect, friction)], each piece ordered by rising friction."""
        grid, friction = self.friction_table
        slope = torch.sign(friction.diff())
        pieces, start, direction = [], 0, 0.0
        for i, sign in enumerate(slope.tolist()):
            if sign and direction and sign != direction:
                pieces.append((start, i + 1))
                start = i
            direction = sign or direction
        pieces.append((start, len(grid)))
        ordered = []
        for first, stop in pieces:
            piece_grid, piece_friction = grid[first:stop], friction[first:stop]
            if piece_friction[-1] < piece_friction[0]:
                piece_grid, piece_friction = piece_grid.flip(0), piece_friction.flip(0)
            ordered.append((piece_grid, piece_friction))
        return ordered

    def solution_log_aspect(self, log_aspect: Tensor, target: Tensor) -> Tensor:
        """(N,) the log aspect of friction target[i] nearest to log_aspect[i], by linear interpolation in
        `friction_table` (one crossing per monotone piece); where no aspect within the bounds reaches a target,
        the aspect whose friction comes closest. Constant in its inputs (no gradient)."""
        with torch.no_grad():  # on the inputs' device: no host round trip in a training step
            wanted, here = target.double(), log_aspect.double()
            roots, gaps = [], []
            for grid, friction in _pieces_on(self, log_aspect.device):
                right = torch.searchsorted(friction, wanted).clamp(1, len(friction) - 1)
                left = right - 1
                rise = friction[right] - friction[left]
                share = ((wanted - friction[left]) / torch.where(rise > 0, rise, 1.0)).clamp(0, 1)
                roots.append(grid[left] + share * (grid[right] - grid[left]))
                gaps.append((friction[0] - wanted).clamp_min(0) + (wanted - friction[-1]).clamp_min(0))
            roots, gaps = torch.stack(roots, 1), torch.stack(gaps, 1)  # (N, pieces)
            reaches = gaps == 0
            distance = torch.where(reaches, (roots - here.unsqueeze(1)).abs(), math.inf)
            nearest = roots.gather(1, distance.argmin(1, keepdim=True)).squeeze(1)
            closest = roots.gather(1, gaps.argmin(1, keepdim=True)).squeeze(1)
            return torch.where(reaches.any(1), nearest, closest).to(log_aspect)

    def bins(self, wavelength: Tensor) -> Tensor:
        """Boolean (COVERAGE_BINS,): the wavelength bins holding at least one of the designs."""
        u = _to_unit(wavelength.double(), *self.model.manufacturing.wavelength)
        index = ((u + 1) / 2 * COVERAGE_BINS).long().clamp(0, COVERAGE_BINS - 1)
        occupied = torch.zeros(COVERAGE_BINS, dtype=torch.bool)
        occupied[index] = True
        return occupied


@lru_cache(maxsize=8)
def _pieces_on(space: DesignSpace, device: torch.device) -> list[tuple[Tensor, Tensor]]:
    """`space.monotone_pieces` on `device`, copied once per space and device."""
    return [(grid.to(device), friction.to(device)) for grid, friction in space.monotone_pieces]


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
