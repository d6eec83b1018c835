"""Solvers: CSGM recovers what lies in G's range and no more, batched = one problem at a time, the generator left
as it was, Sparse-Gen reaches outside the range, Lasso = scikit-learn called directly, TV beats least squares."""

import numpy as np
import pytest
import scipy.fft
import torch
from sklearn.linear_model import Lasso
from torch import nn

from gankit.inverse import GaussianOperator, csgm, lasso, latent_starts, tv_least_squares

LATENT = 5
SHAPE = (1, 8, 8)


def _generator(dtype=torch.float32, batch_norm=False):
    """A fixed random G: R^5 -> 8x8 images, with values of about ±0.3 (variance 0.1)."""
    with torch.random.fork_rng():
        torch.manual_seed(0)
        norm = [nn.BatchNorm1d(64)] if batch_norm else []
        generator = nn.Sequential(nn.Linear(LATENT, 64), *norm, nn.Tanh(), nn.Linear(64, 64), nn.Unflatten(1, SHAPE))
    return generator.eval().to(dtype)


def _in_range(generator, images, dtype=torch.float32):
    z = torch.randn(images, LATENT, generator=torch.Generator().manual_seed(1), dtype=dtype)
    with torch.no_grad():
        return generator(z)


def _mse(a, b):
    return (a - b).pow(2).flatten(1).mean(1)


def test_csgm_recovers_a_target_in_range_from_enough_measurements_and_not_from_two():
    generator = _generator()
    target = _in_range(generator, 4)
    enough, two = GaussianOperator(SHAPE, 40, seed=2), GaussianOperator(SHAPE, 2, seed=2)
    found = csgm(generator, enough, enough(target), LATENT, restarts=5, steps=1000, prior_weight=0.0)
    assert _mse(found.x, target).max() < 1e-8  # measured 8e-11 (target variance 0.1)
    assert found.x.shape == target.shape and found.z.shape == (4, LATENT) and found.deviation is None
    # Two measurements are fitted just as well, by the wrong images: the null space is filled, not recovered.
    guessed = csgm(generator, two, two(target), LATENT, restarts=5, steps=1000, prior_weight=0.0)
    assert guessed.measurement_loss.max() < 1e-9  # measured 1e-13
    assert _mse(guessed.x, target).mean() > 0.02  # measured 0.050 (0.013 to 0.076)


