"""Fair baselines: each regularization weight chosen per operator on validation images, never on the test images.

Lasso's alpha and TV's weight depend on the operator's scale and on m (a Radon column has a norm unlike a
Gaussian one's), so one fixed value favours whichever operator it was set for. `tune_weights` measures
validation images (disjoint from the test images; held out of training too when the run holds some out)
with the same operator and noise, and keeps the grid value with the lowest per-pixel MSE.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import Tensor

from gankit.inverse.operators import LinearOperator
from gankit.inverse.solvers import lasso, tv_least_squares

__all__ = ["LASSO_ALPHAS", "TV_WEIGHTS", "tune_weights"]

LASSO_ALPHAS = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3)
TV_WEIGHTS = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0)


def tune_weights(operator: LinearOperator, validation: Tensor, y: Tensor, *, lasso_dct: bool, tv_steps: int,
                 lr: float) -> dict[str, float]:
    """{"lasso": alpha, "lasso_dct": alpha (when `lasso_dct`), "tv": weight}: the grid values (LASSO_ALPHAS,
    TV_WEIGHTS) whose reconstructions of `validation` (B, C, H, W) in [0, 1] from its measurements `y` have the
    lowest mean per-pixel MSE; ties go to the larger weight."""
    candidates: dict[str, tuple[tuple[float, ...], Callable[[float], Tensor]]] = {
        "lasso": (LASSO_ALPHAS, lambda alpha: lasso(operator, y, alpha=alpha)),
        "tv": (TV_WEIGHTS, lambda weight: tv_least_squares(operator, y, weight, steps=tv_steps, lr=lr)),
    }
    if lasso_dct:
        candidates["lasso_dct"] = (LASSO_ALPHAS, lambda alpha: lasso(operator, y, alpha=alpha, basis="dct"))
    chosen = {}
    for name, (grid, solve) in candidates.items():
        errors = {value: (solve(value).detach().float() - validation).pow(2).mean().item() for value in grid}
        chosen[name] = min(reversed(grid), key=errors.__getitem__)
    return chosen
