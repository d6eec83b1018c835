"""Gene regulatory circuits as signed graphs, simulated as Hill-function ODEs (vectorized over circuits with an own
RK4), and labelled by behaviour: oscillation, bistability, adaptation.

A circuit of n genes is a signed adjacency W (n × n, entries −1, 0, +1): W[i, j] = +1 when gene j activates gene
i, −1 when it represses it, self-loops allowed. Each gene's protein level x_i follows

    dx_i/dt = α · u_i · Π_j h_ij(x_j) − x_i,    h = x^k / (1 + x^k) (activation), 1 / (1 + x^k) (repression), 1 (none)

(multiplicative, AND-like inputs; unit degradation and threshold; u_i = 1 except an input signal on gene 0 for
adaptation). With α = 10 and k = 3 the textbook circuits behave as in their papers: the repressilator (Elowitz &
Leibler 2000) oscillates, the toggle switch (Gardner, Cantor & Collins 2000) is bistable, a self-repressing gene
settles to one steady state (tested).
"""

from __future__ import annotations

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
    input_step: float = 1.2  # adaptation: the input multiplies gene 0's production by this (a 20% step)

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

    def simulate(self, weights: Tensor, starts: Tensor, signal: Tensor | None = None,
                 horizon: float | None = None) -> Tensor:
        """Trajectories (T + 1, C, S, n) by RK4 from `starts` (C, S, n)."""
        steps = round((self.horizon if horizon is None else horizon) / self.dt)
        x, path = starts, [starts]
        for _ in range(steps):
            k1 = self.rates(x, weights, signal)
            k2 = self.rates(x + 0.5 * self.dt * k1, weights, signal)
            k3 = self.rates(x + 0.5 * self.dt * k2, weights, signal)
            k4 = self.rates(x + self.dt * k3, weights, signal)
            x = x + self.dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
            path.append(x)
        return torch.stack(path)

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

    def adapts(self, weights: Tensor) -> Tensor:
        """(C,) bool: after a step of the input on gene 0 (×input_step), the output gene (the last) responds and
        returns: sensitivity (peak relative change / input change) ≥ 1 and precision (input change / final
        relative change) ≥ 10, Ma, Trusina, El-Samad, Lim & Tang 2009's criteria; from the steady state reached
        with the input at 1."""
        n, count = weights.shape[-1], weights.shape[0]
        start = torch.full((count, 1, n), 0.5, dtype=torch.float64)
        settled = self.simulate(weights, start)[-1]
        step = torch.full((count, 1), self.input_step, dtype=torch.float64)
        response = self.simulate(weights, settled, signal=step)[:, :, 0, -1]  # (T + 1, C): the output gene
        before = settled[:, 0, -1].clamp_min(1e-6)
        change = self.input_step - 1
        peak = (response - before).abs().amax(0) / before
        final = (response[-1] - before).abs() / before
        steady = self.rates(settled, weights).abs().amax(-1)[:, 0] < 1e-4
        return steady & (peak / change >= 1) & (change / final.clamp_min(1e-12) >= 10)

    def behaviour(self, weights: Tensor, name: str) -> Tensor:
        """(C,) bool: whether each circuit shows `name` (one of BEHAVIOURS)."""
        if name not in BEHAVIOURS:
            raise ValueError(f"unknown behaviour {name!r}; choose one of {', '.join(BEHAVIOURS)}")
        return {"oscillation": self.oscillates, "bistability": self.bistable, "adaptation": self.adapts}[name](weights)