@pytest.mark.parametrize("sparse", [None, "dct"])
def test_batched_restarts_equal_each_image_and_restart_solved_alone(sparse):
    # float64: in float32, sign flips of the L1 subgradient amplify the rounding of differently shaped
    # products (measured: plain CSGM agrees to 4e-7, Sparse-Gen to 6e-3 after 300 steps)
    generator, operator = _generator(torch.float64), GaussianOperator(SHAPE, 20, seed=2).double()
    noise = 0.1 * torch.randn(3, 20, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    y = operator(_in_range(generator, 3, torch.float64)) + noise
    batched = csgm(generator, operator, y, LATENT, restarts=4, steps=100, seed=7, sparse=sparse)
    starts = latent_starts(7, 3, 4, LATENT)
    for b in range(3):
        chosen = int(batched.restart_losses[b].argmin())
        for r in range(4):
            alone = csgm(generator, operator, y[b:b + 1], LATENT, steps=100, sparse=sparse,
                         starts=starts[b:b + 1, r:r + 1])
            assert float(alone.measurement_loss) == pytest.approx(float(batched.restart_losses[b, r]), abs=1e-12)
            if r == chosen:
                assert torch.allclose(alone.x[0], batched.x[b], rtol=0, atol=1e-12)
                assert torch.allclose(alone.z[0], batched.z[b], rtol=0, atol=1e-12)
    assert starts.equal(latent_starts(7, 3, 4, LATENT))  # csgm moved copies of its starts, not them
    assert latent_starts(7, 2, 3, LATENT).equal(starts[:2, :3]) and not latent_starts(8, 3, 4, LATENT).equal(starts)


def test_the_kept_restart_is_the_one_of_lowest_measurement_loss():
    generator, operator = _generator(), GaussianOperator(SHAPE, 20, seed=2)
    y = operator(_in_range(generator, 3)) + 0.1 * torch.randn(3, 20, generator=torch.Generator().manual_seed(5))
    found = csgm(generator, operator, y, LATENT, restarts=4, steps=300, seed=7)
    losses = found.restart_losses
    assert losses.shape == (3, 4) and (losses.max(1).values > 2 * losses.min(1).values).all()  # restarts differ
    assert found.measurement_loss.equal(losses.min(1).values)
    assert torch.allclose(found.measurement_loss, (operator(found.x) - y).pow(2).mean(1), rtol=1e-5)
    assert torch.allclose(found.x, generator(found.z).detach(), atol=1e-6)


def test_csgm_leaves_the_generator_as_it_was():
    generator = _generator(batch_norm=True).train()
    generator[0].weight.requires_grad_(False)
    before = {name: value.clone() for name, value in generator.state_dict().items()}
    flags = [p.requires_grad for p in generator.parameters()]
    operator = GaussianOperator(SHAPE, 20, seed=2)
    csgm(generator, operator, torch.randn(2, 20, generator=torch.Generator().manual_seed(0)), LATENT,
         restarts=2, steps=20, sparse="pixel")
    assert generator.training and [p.requires_grad for p in generator.parameters()] == flags
    assert all(p.grad is None for p in generator.parameters())
    assert all(value.equal(before[name]) for name, value in generator.state_dict().items())
    generator(torch.randn(4, LATENT))  # a train-mode forward would have moved the BatchNorm statistics
    assert not generator[1].running_mean.equal(before["1.running_mean"])


def test_sparse_deviations_reach_a_target_outside_the_range():
    generator, operator = _generator(), GaussianOperator(SHAPE, 48, seed=2)
    spikes = torch.zeros(4, 64)
    for b in range(4):
        spikes[b, torch.randperm(64, generator=torch.Generator().manual_seed(10 + b))[:3]] = 1.0
    target = _in_range(generator, 4) + spikes.view(4, *SHAPE)
    y = operator(target)
    plain = csgm(generator, operator, y, LATENT, restarts=3, steps=1000, prior_weight=0.0)
    sparse = csgm(generator, operator, y, LATENT, restarts=3, steps=1000, prior_weight=0.0, sparse="pixel")
    assert _mse(plain.x, target).min() > 0.03  # measured 0.045 to 0.055: the spikes' share, 3/64
    assert _mse(sparse.x, target).max() < 1e-3  # measured 1.8e-4 to 2.8e-4: each spike shrunk by ~0.05
    assert torch.allclose(sparse.x, generator(sparse.z).detach() + sparse.deviation, atol=1e-6)
    strongest = sparse.deviation.abs().flatten(1).topk(3).indices.sort().values
    assert strongest.equal(spikes.topk(3).indices.sort().values)


def _dct_basis(n_side):
    """Ψ (n, n): column j is the image of 2-D DCT coefficient j, by scipy."""
    units = np.eye(n_side * n_side).reshape(-1, n_side, n_side)
    return scipy.fft.idctn(units, axes=(-2, -1), norm="ortho").reshape(n_side * n_side, -1).T


def test_lasso_is_scikit_learn_called_directly():
    operator = GaussianOperator(SHAPE, 32, seed=5).double()
    y = torch.randn(3, 32, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    matrix, rows = operator.matrix.numpy(), y.numpy()
    expected = np.stack([np.clip(Lasso(alpha=0.1).fit(matrix, row).coef_, 0, 1) for row in rows])
    found = lasso(operator, y).flatten(1).numpy()
    assert np.abs(found - expected).max() < 1e-10 and 0 < (expected == 0).mean() < 1  # the clip acts
    psi = _dct_basis(8)
    expected = np.stack([psi @ Lasso(alpha=0.05).fit(matrix @ psi, row).coef_ for row in rows])
    found = lasso(operator, y, alpha=0.05, basis="dct", clip=None).flatten(1).numpy()
    assert np.abs(found - expected).max() < 1e-10


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # the pixel fit, at sklearn's max_iter
def test_lasso_in_the_dct_basis_recovers_a_dct_sparse_signal_the_pixel_basis_cannot():
    rng = np.random.default_rng(0)
    coefficients = np.zeros((3, 64))
    for row in coefficients:
        row[rng.choice(64, 4, replace=False)] = rng.choice([-1, 1], 4) * rng.uniform(0.5, 1.5, 4)
    target = torch.as_tensor(coefficients @ _dct_basis(8).T).view(3, *SHAPE)
    operator = GaussianOperator(SHAPE, 32, seed=5).double()
    y = operator(target)
    dct = lasso(operator, y, alpha=0.01, basis="dct", clip=None)
    pixel = lasso(operator, y, alpha=0.01, clip=None)
    assert _mse(dct, target).max() < 1e-4  # measured 1.4e-5 (signal power 0.06 to 0.1)
    assert _mse(pixel, target).min() > 0.03  # measured 0.052 to 0.087


def test_tv_least_squares_beats_minimum_norm_least_squares_on_a_piecewise_constant_image():
    target = torch.full((2, 1, 16, 16), 0.2)
    target[0, :, 4:12, 4:12], target[1, :, 2:9, 6:14] = 0.8, 0.9
    operator = GaussianOperator((1, 16, 16), 64, seed=3)  # m = n / 4
    y = operator(target) + 0.1 * torch.randn(2, 64, generator=torch.Generator().manual_seed(4))
    pinv = torch.as_tensor(np.linalg.pinv(operator.matrix.double().numpy()) @ y.double().numpy().T).T
    tv = tv_least_squares(operator, y, weight=0.1, steps=500)
    assert _mse(pinv.float(), target.flatten(1)).min() > 0.1  # measured 0.145, 0.158
    assert _mse(tv, target).max() < 0.01  # measured 1.1e-3, 3.3e-4


def test_bad_arguments_are_refused():
    generator, operator = _generator(), GaussianOperator(SHAPE, 20, seed=2)
    with pytest.raises(ValueError, match="sparse"):
        csgm(generator, operator, torch.zeros(1, 20), LATENT, sparse="wavelet")
    with pytest.raises(ValueError, match=r"\(B, 20\)"):
        csgm(generator, operator, torch.zeros(1, 21), LATENT)
    with pytest.raises(ValueError, match="starts"):
        csgm(generator, operator, torch.zeros(2, 20), LATENT, starts=torch.zeros(1, 3, LATENT))
    with pytest.raises(ValueError, match="restarts"):
        csgm(generator, operator, torch.zeros(2, 20), LATENT, restarts=0)
    with pytest.raises(ValueError, match="basis"):
        lasso(operator, torch.zeros(1, 20), basis="wavelet")
    with pytest.raises(ValueError, match=r"\(B, 20\)"):
        tv_least_squares(operator, torch.zeros(20), weight=0.1)
