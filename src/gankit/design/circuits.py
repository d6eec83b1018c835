"""Gene regulatory circuits as signed graphs, simulated as Hill-function ODEs (vectorized over circuits with an own
RK4), and labelled by behaviour: oscillation, bistability, adaptation.

A circuit of n genes is a signed adjacency W (n × n, entries −1, 0, +1): W[i, j] = +1 when gene j activates gene
i, −1 when it represses it, self-loops allowed. Each gene's protein level x_i follows

    dx_i/dt = α · u_i · Π_j h_ij(x_j) − x_i,    h = x^k / (1 + x^k) (activation), 1 / (1 + x^k) (repression), 1 (none)

(multiplicative, AND-like inputs; unit degradation and threshold; u_i = 1 except an input signal on gene 0 for
adaptation). With α = 10 and k = 3 the textbook circuits behave as in their papers: the repressilator (Elowitz &
Leibler 2000) oscillates, the toggle switch (Gardner, Cantor & Collins 2000) is bistable, a self-repressing gene
settles to one steady state, the incoherent feed-forward loop (0 → 1, 0 → 2, 1 ⊣ 2) adapts, a cascade 0 → 1 → 2
does not (tested).

Adaptation (Ma, Trusina, El-Samad, Lim & Tang 2009's sensitivity ≥ 1 and precision ≥ 10 of the last gene's response
to a step of the input on gene 0) is searched over the input's level, with a doubling step. At the nominal input u_0
= 1 a 20% step adapts no 3-gene circuit (600 respond by at least the step, none of them then settles within a tenth
of it): the feed-forward loop's gene 0 sits at α, saturating its targets. With fixed constants the loops of this
model adapt only near one input level (none perfectly; the negative feedback loop with a buffer, 0 → 2 → 1 ⊣ 2, does
not: linear degradation gives it no integral action), and at a 20% step even the feed-forward loop's transient peaks
below the step there (sensitivity 0.96–0.98). So labelled, 11 of the 19,683 3-gene circuits adapt, all incoherent
feed-forward loops (9 with 0 → 1, 0 → 2, 1 ⊣ 2; 2 with 0 → 2, 0 ⊣ 1 → 2), some with feedback or self-loops added.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = ["BEHAVIOURS", "CircuitModel", "enumerate_circuits"]

BEHAVIOURS = ("oscillation", "bistability", "adaptation")


def enumerate_circuits(genes: int) -> Tensor:
    """Every signed adjacency of `genes` genes, (3^(genes²), genes, genes) int8, in a fixed order."""
    edges = genes * genes
    codes = torch.arange(3**edges)
    digits = torch.stack([(codes // 3**e) % 3 for e in range(edges)], dim=1)
    return (digits - 1).to(torch.int8).view(-1, genes, genes)


@dataclass(frozen=True)
class CircuitModel:
    """The ODE's constants, the simulation's horizon and step, and the behaviour thresholds."""

    alpha: float = 10.0  # maximal production
    hill: float = 3.0  # Hill coefficient k
    horizon: float = 60.0  # simulated time (degradation time 1)
    dt: float = 0.05  # RK4 step
    input_step: float = 2.0  # adaptation: the input on gene 0 (a factor on its production) steps up by this
    input_levels: int = 7  # adaptation: steps tried from input levels input_step^-input_levels … input_step^-1
    input_refine: int = 64  # adaptation: levels tried between two levels whose steps' lasting effects differ in sign

    def rates(self, x: Tensor, weights: Tensor, signal: Tensor | None = None) -> Tensor:
        """dx/dt for levels x (C, S, n) of circuits `weights` (C, n, n) from S starts each; `signal` (C, S) or
        None multiplies gene 0's production."""
        w = weights.to(x.dtype).unsqueeze(1)  # (C, 1, n, n)
        xk = x.clamp_min(0).pow(self.hill).unsqueeze(-2)  # (C, S, 1, n): input j of every gene i
        activation, repression = xk / (1 + xk), 1 / (1 + xk)
        terms = torch.where(w > 0, activation, torch.where(w < 0, repression, torch.ones_like(activation)))
        production = self.alpha * terms.prod(-1)  # (C, S, n)
        if signal is not None:
            production = torch.cat([production[..., :1] * signal.unsqueeze(-1), production[..., 1:]], dim=-1)
        return production - x

    def _steps(self, weights: Tensor, starts: Tensor, signal: Tensor | None = None,
              horizon: float | None = None) -> Iterator[Tensor]:
        """The levels (C, S, n) after each RK4 step from `starts` (C, S, n), one at a time (no path kept)."""
        x = starts
        for _ in range(round((self.horizon if horizon is None else horizon) / self.dt)):
            k1 = self.rates(x, weights, signal)
            k2 = self.rates(x + 0.5 * self.dt * k1, weights, signal)
            k3 = self.rates(x + 0.5 * self.dt * k2, weights, signal)
            k4 = self.rates(x + self.dt * k3, weights, signal)
            x = x + self.dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
            yield x

    def simulate(self, weights: Tensor, starts: Tensor, signal: Tensor | None = None,
                 horizon: float | None = None) -> Tensor:
        """Trajectories (T + 1, C, S, n) by RK4 from `starts` (C, S, n)."""
        return torch.stack([starts, *self._steps(weights, starts, signal, horizon)])

    def oscillates(self, weights: Tensor) -> Tensor:
        """(C,) bool: from an asymmetric start, some gene keeps swinging over the second half of the horizon: at
        least 3 local maxima, a peak-to-trough range over 10% of α, and the last quarter's range at least 80% of
        the third quarter's (not a decaying spiral)."""
        n = weights.shape[-1]
        start = (0.1 + 0.5 * torch.arange(n, dtype=torch.float64)).expand(weights.shape[0], 1, n)
        path = self.simulate(weights, start.clone())[:, :, 0]  # (T + 1, C, n)
        half = path[path.shape[0] // 2 :]
        quarter = half.shape[0] // 2
        swing = lambda part: part.amax(0) - part.amin(0)  # (C, n)
        middle = half[1:-1]
        maxima = ((middle > half[:-2]) & (middle >= half[2:])).sum(0)  # (C, n)
        keeps = swing(half[quarter:]) >= 0.8 * swing(half[:quarter])
        return ((maxima >= 3) & (swing(half) > 0.1 * self.alpha) & keeps).any(-1)

    def stable_states(self, weights: Tensor, starts: int = 12, seed: int = 0) -> tuple[Tensor, Tensor]:
        """(final levels (C, starts, n), converged (C, starts) bool: |dx/dt| < 1e-4 everywhere) from `starts`
        log-uniform random starts in [0.01, α] per circuit (the same starts for every circuit)."""
        n = weights.shape[-1]
        g = torch.Generator().manual_seed(seed)
        logs = torch.rand(starts, n, generator=g, dtype=torch.float64) * (torch.log(torch.tensor(self.alpha / 0.01)))
        start = (0.01 * torch.exp(logs)).expand(weights.shape[0], starts, n).clone()
        final = self.simulate(weights, start)[-1]
        converged = self.rates(final, weights).abs().amax(-1) < 1e-4
        return final, converged

    def bistable(self, weights: Tensor) -> Tensor:
        """(C,) bool: at least two converged final states farther apart than 10% of α (max norm)."""
        final, converged = self.stable_states(weights)
        far = (final.unsqueeze(1) - final.unsqueeze(2)).abs().amax(-1) > 0.1 * self.alpha  # (C, S, S)
        both = converged.unsqueeze(1) & converged.unsqueeze(2)
        return (far & both).flatten(1).any(-1)

    def step_responses(self, weights: Tensor, levels: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """The output's (last gene's) response to a step of the input on gene 0 from each of `levels` (C, S) to
        levels × input_step, from the state that the circuit reaches at that level from all genes at 0.5:
        (sensitivity, precision, signed relative final change, measurable), each (C, S). Sensitivity is the peak
        relative change |O − O₀|/O₀ over the relative input change input_step − 1, precision that input change over
        the final relative change |O_end − O₀|/O₀ (Ma et al. 2009). Measurable: steady (|dx/dt| < 1e-4) before the
        step and at the horizon after it, and the output before it at least 0.1% of α (not off)."""
        count, n = weights.shape[0], weights.shape[-1]
        settled = self.simulate(weights, torch.full((count, levels.shape[1], n), 0.5, dtype=levels.dtype),
                                signal=levels)[-1]
        stepped, before = levels * self.input_step, settled[..., -1]
        x, peak = settled, torch.zeros_like(before)
        for x in self._steps(weights, settled, stepped):
            peak = torch.maximum(peak, (x[..., -1] - before).abs())
        change, scale = self.input_step - 1, before.clamp_min(1e-300)
        final = (x[..., -1] - before) / scale
        steady = lambda y, u: self.rates(y, weights, u).abs().amax(-1) < 1e-4
        measurable = steady(settled, levels) & steady(x, stepped) & (before >= 1e-3 * self.alpha)
        return peak / scale / change, change / final.abs().clamp_min(1e-12), final, measurable

    def adaptation(self, weights: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """(input level, sensitivity, precision), each (C,): of all the steps tried, the measurable one with
        sensitivity ≥ 1 and the highest precision; NaN where none has sensitivity ≥ 1.

        With fixed constants a circuit adapts only near one input level (where the step's lasting effect on the
        output changes sign: the textbook feed-forward loop's window is about 3% of the level wide), so the input's
        range is searched: steps from input_levels levels input_step^-input_levels … input_step^-1 below the nominal
        input 1, and between two neighbouring levels whose steps move the output lastingly in opposite directions
        (a zero of the lasting change between them), from input_refine levels spaced evenly in log between them."""
        count, dtype = weights.shape[0], torch.float64
        coarse = (self.input_step ** -torch.arange(self.input_levels, 0, -1, dtype=dtype)).expand(count, -1)
        sensitivity, precision, final, measurable = self.step_responses(weights, coarse)
        top, best = _best_step(coarse, sensitivity, precision, measurable)
        pairs = (measurable[:, :-1] & measurable[:, 1:] & (final[:, :-1] * final[:, 1:] < 0)).nonzero()
        if len(pairs):
            c, j = pairs.unbind(1)
            fractions = torch.arange(1, self.input_refine + 1, dtype=dtype) / (self.input_refine + 1)
            fine = coarse[c, j, None] * (coarse[c, j + 1, None] / coarse[c, j, None]) ** fractions
            fine_sensitivity, fine_precision, _, fine_measurable = self.step_responses(weights[c], fine)
            pair_top, pair_best = _best_step(fine, fine_sensitivity, fine_precision, fine_measurable)
            circuit_top = top.scatter_reduce(0, c, pair_top, "amax")
            wins = (pair_top > top[c]) & (pair_top == circuit_top[c])
            best[c[wins]], top = pair_best[wins], circuit_top
        best[top < 0] = float("nan")
        return best.unbind(1)

    def adapts(self, weights: Tensor) -> Tensor:
        """(C,) bool: some step of the input on gene 0 (×input_step, searched over the input's range as in
        `adaptation`) makes the output gene (the last) respond and return: sensitivity ≥ 1 and precision ≥ 10, Ma,
        Trusina, El-Samad, Lim & Tang 2009's criteria."""
        return self.adaptation(weights)[2] >= 10

    def behaviour(self, weights: Tensor, name: str) -> Tensor:
        """(C,) bool: whether each circuit shows `name` (one of BEHAVIOURS)."""
        if name not in BEHAVIOURS:
            raise ValueError(f"unknown behaviour {name!r}; choose one of {', '.join(BEHAVIOURS)}")
        return {"oscillation": self.oscillates, "bistability": self.bistable, "adaptation": self.adapts}[name](weights)


def _best_step(levels: Tensor, sensitivity: Tensor, precision: Tensor, measurable: Tensor) -> tuple[Tensor, Tensor]:
    """Per row of (R, S) steps: the highest precision among the measurable ones with sensitivity ≥ 1 (−1 where none),
    and that step's (level, sensitivity, precision) (R, 3)."""
    score = torch.where(measurable & (sensitivity >= 1), precision, -1.0)
    top, pick = score.max(1)
    rows = torch.arange(len(pick))
    return top, torch.stack([levels[rows, pick], sensitivity[rows, pick], precision[rows, pick]], 1)
