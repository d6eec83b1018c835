"""Alarms fire on runs built to fail that way and stay silent on the presets; NaN recovery rolls back."""

import json

import pytest
import torch

from gankit.config import load_config
from gankit.experiment import build_experiment
from gankit.train.alarms import AlarmMonitor, advice, collapse, divergence, saturation
from gankit.train.callbacks import TrainingDiverged
from gankit.train.recovery import NaNRecovery
from gankit.train.run import train
from gankit.train.trainer import Callback, Trainer


def _rows(n, **columns):
    return [{k: (v(i) if callable(v) else v) for k, v in columns.items()} for i in range(n)]


def test_saturation_needs_a_perfect_discriminator_and_a_vanishing_generator_gradient():
    fading = _rows(12, d_acc_real=1.0, d_acc_fake=1.0, grad_norm_generator=lambda i: 1.0 if i < 5 else 0.01)
    assert "saturated" in saturation(fading)
    steady = _rows(12, d_acc_real=1.0, d_acc_fake=1.0, grad_norm_generator=1.0)  # non-saturating loss: fine
    assert saturation(steady) is None
    fooled = _rows(12, d_acc_real=1.0, d_acc_fake=lambda i: 0.9, grad_norm_generator=lambda i: 1.0 if i < 5 else 0.01)
    assert saturation(fooled) is None


def test_collapse_waits_for_the_generator_to_have_spread_out_once():
    blob_at_start = _rows(10, **{"diag/diversity": 0.05})
    assert collapse(blob_at_start) is None
    fell = _rows(10, **{"diag/diversity": lambda i: 0.9 if i < 5 else 0.1})
    assert "mode collapse" in collapse(fell)
    assert "mode collapse" in collapse(_rows(40, **{"diag/diversity": 0.05}))  # never spread out: still flagged
    assert collapse(_rows(10, **{"diag/diversity": 0.8})) is None


def test_divergence_on_parameter_growth_or_huge_losses():
    grows = _rows(3, **{"diag/param_norm_discriminator": lambda i: 10.0 ** i, "loss_d": 1.0})
    assert "param_norm_discriminator grew from 1 to 100" in divergence(grows)
    assert "loss_g reached" in divergence(_rows(2, loss_g=lambda i: 5e4 * i))
    assert divergence(_rows(5, **{"diag/param_norm_generator": 3.0, "loss_d": 1.2})) is None


def _alarms(run):
    path = run / "alarms.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


FAST = ["train.sample_every=1000", "train.checkpoint_every=1000", "train.tensorboard=false"]


def test_saturation_and_collapse_fire_on_a_run_built_to_fail(tmp_path):
    # Minimax loss, a discriminator 500x faster than a nearly frozen generator, no R1: D wins,
    # log(1 - D(G(z))) goes flat, and the generator's samples shrink onto a point.
    overrides = ["loss.name=minimax", "loss.r1_gamma=0", "optim.lr_d=5e-3", "optim.lr_g=1e-5",
                 "dynamics.d_steps=5", *FAST]
    run = train(load_config("ring8", overrides, steps=450), tmp_path / "run", progress=False)
    fired = {a["alarm"]: a for a in _alarms(run.path)}
    assert set(fired) == {"saturation", "collapse"}
    assert fired["saturation"]["step"] <= 200 and "nonsaturating" in fired["saturation"]["advice"]


def test_collapse_fires_once_on_a_plain_gan_on_ring8(tmp_path):
    # Without R1 and with a fast generator, the ring8 GAN draws a small blob (0 of 8 modes).
    overrides = ["loss.r1_gamma=0", "optim.lr_g=2e-3", *FAST]
    run = train(load_config("ring8", overrides, steps=700), tmp_path / "run", progress=False)
    fired = _alarms(run.path)
    assert [a["alarm"] for a in fired] == ["collapse"]  # its diversity wobbles around 0.2: one alarm, not many
    assert "0." in fired[0]["message"] and "r1_gamma" in fired[0]["advice"]


