"""Shared by the gradient tests: autograd against a float64 directional finite difference, one parameter at a time."""

from collections.abc import Callable, Sequence

import pytest
import torch
from torch import Tensor

STEPS = (1e-6, 1e-7, 1e-8)


def assert_matches_finite_differences(
    loss: Callable[[], Tensor], params: Sequence[Tensor], *, seed: int = 0
) -> list[Tensor | None]:
    """For each float64 parameter p: <∇_p loss, v> = (loss(p + hv) − loss(p − hv)) / 2h, to 1e-5, along a random
    direction v in p alone, for one of the steps h in STEPS. Returns the gradients.

    Several steps because (leaky) ReLU nets have kinks, and their input-gradient penalties jump, where a unit
    changes sign: a step that crosses one is off (1e-6 crossed one in a spectral-norm DCGAN), a smaller one that
    does not is exact up to rounding (~1e-16 · |loss| / h). No step makes a wrong gradient agree.
    `loss` must be a deterministic function of the parameters: eval mode where a forward pass changes state that
    the next one reads (spectral norm's power iteration), one seeded generator per call for random draws.
    """
    grads = torch.autograd.grad(loss(), params, allow_unused=True)
    rng = torch.Generator().manual_seed(seed)
    for index, (param, grad) in enumerate(zip(params, grads, strict=True)):
        assert param.dtype == torch.float64
        direction = torch.randn(param.shape, generator=rng, dtype=torch.float64)
        analytic = 0.0 if grad is None else (grad * direction).sum().item()
        saved = param.detach().clone()
        numeric = []
        for h in STEPS:
            values = []
            for sign in (1, -1):
                with torch.no_grad():
                    param.copy_(saved + sign * h * direction)
                values.append(loss().item())
            numeric.append((values[0] - values[1]) / (2 * h))
        with torch.no_grad():
            param.copy_(saved)
        assert any(analytic == pytest.approx(n, rel=1e-5, abs=1e-10) for n in numeric), (index, analytic, numeric)
    return list(grads)
