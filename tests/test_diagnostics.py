"""Diagnostics: the numbers they log, against independent computations."""

import numpy as np
import pytest
import torch
from scipy.spatial.distance import pdist

from gankit.config import load_config
from gankit.dynamics.base import StepResult
from gankit.experiment import build_experiment
from gankit.train.diagnostics import Diagnostics, mean_pairwise_distance
from gankit.train.trainer import Trainer


def test_mean_pairwise_distance_matches_scipy():
    x = torch.randn(50, 3, 2, 2, generator=torch.Generator().manual_seed(0))
    assert mean_pairwise_distance(x) == pytest.approx(pdist(x.flatten(1).double().numpy()).mean(), rel=1e-9)
    with pytest.raises(ValueError):
        mean_pairwise_distance(x[:1])


def test_diagnostics_values():
    exp = build_experiment(load_config("ring8", ["data.n_samples=512"], steps=10))
    trainer = Trainer(exp.game, exp.dynamics, exp.optimizers, exp.batches, steps=10)
    trainer.step = 10
    real = exp.data.real.samples[:256]
    collapsed = torch.zeros(300, 2)  # one point: diversity 0, one mode at most
    diag = Diagnostics(lambda: real, real, every=10, mixture=exp.data.real.mixture)
    result = StepResult(stats={"loss_g": torch.tensor(2.0), "loss_d": torch.tensor(0.5), "d_real": torch.tensor(1.5),
                               "d_fake": torch.tensor(-0.5), "grad_norm_generator": torch.tensor(3.0),
                               "grad_norm_discriminator": torch.tensor(1.5)})
    diag.on_step_end(trainer, result)
    stats = {k: float(v) for k, v in result.stats.items()}
    assert stats["diag/diversity"] == pytest.approx(1.0)  # the real batch against itself
    assert stats["diag/grad_ratio"] == pytest.approx(2.0)
    assert stats["diag/loss_ratio"] == pytest.approx(4.0)
    assert stats["diag/d_gap"] == pytest.approx(2.0)
    assert stats["diag/modes"] == 8
    params = np.concatenate([p.detach().flatten().numpy() for p in exp.game.generator.parameters()])
    assert stats["diag/param_norm_generator"] == pytest.approx(np.linalg.norm(params), rel=1e-5)
    diag.draw_fixed = lambda: collapsed
    result = StepResult(stats={"loss_g": torch.tensor(1.0), "loss_d": torch.tensor(0.5)})
    diag.on_step_end(trainer, result)
    assert float(result.stats["diag/diversity"]) == 0.0
    assert float(result.stats["diag/loss_ratio"]) == pytest.approx((2.0 + 1.0) / (0.5 + 0.5))  # mean over the window
    assert float(result.stats["diag/modes"]) <= 1
