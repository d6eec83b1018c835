"""Fair weights: each solver's regularization weight chosen per operator on validation images, never on the test
images.

Lasso's alpha, TV's weight and Sparse-Gen's L1 weight depend on the operator's scale and on m (a Radon column
has a norm unlike a Gaussian one's; Sparse-Gen's best weight on MNIST falls from about 1 at m = 25 to 0.1 at
m = 500), so one fixed value favours whichever setting it was chosen for. `choose_weights` reconstructs
validation images (disjoint from the test images; held out of training too when the run holds some out),
measured with the same operator and noise, with each grid value, and keeps the one with the lowest per-pixel MSE.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

from sklearn.exceptions import ConvergenceWarning
from torch import Tensor

__all__ = ["GRIDS", "TUNE_RESTARTS", "choose_weights"]

GRIDS = {
    "lasso": (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3),  # Lasso's alpha
    "lasso_dct": (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3),
    "tv": (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0),  # TV's weight
    "csgm_sparse": (0.03, 0.1, 0.3, 1.0, 3.0),  # Sparse-Gen's L1 weight
    "csgm": (1e-3, 1e-2, 0.1),  # CSGM's prior weight (--tune-prior)
}
TUNE_RESTARTS = 1  # CSGM restarts per validation image while tuning (the test images get the full count); the
# same start for every weight, so the comparison between weights is paired


def choose_weights(validation: Tensor,
                   candidates: dict[str, tuple[Sequence[float], Callable[[float], Tensor]]]) -> dict[str, float]:
    """{solver: the value of its grid whose reconstruction of `validation` (B, C, H, W) in [0, 1] has the lowest
    mean per-pixel MSE}; `candidates` maps each solver to (grid, value ↦ reconstruction). Ties go to the larger
    value (more regularization)."""
    chosen = {}
    with warnings.catch_warnings():  # the grid's smallest alphas leave scikit-learn's Lasso short of convergence
        warnings.simplefilter("ignore", ConvergenceWarning)
        for name, (grid, solve) in candidates.items():
            errors = {value: (solve(value).detach().float() - validation).pow(2).mean().item() for value in grid}
            chosen[name] = min(sorted(grid, reverse=True), key=errors.__getitem__)
    return chosen