# The hinge + spectral-norm run: it was told to "add model.spectral_norm=true".
HINGE_SN = ["loss.name=hinge", "model.spectral_norm=true", "optim.lr_d=4e-4", "optim.lr_g=1e-4", "optim.beta1=0.0",
            "optim.beta2=0.9", "train.ema_decay=0.999"]
# A config that uses none of the remedies; each remedy, the overrides that make it use one, the alarms proposing it.
BARE = ["loss.name=minimax", "dynamics.d_steps=2", "optim.lr_d=1e-4", "optim.lr_g=2e-4"]
REMEDIES = [
    ("use loss.name=nonsaturating", ["loss.name=nonsaturating"], ["saturation"]),
    ("use loss.name=wasserstein with loss.gp_weight=10", ["loss.name=wasserstein", "loss.gp_weight=10"],
     ["saturation"]),
    ("add model.spectral_norm=true", ["model.spectral_norm=true"], ["saturation", "collapse", "divergence"]),
    ("use fewer dynamics.d_steps", ["dynamics.d_steps=1"], ["saturation"]),
    ("add loss.r1_gamma", ["loss.r1_gamma=10"], ["collapse", "nan"]),
    ("try dynamics.name=unrolled", ["dynamics.name=unrolled"], ["collapse"]),
    ("use TTUR (optim.lr_d > optim.lr_g)", ["optim.lr_d=4e-4", "optim.lr_g=1e-4"], ["divergence"]),
    ("try dynamics.name=extragradient", ["dynamics.name=extragradient"], ["divergence"]),
    ("constrain D with loss.gp_weight", ["loss.gp_weight=10"], ["divergence"]),
]


@pytest.mark.parametrize("remedy, used, alarms", REMEDIES, ids=[r[0] for r in REMEDIES])
def test_advice_proposes_a_remedy_only_when_the_config_does_not_use_it(remedy, used, alarms):
    lacking, having = load_config("mnist", BARE), load_config("mnist", [*BARE, *used])
    for alarm in alarms:
        assert remedy in advice(alarm, lacking)
        assert remedy not in advice(alarm, having)
        assert "lower" in advice(alarm, having)  # what is left: a lower rate is always possible


def test_the_monitor_writes_the_advice_that_fits_the_run(tmp_path):
    monitor = AlarmMonitor(tmp_path / "alarms.jsonl", 10, load_config("mnist", HINGE_SN))
    monitor.raise_alarm(400, "collapse", "mode collapse")
    (written,) = _alarms(tmp_path)
    assert written["advice"] == "add loss.r1_gamma, try dynamics.name=unrolled or lower optim.lr_g"
    plain = AlarmMonitor(None, 10, load_config("mnist"))
    assert "add model.spectral_norm=true" in plain.advice["collapse"]
    bilinear = AlarmMonitor(None, 10, load_config("bilinear"))  # keys a kind lacks are never advised
    assert bilinear.advice["nan"].endswith("if it keeps failing, lower the learning rates")
    assert not any("optim.lr_" in text or "model." in text for text in bilinear.advice.values())


def test_an_alarm_rearms_only_after_its_condition_stayed_clear():
    monitor = AlarmMonitor(None, every=1, config=load_config("ring8"), rearm=3)

    class _T:
        total_steps = 100

    def log(step, diversity):
        trainer = _T()
        trainer.step = step
        monitor.on_step_end(trainer, type("R", (), {"stats": {"diag/diversity": diversity}})())

    for step, value in enumerate([0.9] * 5 + [0.1] * 5 + [0.3, 0.1, 0.1, 0.1, 0.1] + [0.9] * 3 + [0.1] * 5, 1):
        log(step, value)
    assert [a.step for a in monitor.fired] == [10, 23]


def test_divergence_fires_on_an_unconstrained_critic(tmp_path):
    overrides = ["loss.name=wasserstein", "loss.r1_gamma=0", "optim.lr_d=1e-2", "optim.lr_g=1e-2", *FAST]
    run = train(load_config("ring8", overrides, steps=600), tmp_path / "run", progress=False)
    assert "divergence" in {a["alarm"] for a in _alarms(run.path)}


