"""Vectorized sweeps: members reproduce their single runs, stay independent, and the summaries hold their numbers."""

import csv
import json

import numpy as np
import pytest
import torch
from PIL import Image

from cli_helpers import assert_user_error
from gankit.config import load_config
from gankit.errors import CheckpointError, ConfigError
from gankit.experiment import build_experiment
from gankit.sweep import StackedGAN, expand_members, group_members, parse_grid, run_sweep
from gankit.sweep.optim import StackedOptimizer
from gankit.train.checkpoint import load_checkpoint
from gankit.train.run import train
from gankit.train.trainer import Trainer

TINY = ["model.g_width=16", "model.d_width=16", "model.depth=2", "model.latent_dim=4", "train.batch_size=32",
        "data.n_samples=512", "train.log_every=5", "train.sample_every=10"]


def single_run_weights(config, steps):
    """The ordinary path: build_experiment + Trainer, as gankit train runs it."""
    exp = build_experiment(config)
    Trainer(exp.game, exp.dynamics, exp.optimizers, exp.batches, steps=steps).fit()
    return {name: module.state_dict() for name, module in exp.game.players.items()}


def sweep_weights(configs, steps):
    engine = StackedGAN(configs)
    for step in range(steps):
        engine.step(step)
    return engine, [engine.member_players(m) for m in range(len(configs))]


def max_difference(a, b):
    return max((a[p][k] - b[p][k]).abs().max().item() for p in a for k in a[p])


@pytest.mark.parametrize("extra", [
    [],  # grid25's own settings: nonsaturating loss, R1, alternating, Adam
    ["dynamics.name=simultaneous", "loss.name=hinge", "loss.r1_gamma=0"],
    ["dynamics.d_steps=3", "loss.name=wasserstein", "loss.gp_weight=1", "loss.r1_gamma=0", "optim.name=rmsprop"],
    ["loss.name=least_squares", "loss.label_smoothing=0.1", "optim.name=sgd", "train.ema_decay=0.9",
     "loss.r1_every=3", "loss.clip_value=0.3"],
])
def test_members_equal_their_single_runs_bit_for_bit(extra):
    # Exact, not approximately equal: GAN training amplifies a one-ulp difference until weights differ by
    # ~lr (Adam normalizes near-zero gradients), so anything short of the single run's very arithmetic
    # would show. Per-member learning rates and betas differ, so the optimizer's per-member path runs too.
    configs = [load_config("grid25", [*TINY, *extra, f"optim.lr_d={lr}", f"optim.beta2={b2}"], seed=seed)
               for seed, lr, b2 in [(0, 5e-4, 0.999), (1, 1e-3, 0.99), (2, 2e-4, 0.999)]]
    _, members = sweep_weights(configs, 25)
    for config, weights in zip(configs, members):
        single = single_run_weights(config, 25)
        assert all(torch.equal(weights[p][k], single[p][k]) for p in single for k in single[p])
    assert max_difference(members[0], members[1]) > 1e-3  # and the members really are different runs


def test_members_equal_gankit_train_runs_with_their_metrics(tmp_path):
    overrides = [*TINY, "loss.r1_gamma=0.5", "train.ema_decay=0.95", "optim.lr_g=1e-3", "train.tensorboard=false"]
    axes = parse_grid(["optim.lr_d=5e-4,1e-3"])
    members = expand_members("ring8", axes, 1, overrides, steps=40, seed=4)
    result = run_sweep(members, tmp_path / "sweep", axes, eval_every=20)
    for member in members[1:]:  # the second member: its lr_d differs from the first's (per-member updates)
        run = train(member.config, tmp_path / member.name, progress=False)
        single = load_checkpoint(run.latest_checkpoint())
        swept = load_checkpoint(tmp_path / "sweep" / member.name / "checkpoints" / "step_000040.pt")
        for part, key in (("players", "generator"), ("players", "discriminator"), ("callbacks", "EMACallback")):
            ours, theirs = swept[part][key], single[part][key]
            assert ours.keys() == theirs.keys() and all(torch.equal(ours[k], theirs[k]) for k in ours)
        with open(run.metrics_path) as f:
            logged = {int(r["step"]): r for r in csv.DictReader(f)}
        with open(tmp_path / "sweep" / member.name / "metrics.csv") as f:
            swept_rows = {int(r["step"]): r for r in csv.DictReader(f)}
        assert sorted(swept_rows) == [5, 10, 15, 20, 25, 30, 35, 40]
        for step in (20, 40):  # the fixed latent batch: gankit train's diag/modes is the sweep's `modes`
            assert float(swept_rows[step]["modes"]) == float(logged[step]["diag/modes"])
        for step in (5, 40):  # same numbers, written with 6 significant digits
            for column in ("loss_d", "loss_g", "r1", "d_real", "d_fake", "grad_norm_generator"):
                assert float(swept_rows[step][column]) == pytest.approx(float(logged[step][column]), rel=1e-5)
    assert [row["optim.lr_d"] for row in result.rows] == [5e-4, 1e-3]


