"""Learning-rate decay (optim.decay linear): its closed form, and how it composes with NaN rollbacks and resume."""

import pytest
import torch

from gankit.config import load_config
from gankit.errors import ConfigError
from gankit.experiment import apply_optimizer_settings, build_experiment
from gankit.kinds import PlayerOptimizer
from gankit.optim import linear_decay, scale_base_lr, set_lr_scale
from gankit.train.callbacks import LinearDecay
from gankit.train.recovery import NaNRecovery
from gankit.train.trainer import Callback, Trainer


def test_linear_decay_is_constant_then_falls_linearly_to_zero():
    assert [linear_decay(s, 10, 0.5) for s in range(10)] == [1, 1, 1, 1, 1, 1.0, 0.8, 0.6, 0.4, 0.2]
    assert [linear_decay(s, 4, 0.0) for s in range(4)] == [1.0, 0.75, 0.5, 0.25]
    assert linear_decay(199, 200, 0.5) == pytest.approx(1 / 100)  # CycleGAN: the last step keeps a positive rate


def test_a_rollback_lowers_the_base_rate_and_keeps_the_schedule_factor():
    optimizer = torch.optim.Adam([torch.nn.Parameter(torch.zeros(2))], lr=1e-3)
    set_lr_scale(optimizer, 0.25)
    scale_base_lr(optimizer, 0.5)
    (group,) = optimizer.param_groups
    assert group["lr"] == 1e-3 * 0.5 * 0.25 and group["base_lr"] == 1e-3 * 0.5
    set_lr_scale(optimizer, 0.75)
    assert group["lr"] == 1e-3 * 0.5 * 0.75
    # resuming sets the configured rate lowered once per rollback, times the factor of the step it resumes at
    apply_optimizer_settings({"p": optimizer}, {"p": PlayerOptimizer(2e-3)}, rollbacks=1, lr_factor=0.5)
    assert group["lr"] == 2e-3 * 0.5 * 0.75


class _RatesSeen(Callback):
    """Record, at each step end, the rate the next step will use."""

    def __init__(self):
        self.rates = {}

    def on_step_end(self, trainer, result):
        self.rates[trainer.step] = trainer.optimizers["discriminator"].param_groups[0]["lr"]


class _PoisonOnce(Callback):
    def __init__(self, at):
        self.at, self.done = at, False

    def on_step_end(self, trainer, result):
        if trainer.step == self.at and not self.done:
            self.done = True
            with torch.no_grad():
                next(trainer.game.discriminator.parameters()).view(-1)[0] = float("nan")


def test_linear_decay_composes_with_a_nan_rollback():
    steps = 60
    exp = build_experiment(load_config("ring8", ["data.n_samples=512", "optim.decay=linear"], steps=steps))
    base = exp.optimizers["discriminator"].param_groups[0]["lr"]
    seen = _RatesSeen()
    recovery = NaNRecovery(10, 20, retries=3, lr_factor=0.5)
    trainer = Trainer(exp.game, exp.dynamics, exp.optimizers, exp.batches, steps=steps,
                      callbacks=[LinearDecay(0.5), _PoisonOnce(at=45), recovery, seen])
    trainer.fit()
    assert recovery.failures == 1
    # steps before the rollback at 50 (back to 40) run at base x decay; after it at base x 0.5 x decay
    assert seen.rates[35] == pytest.approx(base * linear_decay(35, steps, 0.5), rel=1e-12)
    assert seen.rates[40] == pytest.approx(base * 0.5 * linear_decay(40, steps, 0.5), rel=1e-12)
    assert seen.rates[59] == pytest.approx(base * 0.5 * linear_decay(59, steps, 0.5), rel=1e-12)
    assert linear_decay(59, steps, 0.5) == pytest.approx(1 / 30)


def test_decay_start_without_linear_decay_is_refused():
    with pytest.raises(ConfigError, match="decay_start applies to decay: linear only"):
        load_config("ring8", ["optim.decay_start=0.3"])