@pytest.mark.parametrize("preset, steps, extra", [
    ("ring8", 1500, []),
    ("grid25", 1000, []),
    ("digits", 300, ["model.g_width=16", "model.d_width=16"]),
])
def test_presets_raise_no_alarm(tmp_path, preset, steps, extra):
    run = train(load_config(preset, [*FAST, *extra], steps=steps), tmp_path / "run", progress=False)
    assert _alarms(run.path) == []


class _Poison(Callback):
    """Set one discriminator weight to NaN once, at `at`."""

    def __init__(self, at):
        self.at = at
        self.done = False

    def on_step_end(self, trainer, result):
        if trainer.step == self.at and not self.done:
            self.done = True
            with torch.no_grad():
                next(trainer.game.discriminator.parameters()).view(-1)[0] = float("nan")


def _trainer(callbacks, steps=60):
    exp = build_experiment(load_config("ring8", ["data.n_samples=512"], steps=steps))
    return Trainer(exp.game, exp.dynamics, exp.optimizers, exp.batches, steps=steps, callbacks=callbacks)


def test_nan_recovery_rolls_back_lowers_the_learning_rates_and_finishes(tmp_path):
    alarms = AlarmMonitor(tmp_path / "alarms.jsonl", every=10, config=load_config("ring8"))
    recovery = NaNRecovery(10, 20, retries=3, lr_factor=0.5, alarms=alarms)
    trainer = _trainer([_Poison(at=25), recovery, alarms])
    lr_before = trainer.optimizers["discriminator"].param_groups[0]["lr"]
    trainer.fit()
    assert trainer.step == 60 and recovery.failures == 1
    assert all(torch.isfinite(p).all() for m in trainer.game.players.values() for p in m.parameters())
    assert trainer.optimizers["discriminator"].param_groups[0]["lr"] == pytest.approx(lr_before * 0.5)
    (nan,) = _alarms(tmp_path)
    assert nan["alarm"] == "nan" and nan["step"] == 30 and "rolled back to step 20" in nan["message"]
    assert [vars(a) for a in alarms.fired] == [nan]


class _AlwaysPoison(_Poison):
    def on_step_end(self, trainer, result):
        with torch.no_grad():
            next(trainer.game.discriminator.parameters()).view(-1)[0] = float("nan")


def test_nan_recovery_gives_up_after_its_retries():
    recovery = NaNRecovery(10, 20, retries=2)
    trainer = _trainer([_AlwaysPoison(at=0), recovery])
    with pytest.raises(TrainingDiverged, match="again after 2 rollbacks"):
        trainer.fit()
    assert recovery.failures == 3


def test_tensorboard_events_hold_scalars_sample_grids_and_d_histograms(tmp_path, gankit):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    result = gankit("train", "digits", "--steps", "4", "--out", str(tmp_path / "run"), "--no-progress",
                    "--set", "model.g_width=8", "--set", "model.d_width=8", "--set", "train.log_every=2",
                    "--set", "train.sample_every=2")
    assert result.returncode == 0, result.stderr
    events = EventAccumulator(str(tmp_path / "run" / "tb"), size_guidance={"images": 0, "histograms": 0}).Reload()
    tags = events.Tags()
    assert {"loss_d", "loss_g", "d_acc_real", "diag/diversity", "diag/d_gap"} <= set(tags["scalars"])
    gap = events.Scalars("diag/d_gap")[-1].value
    assert gap == pytest.approx(events.Scalars("d_real")[-1].value - events.Scalars("d_fake")[-1].value, abs=1e-5)
    assert [e.step for e in events.Scalars("loss_g")] == [2, 4]
    assert [e.step for e in events.Images("samples")] == [2, 4]
    assert {"d_logits/real", "d_logits/fake"} <= set(tags["histograms"])
    assert (tmp_path / "run" / "report.html").is_file()
    result = gankit("train", "digits", "--steps", "2", "--out", str(tmp_path / "off"), "--no-progress",
                    "--no-tensorboard", "--set", "model.g_width=8", "--set", "model.d_width=8")
    assert result.returncode == 0 and not (tmp_path / "off" / "tb").exists()
