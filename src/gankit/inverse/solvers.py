"""Reconstructions x of images from measurements y = A x + noise, batched over the B rows of y.

Every data term is Bora et al.'s (2017, code `mnist_estimators.py`): the mean over the m measurements of
the squared residual, ‖A x − y‖² / m, so their weights (prior 0.1, Lasso α = 0.1) keep their meaning. It
is also each solver's reported `measurement_loss`.

csgm                CSGM (Bora, Jalal, Price & Dimakis 2017): Adam on the latent z of a fixed generator, with
                    random restarts; optionally Sparse-Gen (Dhar, Grover & Ermon 2018), x = G(z) + ν, ν sparse
lasso               scikit-learn's Lasso per image, in the pixel or the 2-D DCT basis
tv_least_squares    least squares with a smoothed isotropic total-variation penalty, Adam in torch
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.linear_model import Lasso
from torch import Tensor, nn

from gankit.inverse.operators import LinearOperator, dct_matrix

__all__ = ["SPARSE_BASES", "Reconstruction", "csgm", "lasso", "latent_starts", "tv_least_squares"]

SPARSE_BASES = ("pixel", "dct")


@dataclass(frozen=True)
class Reconstruction:
    """What `csgm` returns for B images from R restarts each, the restart of lowest measurement loss kept.

    x: (B, C, H, W) = G(z) + deviation. z: (B, latent_dim). deviation: (B, C, H, W) Sparse-Gen's ν, None
    without `sparse`. measurement_loss: (B,) ‖A x − y‖² / m. restart_losses: (B, R) that loss of every restart.
    """

    x: Tensor
    z: Tensor
    deviation: Tensor | None
    measurement_loss: Tensor
    restart_losses: Tensor


def _check(operator: LinearOperator, y: Tensor) -> None:
    if y.ndim != 2 or y.shape[1] != operator.m:
        raise ValueError(f"measurements of shape (B, {operator.m}) expected, got {tuple(y.shape)}")


def _measurement_loss(operator: LinearOperator, x: Tensor, y: Tensor) -> Tensor:
    return (operator(x) - y).pow(2).mean(1)


def latent_starts(seed: int, images: int, restarts: int, latent_dim: int) -> Tensor:
    """(images, restarts, latent_dim) draws from N(0, I), float64; entry (b, r) from a generator of its own,
    seeded by (seed, b, r) alone, so a batch's starts do not depend on how many images or restarts it has."""
    starts = torch.empty(images, restarts, latent_dim, dtype=torch.float64)
    for b, r in itertools.product(range(images), range(restarts)):
        state = int(np.random.SeedSequence([seed, b, r]).generate_state(1, np.uint64)[0])
        starts[b, r] = torch.randn(latent_dim, generator=torch.Generator().manual_seed(state), dtype=torch.float64)
    return starts


@contextmanager
def _eval_mode(generator: Callable[[Tensor], Tensor]) -> Iterator[None]:
    """An nn.Module generator in eval mode (BatchNorm statistics read, not updated), its mode then restored."""
    module = generator if isinstance(generator, nn.Module) else None
    was_training = module is not None and module.training
    if module is not None:
        module.eval()
    try:
        yield
    finally:
        if module is not None:
            module.train(was_training)


def csgm(generator: Callable[[Tensor], Tensor], operator: LinearOperator, y: Tensor, latent_dim: int, *,
         restarts: int = 10, steps: int = 1000, lr: float = 0.01, prior_weight: float = 0.1, seed: int = 0,
         sparse: str | None = None, sparse_weight: float = 0.1, starts: Tensor | None = None) -> Reconstruction:
    """Minimize ‖A x − y‖² / m + prior_weight·‖z‖² (+ sparse_weight·‖Ψᵀν‖₁) per image and restart, x = G(z) (+ν).

    `generator` maps (N, latent_dim) latents to (N, C, H, W) images in y's dtype and device; it is only
    read: gradients go to z (and ν) alone, and an nn.Module runs in eval mode, its mode restored after. All
    B·R problems are one batch of Adam steps (lr, `steps` iterations) on the summed objective; Adam is
    per coordinate and the problems share no variable, so each result is what solving it alone gives.
    Restart r of image b starts at `latent_starts(seed, B, R, latent_dim)[b, r]`, or at `starts[b, r]` when
    `starts` (B, R, latent_dim) is given (it then sets R). Defaults are Bora et al.'s MNIST protocol.

    `sparse` = "pixel" or "dct" adds Sparse-Gen's deviation ν = Ψ c (Ψ the identity, or the orthonormal
    2-D DCT synthesis of each channel), c from 0, optimized with z on the same objective. Adam moves c
    itself, the coefficients the L1 penalty makes sparse. The default sparse_weight 0.1 is Dhar et al.'s
    MNIST value for 200–400 measurements (their range: 0.5 at m ≤ 100 to 0.01 at m ≥ 500); with A's
    entries N(0, 1), ‖A ν‖² / m ≈ ‖ν‖², so it soft-thresholds each coefficient at about 0.05 in
    intensity units: deviations smaller than that stay in G's range.
    """
    _check(operator, y)
    if sparse not in (None, *SPARSE_BASES):
        raise ValueError(f"sparse = {sparse!r}; choose None, {' or '.join(map(repr, SPARSE_BASES))}")
    if starts is None:
        starts = latent_starts(seed, y.shape[0], restarts, latent_dim)
    if starts.ndim != 3 or starts.shape[0] != y.shape[0] or starts.shape[1] < 1 or starts.shape[2] != latent_dim:
        raise ValueError(f"starts of shape ({y.shape[0]}, R >= 1, {latent_dim}) expected (R: restarts), "
                         f"got {tuple(starts.shape)}")
    images, restarts = starts.shape[:2]
    target = y.detach().repeat_interleave(restarts, 0)
    z = starts.reshape(-1, latent_dim).to(y, copy=True).requires_grad_()
    coefficients = y.new_zeros(z.shape[0], *operator.in_shape).requires_grad_()
    synthesis = _dct_synthesis(operator.in_shape, y) if sparse == "dct" else None
    variables = [z] if sparse is None else [z, coefficients]

    def deviation() -> Tensor:
        return synthesis(coefficients) if synthesis is not None else coefficients

    def image() -> Tensor:
        return generator(z) if sparse is None else generator(z) + deviation()

    optimizer = torch.optim.Adam(variables, lr=lr)
    with _eval_mode(generator), torch.enable_grad():
        for _ in range(steps):
            loss = _measurement_loss(operator, image(), target) + prior_weight * z.pow(2).sum(1)
            if sparse is not None:
                loss = loss + sparse_weight * coefficients.abs().flatten(1).sum(1)
            for variable, grad in zip(variables, torch.autograd.grad(loss.sum(), variables), strict=True):
                variable.grad = grad
            optimizer.step()
        with torch.no_grad():
            x = image()
            nu = deviation() if sparse is not None else None
            losses = _measurement_loss(operator, x, target).view(images, restarts)
    best = losses.argmin(1) + torch.arange(images, device=losses.device) * restarts
    return Reconstruction(x=x[best], z=z.detach()[best], deviation=None if nu is None else nu[best],
                          measurement_loss=losses.flatten()[best], restart_losses=losses)