def test_changing_one_members_lr_leaves_the_others_bit_identical():
    base = [load_config("grid25", [*TINY, "optim.lr_d=5e-4"], seed=s) for s in (0, 1)]
    changed = [base[0], load_config("grid25", [*TINY, "optim.lr_d=3e-3"], seed=1)]
    _, first = sweep_weights(base, 20)
    _, second = sweep_weights(changed, 20)
    assert all(torch.equal(first[0][p][k], second[0][p][k]) for p in first[0] for k in first[0][p])
    assert max_difference(first[1], second[1]) > 1e-3


def test_stacked_optimizer_equals_torch_optimizers_per_member():
    torch.manual_seed(0)
    hyper = [(1e-3, 0.5, 0.999), (3e-4, 0.9, 0.99), (1e-3, 0.0, 0.9)]
    for name, make in [("adam", lambda p, lr, b1, b2: torch.optim.Adam([p], lr=lr, betas=(b1, b2))),
                       ("sgd", lambda p, lr, b1, b2: torch.optim.SGD([p], lr=lr)),
                       ("rmsprop", lambda p, lr, b1, b2: torch.optim.RMSprop([p], lr=lr))]:
        stacked = torch.randn(3, 5, 4)
        singles = [stacked[m].clone().requires_grad_(True) for m in range(3)]
        optimizers = [make(p, *h) for p, h in zip(singles, hyper)]
        ours = StackedOptimizer(name, [stacked], *zip(*hyper))
        for _ in range(4):
            grads = torch.randn(3, 5, 4)
            ours.step([grads])
            for m, (p, opt) in enumerate(zip(singles, optimizers)):
                p.grad = grads[m].clone()
                opt.step()
        assert all(torch.equal(stacked[m], singles[m].detach()) for m in range(3)), name
        assert not torch.equal(stacked[0], stacked[1])


def test_grid_expands_to_the_cartesian_product_times_seeds():
    axes = parse_grid(["optim.lr_d=1e-4,4e-4,1e-3", "loss.name=hinge,nonsaturating"])
    members = expand_members("grid25", axes, 2, TINY, steps=7, seed=10)
    assert len(members) == 12
    assert [m.seed for m in members[:4]] == [10, 11, 10, 11]
    assert members[0].values == {"optim.lr_d": 1e-4, "loss.name": "hinge"}
    assert members[3].values == {"optim.lr_d": 1e-4, "loss.name": "nonsaturating"}
    assert members[11].values == {"optim.lr_d": 1e-3, "loss.name": "nonsaturating"}
    assert all(m.config.train.steps == 7 and m.config.model.g_width == 16 for m in members)
    assert members[6].config.optim.lr_d == 4e-4 and members[6].config.loss.name == "nonsaturating"
    # loss.name changes the computation: two groups; learning rates and seeds share one batched group each
    groups = group_members([m.config for m in members])
    assert [len(g) for g in groups] == [6, 6]
    assert groups[0] == [0, 1, 4, 5, 8, 9]


@pytest.mark.parametrize("items, fragments", [
    (["optim.lr_gen=1e-4"], ["--grid optim.lr_gen=1e-4", "unknown config key 'optim.lr_gen'", "did you mean 'optim.lr_g'"]),
    (["optim.lr_d=1e-4,fast"], ["--grid optim.lr_d=fast", "invalid config value for 'optim.lr_d'"]),
    (["optim.lr_d=-1"], ["optim.lr_d", "greater than 0"]),
    (["seed=1,2"], ["--seeds"]),
    (["optim.lr_d=1e-4,"], ["empty value"]),
    (["optim.lr_d=1e-4", "optim.lr_d=2e-4"], ["given twice"]),
    (["optim.lr_d"], ["KEY=V1,V2"]),
])
def test_bad_grid_items_are_config_errors(items, fragments):
    with pytest.raises(ConfigError) as err:
        expand_members("grid25", parse_grid(items), 1, TINY)
    for fragment in fragments:
        assert fragment in str(err.value)


