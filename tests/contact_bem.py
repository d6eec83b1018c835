"""An independent numerical contact solution for the tests: a periodic FFT boundary-element solver of a rigid
1-D wavy surface pressed on an elastic half-space (plane strain), by an active-set iteration.

The half-space's surface displacement under a periodic pressure p(x) = Σ P_k e^{ikx} is u_k = 2 P_k / (E* |k|)
(k ≠ 0; the mean is the rigid approach δ). On one period of N points, find p ≥ 0 with mean p̄ and δ such that the
gap g = h − δ + u is 0 where p > 0 and ≥ 0 elsewhere, h(x) = A (1 − cos(2πx/λ)) the indenter's height above its
crest. The active set starts as every point; points of negative pressure leave it, penetrating ones join it,
until it stops changing.
"""

import numpy as np


def influence_matrix(n: int, wavelength: float, modulus: float) -> np.ndarray:
    """(n, n) circulant map from nodal pressures to surface displacements (zero-mean part)."""
    k = 2 * np.pi * np.fft.fftfreq(n, d=wavelength / n)
    response = np.zeros(n)
    response[1:] = 2 / (modulus * np.abs(k[1:]))
    column = np.real(np.fft.ifft(response))  # displacement at every node from a unit Fourier-mean pressure at node 0
    return np.stack([np.roll(column, i) for i in range(n)], axis=1)


def solve_contact(amplitude: float, wavelength: float, pressure: float, modulus: float, n: int = 1024,
                  iterations: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """(x, p): the nodes of one period centred on the crest and the contact pressure at each."""
    x = (np.arange(n) - n // 2) * wavelength / n
    h = amplitude * (1 - np.cos(2 * np.pi * x / wavelength))
    kernel = influence_matrix(n, wavelength, modulus)
    active = np.ones(n, dtype=bool)
    for _ in range(iterations):
        idx = np.flatnonzero(active)
        system = np.zeros((len(idx) + 1, len(idx) + 1))
        system[:-1, :-1] = kernel[np.ix_(idx, idx)]
        system[:-1, -1] = -1.0  # − δ
        system[-1, :-1] = 1.0 / n  # mean pressure
        rhs = np.concatenate([-h[idx], [pressure]])
        solution = np.linalg.solve(system, rhs)
        p = np.zeros(n)
        p[idx], delta = solution[:-1], solution[-1]
        gap = h - delta + kernel @ p
        new = (active & (p > 0)) | (~active & (gap < 0))
        if np.array_equal(new, active):
            return x, p
        active = new
    raise RuntimeError("the active set did not settle")
