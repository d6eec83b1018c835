"""From config to objects: every dynamics and the trust region are built as named, and train."""

import math

import pytest
import torch

from gankit.config import load_config
from gankit.dynamics import Alternating, Extragradient, Optimistic, Simultaneous, Unrolled
from gankit.errors import ConfigError
from gankit.experiment import build_experiment
from gankit.optim import Extrapolation, TrustRegion
from gankit.train.checkpoint import load_checkpoint, save_checkpoint
from gankit.train.trainer import Trainer

TINY = ["data.n_samples=256", "train.batch_size=32", "model.g_width=16", "model.d_width=16"]


@pytest.mark.parametrize(
    "overrides, cls",
    [
        (["dynamics.name=simultaneous"], Simultaneous),
        (["dynamics.name=alternating", "dynamics.d_steps=3"], Alternating),
        (["dynamics.name=extragradient"], Extragradient),
        (["dynamics.name=optimistic"], Optimistic),
        (["dynamics.name=unrolled", "dynamics.unroll_steps=2"], Unrolled),
    ],
)
def test_each_dynamics_is_built_and_trains(overrides, cls):
    exp = build_experiment(load_config("grid25", TINY + overrides, steps=3))
    assert type(exp.dynamics) is cls
    wrapped = all(isinstance(opt, Extrapolation) for opt in exp.optimizers.values())
    assert wrapped == (cls is Extragradient)
    before = [p.detach().clone() for p in exp.game.generator.parameters()]
    stats = {}
    for step in range(3):
        stats = exp.dynamics.step(exp.game, exp.optimizers, lambda: next(exp.batches), step).stats
    assert all(math.isfinite(float(v)) for v in stats.values())
    assert any(not torch.equal(a, b) for a, b in zip(before, exp.game.generator.parameters()))


def test_alternating_gets_its_discriminator_steps():
    exp = build_experiment(load_config("grid25", TINY + ["dynamics.d_steps=4"], steps=1))
    assert exp.dynamics.steps == {"discriminator": 4}


def test_unrolled_gets_k_and_lr():
    exp = build_experiment(load_config("grid25", TINY + ["dynamics.name=unrolled", "dynamics.unroll_steps=7",
                                                         "dynamics.unroll_lr=0.01"], steps=1))
    assert (exp.dynamics.unroll_steps, exp.dynamics.unroll_lr) == (7, 0.01)


@pytest.mark.parametrize("measure", ["parameters", "outputs"])
def test_trust_region_wraps_only_the_generator_and_bounds_its_steps(measure):
    radius = 1e-3
    exp = build_experiment(load_config("grid25", TINY + [f"dynamics.trust_region.radius={radius}",
                                                         f"dynamics.trust_region.measure={measure}",
                                                         "dynamics.trust_region.max_radius=1e-3"], steps=1))
    assert isinstance(exp.optimizers["generator"], TrustRegion)
    assert not isinstance(exp.optimizers["discriminator"], TrustRegion)
    for step in range(4):
        before = torch.cat([p.detach().flatten().clone() for p in exp.game.generator.parameters()])
        exp.dynamics.step(exp.game, exp.optimizers, lambda: next(exp.batches), step)
        after = torch.cat([p.detach().flatten() for p in exp.game.generator.parameters()])
        if measure == "parameters":
            assert (after - before).norm().item() <= radius * (1 + 1e-5)


@pytest.mark.parametrize(
    "overrides, key",
    [
        (["dynamics.name=simultaneous", "dynamics.d_steps=5"], "dynamics.d_steps"),
        (["dynamics.name=optimistic", "dynamics.unroll_steps=3"], "dynamics.unroll_steps"),
        (["dynamics.name=alternating", "dynamics.unroll_lr=0.1"], "dynamics.unroll_lr"),
    ],
)
def test_options_of_another_dynamics_are_refused(overrides, key):
    with pytest.raises(ConfigError, match=f"{key} applies to dynamics.name"):
        build_experiment(load_config("grid25", TINY + overrides, steps=1))


@pytest.mark.parametrize("name", ["extragradient", "unrolled"])
def test_trust_region_is_refused_where_it_cannot_apply(name):
    with pytest.raises(ConfigError, match=f"not '{name}'"):
        build_experiment(load_config("grid25", TINY + [f"dynamics.name={name}", "dynamics.trust_region.radius=0.1"]))


def _trainer(config):
    exp = build_experiment(config)
    return Trainer(exp.game, exp.dynamics, exp.optimizers, exp.batches, steps=config.train.steps)


@pytest.mark.parametrize("dynamics", ["optimistic", "extragradient"])
def test_resume_holds_the_dynamics_and_optimizer_state(dynamics, tmp_path):
    overrides = TINY + [f"dynamics.name={dynamics}"]
    full = _trainer(load_config("grid25", overrides, steps=6))
    full.fit()
    first = _trainer(load_config("grid25", overrides, steps=3))
    first.fit()
    save_checkpoint(first.state_dict(), tmp_path / "c.pt")
    resumed = _trainer(load_config("grid25", overrides, steps=6))
    resumed.load_state_dict(load_checkpoint(tmp_path / "c.pt"))
    resumed.fit()
    for name, module in full.game.players.items():
        for key, value in module.state_dict().items():
            assert torch.equal(value, resumed.game.players[name].state_dict()[key]), (name, key)
