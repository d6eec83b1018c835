"""Game kinds: the bilinear toy game trained by `gankit train` through the GAN's trainer, run directory,
checkpoints, resume and report, checked against its closed form; kind configs refused in one line."""

import csv
import math
import shutil

import numpy as np
import pytest
import torch

from cli_helpers import assert_user_error
from gankit.config import BilinearConfig, GANConfig, load_config
from gankit.dynamics.toy import bilinear_spectral_radius
from gankit.errors import ConfigError
from gankit.experiment import build_experiment
from gankit.kinds import KINDS, get_kind
from gankit.kinds.bilinear import closed_form_distance
from gankit.train.run import train

RULES = ("simultaneous", "alternating", "extragradient", "optimistic", "unrolled")


def _distance(run, step):
    """‖(x, y)‖ from the checkpoint's weights (metrics.csv rounds to 6 digits)."""
    players = torch.load(run / "checkpoints" / f"step_{step:06d}.pt", weights_only=True)["players"]
    return math.hypot(float(players["x"]["value"]), float(players["y"]["value"]))


def _rows(run):
    with (run / "metrics.csv").open() as handle:
        return list(csv.DictReader(handle))


def _bilinear(tmp_path, name, *sets, steps=40):
    config = load_config("bilinear", ["train.log_every=10", "train.eval_every=20", "train.checkpoint_every=20",
                                      "train.tensorboard=false", *sets], steps=steps)  # later sets win
    return train(config, tmp_path / name, progress=False)


@pytest.mark.parametrize("rule", RULES)
def test_every_dynamics_rule_trained_as_a_run_follows_the_closed_form(rule, tmp_path):
    run = _bilinear(tmp_path, rule, f"dynamics.name={rule}", "dynamics.unroll_steps=2" if rule == "unrolled" else
                    "seed=0")
    last = _rows(run.path)[-1]
    assert int(last["step"]) == 40
    config = load_config(str(run.path / "config.yaml"))
    expected = closed_form_distance(config, 40)  # the matrix power of the hand-derived one-step map
    assert _distance(run.path, 40) == pytest.approx(expected, rel=1e-9)
    assert float(last["eval/distance"]) == pytest.approx(expected, rel=1e-5)
    assert float(last["eval/distance_closed_form"]) == pytest.approx(expected, rel=1e-5)
    if rule in ("simultaneous", "extragradient"):  # normal maps: the spectral radius alone, independently
        assert _distance(run.path, 40) == pytest.approx(bilinear_spectral_radius(rule, 0.1) ** 40, rel=1e-9)


