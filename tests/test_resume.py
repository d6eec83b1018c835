"""gankit train --resume: bit-identical continuation, refused silent config changes, recorded allowed ones."""

import csv
import shutil

import pytest
import torch

from cli_helpers import assert_user_error
from gankit.config import load_config
from gankit.experiment import apply_optimizer_settings, build_experiment
from gankit.kinds import PlayerOptimizer
from gankit.train.trainer import Callback, Trainer

TINY = {
    "ring8": ["data.n_samples=512", "train.ema_decay=0.9"],
    "digits": ["model.g_width=8", "model.d_width=8", "train.batch_size=16", "dynamics.d_steps=2"],
}


def _sets(items):
    return [arg for item in items for arg in ("--set", item)]


def _weights(run):
    state = torch.load(sorted((run / "checkpoints").iterdir())[-1], weights_only=True)
    return state["step"], state["players"], state["callbacks"].get("EMACallback")


@pytest.mark.parametrize("preset", sorted(TINY))
def test_a_run_resumed_from_a_checkpoint_ends_bit_identical(preset, tmp_path, gankit):
    every = ["train.log_every=2", "train.checkpoint_every=4", "train.keep_checkpoints=5", "train.sample_every=4"]
    args = ["train", preset, "--steps", "8", "--no-progress", *_sets(TINY[preset] + every)]
    assert gankit(*args, "--out", str(tmp_path / "full")).returncode == 0
    shutil.copytree(tmp_path / "full", tmp_path / "cut")
    (tmp_path / "cut" / "checkpoints" / "step_000008.pt").unlink()  # "killed" after the step-4 checkpoint
    result = gankit("train", "--resume", str(tmp_path / "cut"), "--no-progress")
    assert result.returncode == 0, result.stderr
    step, players, ema = _weights(tmp_path / "full")
    step_cut, players_cut, ema_cut = _weights(tmp_path / "cut")
    assert step == step_cut == 8
    for name in players:
        for key, value in players[name].items():
            assert torch.equal(value, players_cut[name][key]), (name, key)
    if ema is not None:
        assert all(torch.equal(ema[k], ema_cut[k]) for k in ema)
    with (tmp_path / "cut" / "metrics.csv").open() as handle:
        steps = [int(r["step"]) for r in csv.DictReader(handle)]
    assert steps == [2, 4, 6, 8]  # rows after the checkpoint were replaced, not duplicated


def test_resume_refuses_a_changed_config_and_records_an_allowed_one(tmp_path, gankit):
    run = tmp_path / "run"
    assert gankit("train", "ring8", "--steps", "4", "--out", str(run), "--no-progress",
                  *_sets(["data.n_samples=512", "train.checkpoint_every=2"])).returncode == 0
    before = (run / "config.yaml").read_text()
    assert_user_error(gankit("train", "--resume", str(run), "--set", "optim.lr_d=1e-3", "--steps", "6"),
                      "changed config", "optim.lr_d: 0.0005 -> 0.001", "train.steps: 4 -> 6", "--allow-config-change")
    assert (run / "config.yaml").read_text() == before
    result = gankit("train", "--resume", str(run), "--steps", "6", "--allow-config-change", "--no-progress")
    assert result.returncode == 0, result.stderr
    assert "steps: 6" in (run / "config.yaml").read_text()
    assert '"train.steps: 4 -> 6"' in (run / "config_changes.jsonl").read_text()
    assert _weights(run)[0] == 6


def test_resume_errors_are_one_line(tmp_path, gankit):
    assert_user_error(gankit("train", "--resume", str(tmp_path)), "not a gankit run directory")
    run = tmp_path / "run"
    assert gankit("train", "ring8", "--steps", "2", "--out", str(run), "--no-progress",
                  *_sets(["data.n_samples=512"])).returncode == 0
    assert_user_error(gankit("train", "ring8", "--resume", str(run)), "drop SOURCE/--out")
    before = (run / "config.yaml").read_text()
    result = gankit("train", "--resume", str(run), "--set", "model.d_width=7", "--allow-config-change", "--no-progress")
    assert_user_error(result, "does not fit the model built from the config",
                      "shape mismatches: net.0.weight saved (128, 2) vs model (7, 2)")
    assert (run / "config.yaml").read_text() == before
    assert not (run / "config_changes.jsonl").exists()  # a failed resume records nothing