def test_a_grid_over_data_sets_is_refused(tmp_path):
    axes = parse_grid(["data.name=ring8,grid25"])
    with pytest.raises(ConfigError, match="must share data.name .got ring8, grid25."):
        run_sweep(expand_members("grid25", axes, 1, TINY), tmp_path / "out", axes)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("overrides, fragment", [
    (["dynamics.name=extragradient"], "dynamics.name 'extragradient'"),
    (["dynamics.name=unrolled"], "dynamics.name 'unrolled'"),
    (["model.spectral_norm=true"], "model.spectral_norm"),
    (["dynamics.trust_region.radius=0.1"], "dynamics.trust_region"),
    (["model.arch=dcgan"], "model.arch 'dcgan' on grid25"),
    (["data.name=digits"], "model.arch 'mlp' on digits"),
    (["data.name=breast_cancer"], "data.name 'breast_cancer'"),
    (["train.eval_every=10"], "train.eval_every"),
    (["train.compile=true", "loss.r1_gamma=0"], "train.compile"),
])
def test_unsupported_settings_are_refused_before_anything_is_written(overrides, fragment, tmp_path):
    members = expand_members("grid25", [], 1, [*TINY, *overrides])
    with pytest.raises(ConfigError) as err:
        run_sweep(members, tmp_path / "out", [])
    assert fragment in str(err.value) and "gankit train" in str(err.value)
    assert not (tmp_path / "out").exists()


def test_summaries_hold_the_members_own_numbers(tmp_path):
    axes = parse_grid(["optim.lr_d=2e-4,2e-3"])
    members = expand_members("ring8", axes, 3, TINY, steps=30)
    result = run_sweep(members, tmp_path / "s", axes)
    with open(tmp_path / "s" / "sweep.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["member"] for r in rows] == [f"member_{i:03d}" for i in range(6)]
    assert [r["seed"] for r in rows] == ["0", "1", "2", "0", "1", "2"]
    for row in rows:
        with open(tmp_path / "s" / row["member"] / "metrics.csv") as f:
            last = list(csv.DictReader(f))[-1]
        assert last["step"] == "30" and row["steps"] == "30"
        for column in ("modes", "hq_fraction", "loss_d", "loss_g"):
            assert row[column] == last[column]
        assert 0 <= float(row["modes"]) <= 8 and 0 <= float(row["hq_fraction"]) <= 1
    summary = json.loads((tmp_path / "s" / "sweep.json").read_text())
    assert summary["grid"] == {"optim.lr_d": [2e-4, 2e-3]} and summary["seeds"] == [0, 1, 2]
    for cell, lr in zip(summary["cells"], (2e-4, 2e-3)):
        modes = [float(r["modes"]) for r in rows if float(r["optim.lr_d"]) == lr]
        hq = [float(r["hq_fraction"]) for r in rows if float(r["optim.lr_d"]) == lr]
        assert cell["values"] == {"optim.lr_d": lr} and cell["seeds"] == 3
        assert cell["modes_mean"] == pytest.approx(np.mean(modes)) and cell["modes_std"] == pytest.approx(
            np.std(modes, ddof=1))
        assert cell["hq_fraction_mean"] == pytest.approx(np.mean(hq), abs=1e-6)
    assert len(result.cells) == 2
    image = Image.open(tmp_path / "s" / "sweep_heatmap.png")
    assert 300 < image.size[0] < 1500 and 100 < image.size[1] < 1000
    with pytest.raises(CheckpointError, match="not empty"):
        run_sweep(members, tmp_path / "s", axes)


def test_cli_sweep_writes_a_sweep_and_samples_from_a_member(tmp_path, gankit):
    out = tmp_path / "sw"
    sets = [arg for item in TINY for arg in ("--set", item)]
    result = gankit("sweep", "ring8", "--seeds", "2", "--grid", "optim.lr_d=1e-4,4e-4", "--steps", "10", *sets,
                    "--out", str(out), "--no-progress")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("modes") == 2 and "optim.lr_d=0.0004: modes" in result.stdout
    assert sorted(p.name for p in out.iterdir()) == [
        "member_000", "member_001", "member_002", "member_003", "sweep.csv", "sweep.json", "sweep_heatmap.png"]
    assert (out / "member_003" / "config.yaml").read_text().startswith("game: gan\nseed: 1\n")
    result = gankit("sample", str(out / "member_003"), "-n", "20", "--out", str(tmp_path / "s.npy"))
    assert result.returncode == 0, result.stderr
    assert np.load(tmp_path / "s.npy").shape == (20, 2)


@pytest.mark.parametrize("args, fragments", [
    (["--grid", "optim.lr_gen=1"], ["unknown config key 'optim.lr_gen'", "optim.lr_g"]),
    (["--set", "dynamics.name=optimistic"], ["cannot vectorize dynamics.name 'optimistic'", "gankit train"]),
    (["--seeds", "0"], ["--seeds must be at least 1"]),
    (["--eval-n", "1"], ["--eval-n must be at least 2"]),
])
def test_cli_sweep_user_errors_are_one_line(args, fragments, tmp_path, gankit):
    result = gankit("sweep", "grid25", "--steps", "2", "--out", str(tmp_path / "x"), *args)
    assert_user_error(result, *fragments)
    assert not (tmp_path / "x").exists()
