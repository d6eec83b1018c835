"""Training end to end through the Trainer: every preset for a few steps, signs of updates, exact resume."""

import csv
import math

import numpy as np
import pytest
import torch

from gankit.config import load_config
from gankit.experiment import build_experiment
from gankit.train.checkpoint import load_checkpoint, save_checkpoint
from gankit.runs import load_generator, sample_from_run
from gankit.train.run import train
from gankit.train.run_dir import RunDir
from gankit.train.trainer import Trainer

TINY = {
    "mnist": ["model.g_width=8", "model.d_width=8", "train.batch_size=16"],
    "digits": ["model.g_width=8", "model.d_width=8", "train.batch_size=16"],
    "ring8": ["data.n_samples=512", "train.batch_size=64"],
    "grid25": ["data.n_samples=512", "train.batch_size=64", "train.ema_decay=0.9"],
    "mnist_cgan": ["model.g_width=8", "model.d_width=8", "train.batch_size=16", "train.grid_size=20"],
    "mnist_infogan": ["model.g_width=8", "model.d_width=8", "train.batch_size=16", "train.grid_size=20",
                      "train.eval_every=5", "train.eval_n=50"],
    "tabular": ["train.batch_size=32"],
}
EVERY = ["train.log_every=1", "train.sample_every=2", "train.checkpoint_every=2", "train.keep_checkpoints=2"]


@pytest.mark.parametrize("preset", sorted(TINY))
def test_each_preset_trains_writes_a_run_and_samples_from_it(preset, tmp_path):
    config = load_config(preset, TINY[preset] + EVERY, steps=5)
    run = train(config, tmp_path / "run", progress=False)

    with run.metrics_path.open() as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["step"]) for r in rows] == [1, 2, 3, 4, 5]
    for column in ("loss_d", "loss_g", "d_real", "d_fake", "grad_norm_discriminator", "grad_norm_generator"):
        assert all(math.isfinite(float(r[column])) for r in rows), column
    assert [p.name for p in run.checkpoints()] == ["step_000004.pt", "step_000005.pt"]
    assert sorted(p.name for p in run.samples_dir.iterdir()) == [
        "step_000000.png", "step_000002.png", "step_000004.png", "step_000005.png"
    ]
    assert load_config(str(run.config_path)) == config

    samples = sample_from_run(run.path, 10, tmp_path / "s.npy")
    saved = np.load(tmp_path / "s.npy")
    np.testing.assert_array_equal(saved, samples.numpy())
    vector_dim = 30 if preset == "tabular" else 2  # breast_cancer's 30 features, or a 2D mixture
    expected_shape = (10, vector_dim) if config.model.arch == "mlp" else (10, 1, 28, 28)
    assert saved.shape == expected_shape
    sample_from_run(run.path, 9, tmp_path / "s.png")
    assert (tmp_path / "s.png").stat().st_size > 0


def test_sampling_uses_ema_weights_when_the_run_kept_them(tmp_path):
    config = load_config("grid25", TINY["grid25"] + EVERY, steps=4)
    run = train(config, tmp_path / "run", progress=False)
    state = load_checkpoint(run.latest_checkpoint())
    generator, _, step = load_generator(run.path)
    assert step == 4
    for name, value in generator.state_dict().items():
        torch.testing.assert_close(value, state["callbacks"]["EMACallback"][name])
    live = state["players"]["generator"]
    assert any(not torch.equal(generator.state_dict()[k], live[k]) for k in live)


def _trainer(config):
    exp = build_experiment(config)
    return Trainer(exp.game, exp.dynamics, exp.optimizers, exp.batches, steps=config.train.steps), exp


def _last_stat(config, key):
    trainer, exp = _trainer(config)
    stats = {}

    class Keep:
        def on_train_start(self, t): ...
        def on_step_end(self, t, result): stats.update({k: float(v) for k, v in result.stats.items()})
        def on_train_end(self, t): ...

    trainer.callbacks.append(Keep())
    trainer.fit()
    return stats[key]


def test_discriminator_learns_against_a_frozen_generator():
    # lr_g ~ 0: only D moves, so its BCE loss must fall well below log 4 (the value at D = 1/2).
    config = load_config("ring8", ["optim.lr_g=1e-12", "optim.lr_d=1e-3", "data.n_samples=2048"], steps=150)
    assert _last_stat(config, "loss_d") < 0.5 * math.log(4)


def test_generator_fools_a_frozen_discriminator():
    # lr_d ~ 0: only G moves, climbing the fixed D's logit (to a local maximum of the piecewise-linear D);
    # a sign error would walk it downhill instead.
    base = ["optim.lr_d=1e-12", "optim.lr_g=1e-2", "data.n_samples=2048"]
    before = _last_stat(load_config("ring8", base, steps=1), "d_fake")
    after = _last_stat(load_config("ring8", base, steps=100), "d_fake")
    assert after > before + 0.02


@pytest.mark.parametrize("preset, extra", [
    ("ring8", []),
    ("digits", []),
    ("digits", ["condition.kind=label", "condition.aux_weight=1"]),  # projection + AC-GAN
    ("ring8", ["infogan.categorical=8", "infogan.continuous=1", "loss.r1_gamma=1"]),
    ("ring8", ["data.name=wine", "condition.kind=label", "condition.discriminator=concat"]),
])
def test_resume_from_a_checkpoint_is_bit_identical(preset, extra, tmp_path):
    overrides = TINY[preset] + ["dynamics.d_steps=2"] + extra
    full, _ = _trainer(load_config(preset, overrides, steps=6))
    full.fit()

    first, _ = _trainer(load_config(preset, overrides, steps=3))
    first.fit()
    save_checkpoint(first.state_dict(), tmp_path / "c.pt")
    torch.manual_seed(1234)  # disturb the global RNG: the checkpoint must restore it
    resumed, _ = _trainer(load_config(preset, overrides, steps=6))
    state = load_checkpoint(tmp_path / "c.pt")
    resumed.load_state_dict(state)
    assert resumed.step == 3
    resumed.fit()

    for name, module in full.game.players.items():
        for key, value in module.state_dict().items():
            assert torch.equal(value, resumed.game.players[name].state_dict()[key]), (name, key)


def test_run_directory_is_never_overwritten(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "precious.txt").write_text("keep me")
    from gankit.errors import CheckpointError

    with pytest.raises(CheckpointError, match="not empty"):
        train(load_config("ring8", TINY["ring8"], steps=1), tmp_path / "run", progress=False)
    assert (tmp_path / "run" / "precious.txt").read_text() == "keep me"
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["precious.txt"]
    assert RunDir(tmp_path / "run").checkpoints() == []
