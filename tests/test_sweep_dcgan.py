"""Vectorized DCGAN sweeps: grouped convolutions reproduce each member's own DCGAN, and image members are scored by FID."""

import csv
import json
import math

import pytest
import torch

from gankit.config import load_config
from gankit.errors import ConfigError
from eval_helpers import evaluate
from gankit.nn import DCGANDiscriminator, DCGANGenerator
from gankit.sweep import StackedGAN, expand_members, parse_grid, run_sweep
from gankit.sweep.scoring import scoring_for
from gankit.sweep.stacked_conv import StackedConvNet
from gankit.train.checkpoint import load_checkpoint
from gankit.runs import load_generator
from gankit.train.run import train
from test_sweep import max_difference, single_run_weights, sweep_weights

SMALL = ["model.g_width=8", "model.d_width=8", "model.latent_dim=8", "train.batch_size=16", "device=cpu"]


@pytest.mark.parametrize("image_size, channels", [(28, 1), (32, 3)])
def test_stacked_layers_compute_each_members_module(image_size, channels):
    torch.manual_seed(0)
    gens = [DCGANGenerator(6, channels, image_size, 4) for _ in range(3)]
    discs = [DCGANDiscriminator(channels, image_size, 4) for _ in range(3)]
    g = StackedConvNet.from_modules(gens, torch.device("cpu"))
    d = StackedConvNet.from_modules(discs, torch.device("cpu"))
    z = torch.randn(3, 5, 6)
    images = g.forward(z)
    expected = torch.stack([gen(zm) for gen, zm in zip(gens, z)])
    assert images.shape == (3, 5, channels, image_size, image_size)
    torch.testing.assert_close(images, expected, rtol=0, atol=1e-5)
    torch.testing.assert_close(d.forward(expected), torch.stack([disc(x) for disc, x in zip(discs, expected)]),
                               rtol=0, atol=1e-5)
    # the forwards updated BatchNorm's running statistics member by member, as the modules' own did
    for m, (gen, disc) in enumerate(zip(gens, discs)):
        for ours, theirs in ((g.member_state(m), gen.state_dict()), (d.member_state(m), disc.state_dict())):
            assert ours.keys() == theirs.keys()
            for key in theirs:
                torch.testing.assert_close(ours[key], theirs[key], rtol=0, atol=1e-6)
    g.load_member(2, gens[0].state_dict())  # member 2 now holds gens[0]'s weights and statistics
    loaded = g.member_state(2)
    assert all(torch.equal(loaded[k], v) for k, v in gens[0].state_dict().items())
    torch.testing.assert_close(g.forward(z[[0, 1, 0]])[2], g.forward(z)[0], rtol=0, atol=1e-6)


@pytest.mark.parametrize("extra", [
    [],  # the digits preset: nonsaturating, alternating, Adam, BatchNorm in both players
    ["dynamics.name=simultaneous", "loss.name=wasserstein", "loss.gp_weight=10", "train.ema_decay=0.9"],
    ["dynamics.d_steps=2", "loss.name=hinge", "loss.r1_gamma=1", "optim.name=rmsprop"],
])
def test_dcgan_members_match_their_single_runs_within_rounding(extra):
    # Grouped kernels round differently from a single model's, so members agree to ~1e-6 over a few steps
    # (then drift apart as two runs on different hardware do); a member paired with the wrong data, latents,
    # statistics or learning rate would differ by ~1e-2.
    configs = [load_config("digits", [*SMALL, *extra, f"optim.lr_d={lr}"], seed=seed)
               for seed, lr in [(0, 2e-4), (1, 8e-4)]]
    _, members = sweep_weights(configs, 3)
    for config, weights in zip(configs, members):
        single = single_run_weights(config, 3)
        assert max_difference(weights, single) < 2e-5
        assert all(torch.equal(weights[p][k], single[p][k]) for p in single for k in single[p]
                   if k.endswith("num_batches_tracked"))
    assert max_difference(members[0], members[1]) > 1e-2


def test_image_sweep_members_are_gankit_train_runs_scored_as_gankit_eval_does(tmp_path):
    axes = parse_grid(["optim.lr_d=2e-4,8e-4"])
    overrides = [*SMALL, "train.log_every=2", "train.ema_decay=0.9", "train.tensorboard=false"]
    members = expand_members("digits", axes, 1, overrides, steps=4)
    result = run_sweep(members, tmp_path / "s", axes, eval_every=2, eval_n=150)
    # the second member (its lr_d is not the first's) against gankit train: weights, statistics, EMA shadow
    single = load_checkpoint(train(members[1].config, tmp_path / "single", progress=False).latest_checkpoint())
    swept = load_checkpoint(tmp_path / "s" / members[1].name / "checkpoints" / "step_000004.pt")
    for part, key in (("players", "generator"), ("players", "discriminator"), ("callbacks", "EMACallback")):
        ours, theirs = swept[part][key], single[part][key]
        assert ours.keys() == theirs.keys()
        assert max((ours[k].double() - theirs[k].double()).abs().max().item() for k in ours) < 2e-5
    assert result.scoring.protocol == "digits_150"
    with open(tmp_path / "s" / "sweep.csv") as f:
        rows = list(csv.DictReader(f))
    for member, row in zip(members, rows):
        folder = tmp_path / "s" / member.name
        generator, config, step = load_generator(folder)
        assert step == 4
        expected = evaluate(generator, config, metrics=("fid", "prdc"), n=150, seed=0)
        assert float(row["fid"]) == pytest.approx(expected["fid_digits_150"], rel=1e-5)
        assert float(row["recall"]) == pytest.approx(expected["recall_digits_150"], abs=1e-6)
        with open(folder / "metrics.csv") as f:
            logged = list(csv.DictReader(f))
        assert [r["step"] for r in logged] == ["2", "4"] and logged[-1]["fid"] == row["fid"]
        assert (folder / "samples" / "step_000004.png").exists()
    summary = json.loads((tmp_path / "s" / "sweep.json").read_text())
    assert [cell["fid_mean"] for cell in summary["cells"]] == [row["fid"] for row in summary["members"]]
    assert [row["fid"] for row in summary["members"]] == pytest.approx([float(r["fid"]) for r in rows], rel=1e-5)
    assert summary["protocol"] == "digits_150" and (tmp_path / "s" / "sweep_heatmap.png").exists()


def test_a_diverged_image_member_scores_nan_and_the_others_are_untouched():
    configs = [load_config("digits", SMALL, seed=seed) for seed in (0, 1)]
    engine = StackedGAN(configs)
    engine.step(0)
    scoring = scoring_for(engine, 100)
    before = scoring.score(engine)
    with torch.no_grad():
        engine.generator.parameters()[0][1].fill_(float("nan"))  # member 1's first layer
    after = scoring.score(engine)
    assert after[0] == before[0] and all(math.isfinite(v) for v in after[0].values())
    assert all(math.isnan(v) for v in after[1].values())


def test_spectrally_normalized_players_are_not_stacked():
    # stacking reads `weight`, which spectral norm recomputes from its own state: refused, not silently wrong
    with pytest.raises(ConfigError, match="model.spectral_norm"):
        StackedConvNet.from_modules([DCGANDiscriminator(1, 28, 4, spectral_norm=True)], torch.device("cpu"))