def test_the_bilinear_run_has_the_run_directory_of_any_run(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run = _bilinear(tmp_path, "run", "train.tensorboard=true")
    events = EventAccumulator(str(run.path / "tb"), size_guidance={"images": 0, "histograms": 0}).Reload()
    assert {"value", "distance", "eval/distance"} <= set(events.Tags()["scalars"])
    assert events.Tags()["images"] == [] and events.Tags()["histograms"] == []  # no samples, no critic
    assert events.Scalars("eval/distance")[-1].value == pytest.approx(math.sqrt(1.01) ** 40, rel=1e-6)
    files = {p.name for p in run.path.iterdir()}
    assert {"config.yaml", "metrics.csv", "report.html", "checkpoints"} <= files
    assert [p.name for p in run.checkpoints()] == ["step_000020.pt", "step_000040.pt"]
    assert not any(run.samples_dir.iterdir())  # the kind draws no samples: no grids
    report = (run.path / "report.html").read_text()
    assert "eval/distance" in report and "bilinear" in report
    rows = _rows(run.path)
    assert [r["step"] for r in rows] == ["10", "20", "30", "40"]
    assert _distance(run.path, 40) == pytest.approx(math.sqrt(1.01) ** 40, rel=1e-9)


def test_a_resumed_bilinear_run_is_bit_identical_and_applies_a_changed_step_size(tmp_path, gankit):
    run = _bilinear(tmp_path, "full", "dynamics.name=optimistic")
    shutil.copytree(run.path, tmp_path / "cut")
    (tmp_path / "cut" / "checkpoints" / "step_000040.pt").unlink()
    assert gankit("train", "--resume", str(tmp_path / "cut"), "--no-progress").returncode == 0
    full = torch.load(run.path / "checkpoints" / "step_000040.pt", weights_only=True)
    cut = torch.load(tmp_path / "cut" / "checkpoints" / "step_000040.pt", weights_only=True)
    for player in ("x", "y"):
        assert torch.equal(full["players"][player]["value"], cut["players"][player]["value"])
    # A changed step size is applied from the resumed step on: the optimizer runs at the recorded rate.
    result = gankit("train", "--resume", str(tmp_path / "cut"), "--steps", "60", "--set", "optim.lr.y=0.05",
                    "--allow-config-change", "--no-progress")
    assert result.returncode == 0, result.stderr
    state = torch.load(tmp_path / "cut" / "checkpoints" / "step_000060.pt", weights_only=True)
    assert state["optimizers"]["y"]["param_groups"][0]["lr"] == 0.05
    assert state["optimizers"]["x"]["param_groups"][0]["lr"] == 0.1


def test_closed_form_distance_is_the_matrix_power_and_is_absent_where_unknown():
    config = load_config("bilinear", ["bilinear.x0=0.6", "bilinear.y0=0.8", "dynamics.name=alternating"])
    eta = 0.1
    step = np.array([[1.0, -eta], [eta, 1.0 - eta**2]])  # x' = x - ηy, then y' = y + ηx'
    expected = np.linalg.norm(np.linalg.matrix_power(step, 7) @ [0.6, 0.8])
    assert closed_form_distance(config, 7) == pytest.approx(expected, rel=1e-12)
    assert closed_form_distance(load_config("bilinear", ["optim.lr.x=0.2"]), 7) is None  # two step sizes
    assert closed_form_distance(load_config("bilinear", ["optim.name=adam"]), 7) is None


def test_configs_are_typed_per_kind():
    assert isinstance(load_config("ring8"), GANConfig) and load_config("ring8").game == "gan"
    config = load_config("bilinear")
    assert isinstance(config, BilinearConfig) and set(KINDS) == {"gan", "bilinear", "paired", "unpaired", "domain",
                                                                                  "design", "circuits", "fields"}
    assert get_kind(config.game).name == "bilinear"
    with pytest.raises(ConfigError, match=r"unknown game kind 'bilinar'; did you mean 'bilinear'\?"):
        load_config("ring8", ["game=bilinar"])
    with pytest.raises(ConfigError, match=r"unknown config key 'data'.*valid keys here: game, seed"):
        load_config("bilinear", ["data.name=mnist"])
    with pytest.raises(ConfigError, match=r"unknown config key 'optim.lr_d'; did you mean 'optim.lr'"):
        load_config("bilinear", ["optim.lr_d=1e-3"])
    with pytest.raises(ConfigError, match="optim.lr.z names no player; this kind's players are x, y"):
        load_config("bilinear", ["optim.lr.z=0.1"])
    with pytest.raises(ConfigError, match="train.ema_decay averages a generator's weights; the bilinear kind"):
        build_experiment(load_config("bilinear", ["train.ema_decay=0.9"]))
    with pytest.raises(ConfigError, match="train.best_metric 'fid' is a score of generated samples"):
        build_experiment(load_config("bilinear", ["train.best_metric=fid"]))


def test_gan_player_names_are_the_gan_kinds_spellings():
    by_player = load_config("ring8", ["optim.lr.discriminator=1e-3", "dynamics.steps.discriminator=3"])
    assert by_player.optim.lr_d == 1e-3 and by_player.dynamics.d_steps == 3
    assert by_player == load_config("ring8", ["optim.lr_d=1e-3", "dynamics.d_steps=3"])
    both = load_config("ring8", ["dynamics.steps.generator=2"])
    assert get_kind("gan").dynamics_steps(both) == {"discriminator": 1, "generator": 2}
    assert load_config("ring8", ["optim.lr_d=5e-4", "optim.lr.discriminator=1e-3"]).optim.lr_d == 1e-3  # it wins
    with pytest.raises(ConfigError, match="optim.lr.critic names no player; the gan kind's players are"):
        load_config("ring8", ["optim.lr.critic=1e-3"])


def test_commands_that_need_a_generator_refuse_a_bilinear_run_in_one_line(tmp_path, gankit):
    run = _bilinear(tmp_path, "run", steps=20)
    assert_user_error(gankit("sample", str(run.path), "--out", str(tmp_path / "s.png")), "bilinear run draws no samples")
    assert_user_error(gankit("eval", str(run.path)), "bilinear run has no evaluation protocols")
    assert_user_error(gankit("sweep", "bilinear", "--steps", "2"), "gankit sweep stacks GAN members")
    assert_user_error(gankit("train", "bilinear", "--set", "dynamics.d_steps=2", "--out", str(tmp_path / "x")),
                      "unknown config key 'dynamics.d_steps'")