def _dct_synthesis(in_shape: tuple[int, int, int], like: Tensor) -> Callable[[Tensor], Tensor]:
    """c ↦ Ψ c on (N, C, H, W): each channel's inverse orthonormal 2-D DCT D_hᵀ c D_w (`like`'s dtype, device)."""
    dct_h, dct_w = (dct_matrix(size).to(like) for size in in_shape[1:])
    return lambda c: dct_h.T @ c @ dct_w


def _matrix(operator: LinearOperator, like: Tensor) -> Tensor:
    """The dense (m, n) matrix of `operator` in float64: its `.matrix`, or its columns A e_j (in `like`'s dtype
    and device, blocks of 256)."""
    if isinstance(getattr(operator, "matrix", None), Tensor):
        return operator.matrix.double()
    basis = torch.eye(operator.n, dtype=like.dtype, device=like.device)
    return torch.cat([operator(block) for block in basis.split(256)]).T.double()


def lasso(operator: LinearOperator, y: Tensor, alpha: float = 0.1, basis: str = "pixel",
          clip: tuple[float, float] | None = (0.0, 1.0)) -> Tensor:
    """Bora et al.'s Lasso baseline as (B, C, H, W): `sklearn.linear_model.Lasso(alpha=alpha)` (defaults
    otherwise: an intercept is fitted and dropped, as in their code) fit to each row of y.

    basis "pixel" fits x on A; "dct" fits the 2-D DCT coefficients c of each channel on A Ψ and returns Ψ c.
    The result is clipped to `clip` (None: not clipped). sklearn's objective is ‖y − A x‖² / (2m) + α‖x‖₁.
    """
    _check(operator, y)
    if basis not in SPARSE_BASES:
        raise ValueError(f"basis = {basis!r}; choose {' or '.join(map(repr, SPARSE_BASES))}")
    c, h, w = operator.in_shape
    matrix = _matrix(operator, y)
    psi = None
    if basis == "dct":  # column j: the image of DCT coefficient j
        units = torch.eye(operator.n).to(matrix).view(-1, c, h, w)
        psi = _dct_synthesis(operator.in_shape, matrix)(units).flatten(1).T
        matrix = matrix @ psi
    design, rows = matrix.detach().cpu().numpy(), y.detach().double().cpu().numpy()
    fits = torch.as_tensor(np.stack([Lasso(alpha=alpha).fit(design, row).coef_ for row in rows]))
    x = fits @ psi.cpu().T if psi is not None else fits
    if clip is not None:
        x = x.clamp(*clip)
    return x.to(y).view(-1, c, h, w)


def _total_variation(x: Tensor, eps: float) -> Tensor:
    """TV_ε of each image in the batch."""
    dy = F.pad(x[..., 1:, :] - x[..., :-1, :], (0, 0, 0, 1))
    dx = F.pad(x[..., :, 1:] - x[..., :, :-1], (0, 1))
    return (dx.pow(2) + dy.pow(2) + eps**2).sqrt().flatten(1).sum(1)


def tv_least_squares(operator: LinearOperator, y: Tensor, weight: float, steps: int = 1000, lr: float = 0.01,
                     eps: float = 1e-3) -> Tensor:
    """argmin over x of ‖A x − y‖² / m + weight·TV_ε(x), (B, C, H, W): Adam from x = 0 (a start that does not
    depend on A's scale, as Aᵀy would), all rows of y in one batch.

    TV_ε(x) = Σ √(∂ₕx² + ∂ᵥx² + ε²) over channels and pixels, forward differences (none across the last row
    and column): the isotropic total variation, smoothed by ε so that it has a gradient where x is flat. lr
    is in intensity units per step.
    """
    _check(operator, y)
    x = y.new_zeros(y.shape[0], *operator.in_shape, requires_grad=True)
    target = y.detach()
    optimizer = torch.optim.Adam([x], lr=lr)
    with torch.enable_grad():
        for _ in range(steps):
            loss = _measurement_loss(operator, x, target) + weight * _total_variation(x, eps)
            (x.grad,) = torch.autograd.grad(loss.sum(), [x])
            optimizer.step()
    return x.detach()