def test_sigterm_writes_a_checkpoint_and_the_resumed_run_matches_an_uninterrupted_one(tmp_path, gankit):
    import signal

    from process_helpers import logged_rows, start_gankit, wait_until

    settings = ["data.n_samples=512", "train.log_every=5", "train.checkpoint_every=1000", "train.sample_every=1000",
                "train.tensorboard=false"]
    args = ["train", "ring8", "--steps", "600", "--no-progress", *_sets(settings)]
    assert gankit(*args, "--out", str(tmp_path / "full")).returncode == 0
    proc = start_gankit(*args, "--out", str(tmp_path / "cut"))
    wait_until(lambda: logged_rows(tmp_path / "cut" / "metrics.csv") >= 3)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "stopped by SIGTERM at step" in err and "gankit train --resume" in err
    stopped = int(err.split("at step ")[1].split(";")[0])
    assert 0 < stopped < 600
    assert [p.name for p in (tmp_path / "cut" / "checkpoints").iterdir()] == [f"step_{stopped:06d}.pt"]
    result = gankit("train", "--resume", str(tmp_path / "cut"), "--no-progress")
    assert result.returncode == 0, result.stderr
    _, players, _ = _weights(tmp_path / "full")
    step, players_cut, _ = _weights(tmp_path / "cut")
    assert step == 600
    for name in players:
        assert all(torch.equal(v, players_cut[name][k]) for k, v in players[name].items()), name


class _SwitchAt(Callback):
    """Set the discriminator's learning rate and both players' beta1 at one step, as a resume applying them would."""

    def __init__(self, step, lr_d, beta1):
        self.step, self.lr_d, self.beta1 = step, lr_d, beta1

    def on_step_end(self, trainer, result):
        if trainer.step == self.step:
            for name, optimizer in trainer.optimizers.items():
                for group in optimizer.param_groups:
                    group["lr"] = self.lr_d if name == "discriminator" else group["lr"]
                    group["betas"] = (self.beta1, group["betas"][1])


def test_a_resume_with_an_allowed_change_runs_at_the_new_rate(tmp_path, gankit):
    run = tmp_path / "run"
    base = ["data.n_samples=512", "train.checkpoint_every=4", "train.log_every=2", "train.sample_every=4"]
    assert gankit("train", "ring8", "--steps", "4", "--out", str(run), "--no-progress", *_sets(base)).returncode == 0
    result = gankit("train", "--resume", str(run), "--steps", "8", "--set", "optim.lr_d=1e-3", "--set",
                    "optim.beta1=0.0", "--allow-config-change", "--no-progress")
    assert result.returncode == 0, result.stderr
    state = torch.load(run / "checkpoints" / "step_000008.pt", weights_only=True)
    d_group, g_group = (state["optimizers"][p]["param_groups"][0] for p in ("discriminator", "generator"))
    assert d_group["lr"] == 1e-3 and g_group["lr"] == 5e-4  # the recorded rate, not the checkpoint's 5e-4
    assert d_group["betas"] == g_group["betas"] == (0.0, 0.999)
    # The same run, uninterrupted, with the rates switched at step 4: bit-identical weights.
    config = load_config("ring8", base, steps=8)
    exp = build_experiment(config)
    Trainer(exp.game, exp.dynamics, exp.optimizers, exp.batches, steps=8, callbacks=[_SwitchAt(4, 1e-3, 0.0)]).fit()
    for name, module in exp.game.players.items():
        for key, value in module.state_dict().items():
            assert torch.equal(value, state["players"][name][key]), (name, key)


def test_resumed_rates_compose_with_the_nan_rollbacks_factor():
    params = [torch.nn.Parameter(torch.zeros(1))]
    optimizers = {"generator": torch.optim.Adam(params, lr=1.0)}
    settings = {"generator": PlayerOptimizer(3e-4, (0.0, 0.9))}
    apply_optimizer_settings(optimizers, settings, rollbacks=2, lr_factor=0.3)
    group = optimizers["generator"].param_groups[0]
    assert group["lr"] == (3e-4 * 0.3) * 0.3 and group["betas"] == (0.0, 0.9)  # as two rollbacks multiplied it
    apply_optimizer_settings(optimizers, settings)
    assert group["lr"] == 3e-4
