"""The unpaired kind (CycleGAN): its objective and history pools against hand computation, exact resume,
every dynamics rule, evaluation against the true translation, gankit apply both ways, and its refusals."""

import shutil

import numpy as np
import pytest
import torch
from cli_helpers import assert_user_error
from doc_helpers import run_example
from scipy import ndimage
from skimage.exposure import match_histograms as skimage_match_histograms
from skimage.metrics import peak_signal_noise_ratio
from torch import nn

from gankit.config import load_config
from gankit.data.translations import match_histograms, parse_translation
from gankit.errors import ConfigError
from gankit.experiment import build_experiment
from gankit.kinds.unpaired_data import load_unpaired_data
from gankit.kinds.unpaired_game import CycleGame, HistoryPool
from gankit.losses import least_squares
from gankit.train.run import train

TINY = ["model.blocks=1", "model.g_width=4", "model.d_width=4", "train.batch_size=4", "train.log_every=2",
        "train.checkpoint_every=4", "train.sample_every=4", "train.keep_checkpoints=5", "train.tensorboard=false",
        "train.eval_every=null", "data.test_fraction=0.02", "loss.pool_size=3", "loss.identity_weight=0.5"]


def _config(*sets, steps=4):
    return load_config("mnist_cycle", [*TINY, *sets], steps=steps)


def _checkpoint(run, step):
    return torch.load(run / "checkpoints" / f"step_{step:06d}.pt", weights_only=True)


def test_the_pool_stores_until_full_then_swaps_half_the_time():
    pool = HistoryPool(3, seed=5)
    first = torch.arange(2.0).view(2, 1)
    assert torch.equal(pool.query(first), first)  # not full: stored and returned
    twin = torch.Generator().manual_seed(5)  # the pool's own draws, replayed by hand
    stored = [0.0, 1.0, 2.0]
    batch = torch.tensor([[2.0], [3.0], [4.0], [5.0], [6.0], [7.0]])
    expected = [2.0]  # fills the last slot
    for value in (3.0, 4.0, 5.0, 6.0, 7.0):
        if torch.rand((), generator=twin) < 0.5:
            slot = int(torch.randint(3, (), generator=twin))
            expected.append(stored[slot])
            stored[slot] = value
        else:
            expected.append(value)
    shown = pool.query(batch)
    assert shown.flatten().tolist() == expected
    assert pool.images.flatten().tolist() == stored
    assert any(e != b for e, b in zip(expected, batch.flatten().tolist()))  # some history was shown
    # a pool restored from its state continues exactly
    copy = HistoryPool(3, seed=99)
    copy.load_state_dict(pool.state_dict(), torch.device("cpu"))
    more = torch.arange(10.0, 16.0).view(6, 1)
    assert torch.equal(copy.query(more), pool.query(more))
    assert torch.equal(HistoryPool(0, seed=0).query(more), more)


class _Scale(nn.Module):
    """A tiny 'translator': tanh(w * x + c)."""

    def __init__(self, w, c):
        super().__init__()
        self.w, self.c = nn.Parameter(torch.tensor(w)), nn.Parameter(torch.tensor(c))

    def forward(self, x):
        return torch.tanh(self.w * x + self.c)


class _Mean(nn.Module):
    """A tiny critic: one logit per image, v * mean(x) + u."""

    def __init__(self, v, u):
        super().__init__()
        self.v, self.u = nn.Parameter(torch.tensor(v)), nn.Parameter(torch.tensor(u))

    def forward(self, x):
        return self.v * x.mean(dim=(1, 2, 3)) + self.u


def test_the_cycle_objective_and_the_critics_losses_match_a_hand_computation():
    g, f, d_a, d_b = _Scale(0.8, 0.1), _Scale(-0.7, 0.05), _Mean(1.5, -0.2), _Mean(-0.9, 0.3)
    game = CycleGame(g, f, d_a, d_b, least_squares, cycle_weight=10.0, identity_weight=0.5, pool_size=0)
    a, b = torch.rand(3, 1, 4, 4) * 2 - 1, torch.rand(3, 1, 4, 4) * 2 - 1
    out = game.losses({"a": a, "b": b}, players=list(game.players), step=0)
    with torch.no_grad():
        def ls_g(logits):
            return 0.5 * ((logits - 1) ** 2).mean()

        adversarial = ls_g(d_b(g(a))) + ls_g(d_a(f(b)))
        cycle = (f(g(a)) - a).abs().mean() + (g(f(b)) - b).abs().mean()
        identity = (g(b) - b).abs().mean() + (f(a) - a).abs().mean()
        total = adversarial + 10 * cycle + 0.5 * 10 * identity
        critic_a = 0.5 * ((d_a(a) - 1) ** 2).mean() + 0.5 * (d_a(f(b)) ** 2).mean()
        critic_b = 0.5 * ((d_b(b) - 1) ** 2).mean() + 0.5 * (d_b(g(a)) ** 2).mean()
    assert out.losses["generator_ab"] is out.losses["generator_ba"]  # one objective, each moves its own weights
    assert out.losses["generator_ab"].item() == pytest.approx(total.item(), rel=1e-6)
    assert out.losses["discriminator_a"].item() == pytest.approx(critic_a.item(), rel=1e-6)
    assert out.losses["discriminator_b"].item() == pytest.approx(critic_b.item(), rel=1e-6)
    assert out.stats["identity"].item() == pytest.approx(identity.item(), rel=1e-6)
    # without the identity term, the total drops by exactly that term
    plain = CycleGame(g, f, d_a, d_b, least_squares, cycle_weight=10.0, identity_weight=0.0, pool_size=0)
    lower = plain.losses({"a": a, "b": b}, players=["generator_ab"], step=0).losses["generator_ab"]
    assert lower.item() == pytest.approx((total - 5 * identity).item(), rel=1e-6)
    # a critic's loss asked alone does not build the translators' graph
    alone = game.losses({"a": a, "b": b}, players=["discriminator_a"], step=0)
    assert set(alone.losses) == {"discriminator_a"} and alone.losses["discriminator_a"].item() == pytest.approx(
        critic_a.item(), rel=1e-6)


def test_the_critic_judges_the_pools_images():
    g, f, d_a, d_b = _Scale(0.8, 0.1), _Scale(-0.7, 0.05), _Mean(1.5, -0.2), _Mean(-0.9, 0.3)
    game = CycleGame(g, f, d_a, d_b, least_squares, pool_size=2, seed=3)
    a, b = torch.rand(4, 1, 4, 4), torch.rand(4, 1, 4, 4)
    twin = HistoryPool(2, seed=3 + 2)  # the pool of domain B's critic
    out = game.losses({"a": a, "b": b}, players=["discriminator_b"], step=0)
    with torch.no_grad():
        shown = twin.query(g(a))
        expected = 0.5 * ((d_b(b) - 1) ** 2).mean() + 0.5 * (d_b(shown) ** 2).mean()
    assert out.losses["discriminator_b"].item() == pytest.approx(expected.item(), rel=1e-6)
    assert game.pools["b"].count == 2 and game.pools["a"].count == 0


def test_known_translations_equal_their_definitions():
    x = torch.rand(2, 1, 9, 9) * 2 - 1
    assert torch.equal(parse_translation("invert")(x), -x)
    dilated = parse_translation("dilate:1")(x)
    assert np.allclose(dilated.numpy(), ndimage.grey_dilation(x.numpy(), size=(1, 1, 3, 3)))
    assert parse_translation("dilate:2").spec == "dilate:2"
    for bad in ("dilate:0", "dilate:x", "erode:1", "invert:2"):
        with pytest.raises(ConfigError, match="invert or dilate:R"):
            parse_translation(bad)


def test_histogram_matching_equals_skimage_against_one_reference():
    rng = np.random.default_rng(0)
    source = np.round(rng.uniform(-1, 1, (1, 1, 12, 12)), 1).astype(np.float32)  # ties, as in digit images
    reference = rng.normal(0.3, 0.4, (1, 1, 12, 12)).astype(np.float32)
    ours = match_histograms(torch.from_numpy(source), torch.from_numpy(reference)).numpy()
    theirs = skimage_match_histograms(source[0, 0], reference[0, 0])
    assert np.allclose(ours[0, 0], theirs, atol=1e-6)


def test_the_domains_share_no_digit_and_the_truth_is_the_translation():
    data = load_unpaired_data(_config().data, 0)
    digits_a = {row.tobytes() for row in data.train_a.flatten(1).numpy()}
    digits_b = {row.tobytes() for row in (-data.train_b).flatten(1).numpy()}  # B: the inversion of other digits
    held_out = {row.tobytes() for row in data.test_a.flatten(1).numpy()}
    assert len(digits_a) > 1900 and len(digits_b) > 1900
    assert not digits_a & digits_b and not (digits_a | digits_b) & held_out  # no digit is in two of the sets
    assert torch.equal(data.test_b, -data.test_a) and torch.equal(data.truth_ab, data.test_b)
    assert torch.equal(data.truth_ba, data.test_a) and len(data.labels) == len(data.test_a) == 100
    assert abs(len(data.train_a) - len(data.train_b)) <= 1


@pytest.mark.parametrize("rule", ("simultaneous", "alternating", "extragradient", "optimistic"))
def test_every_dynamics_rule_moves_all_four_players(rule):
    exp = build_experiment(_config(f"dynamics.name={rule}"))
    assert list(exp.game.players) == ["generator_ab", "generator_ba", "discriminator_a", "discriminator_b"]
    before = {name: [p.detach().clone() for p in exp.game.parameters(name)] for name in exp.game.players}
    for step in range(2):
        result = exp.dynamics.step(exp.game, exp.optimizers, lambda: next(exp.batches), step)
    assert {"loss_g", "cycle_a", "cycle_b", "identity", "loss_d_a", "loss_d_b"} <= set(result.stats)
    assert 0.05 < float(result.stats["cycle_a"]) < 1.5  # L1 of an untrained round trip in [-1, 1] pixels
    for name, params in before.items():
        change = max((x - y).abs().max().item() for x, y in zip(params, exp.game.parameters(name), strict=True))
        assert 1e-7 < change < 0.05, (name, change)


def test_a_resumed_cyclegan_run_is_bit_identical(tmp_path, gankit):
    config = _config(steps=8)
    full = train(config, tmp_path / "full", progress=False).path
    shutil.copytree(full, tmp_path / "cut")
    (tmp_path / "cut" / "checkpoints" / "step_000008.pt").unlink()
    assert gankit("train", "--resume", str(tmp_path / "cut"), "--no-progress").returncode == 0
    a, b = _checkpoint(full, 8), _checkpoint(tmp_path / "cut", 8)
    for player in a["players"]:
        for key, value in a["players"][player].items():
            assert torch.equal(value, b["players"][player][key]), (player, key)
    for domain in ("pool_a", "pool_b"):  # the history pools continued too
        assert a["game"][domain]["count"] == 3
        assert torch.equal(a["game"][domain]["images"], b["game"][domain]["images"])
    # the rates fell linearly over the second half: at the last step 1/4 of the configured rate
    group = a["optimizers"]["generator_ab"]["param_groups"][0]
    assert group["lr"] == pytest.approx(2e-4 * 1 / 4) and group["lr"] == b["optimizers"]["generator_ab"][
        "param_groups"][0]["lr"]


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """One tiny finished CycleGAN run, shared by the tests that only read it."""
    return train(_config(), tmp_path_factory.mktemp("cycle") / "run", progress=False).path


def test_evaluation_holds_the_model_and_its_baselines_both_ways(trained_run, gankit):
    run = trained_run
    result = gankit("eval", str(run))
    assert result.returncode == 0, result.stderr
    rows = {name: float(value) for name, value in (line.split() for line in result.stdout.splitlines())}
    data = load_unpaired_data(_config().data, 0)
    # the identity baseline's PSNR against the true inversion, computed independently
    expected = np.mean([peak_signal_noise_ratio(x.numpy(), (-x).numpy(), data_range=2) for x in data.test_a])
    assert rows["psnr_identity_ab_mnist_invert_100"] == pytest.approx(expected, rel=1e-4)
    # the classifier recognizes the true translations (inverted back) as well as it recognizes the digits
    assert rows["classes_true_ab_mnist_invert_100"] == rows["classes_true_ba_mnist_invert_100"] >= 0.95
    assert {"psnr_ab_mnist_invert_100", "psnr_ba_mnist_invert_100", "psnr_histmatch_ab_mnist_invert_100",
            "ssim_ba_mnist_invert_100", "classes_ab_mnist_invert_100", "cycle_aba_mnist_invert_100",
            "cycle_bab_mnist_invert_100", "psnr_registered_ab_mnist_invert_100", "shift_x_ba_mnist_invert_100"} <= set(rows)
    assert rows["psnr_registered_ab_mnist_invert_100"] >= rows["psnr_ab_mnist_invert_100"]  # (0, 0) is a candidate
    assert 0 < rows["cycle_aba_mnist_invert_100"] < 2
    # the grids show input | translation | round trip | truth
    assert (run / "samples" / "step_000004.png").is_file()


def test_gankit_apply_translates_both_ways(trained_run, tmp_path, gankit):
    from gankit.kinds.paired import apply_generator
    from gankit.runs import restore_run

    run = trained_run
    images = load_unpaired_data(_config().data, 0).test_b[:3]
    np.save(tmp_path / "b.npy", images.numpy())
    result = gankit("apply", str(run), str(tmp_path / "b.npy"), "--out", str(tmp_path / "a.npy"), "--reverse")
    assert result.returncode == 0, result.stderr
    players = restore_run(run).players
    assert np.allclose(np.load(tmp_path / "a.npy"), apply_generator(players["generator_ba"], images).numpy())
    assert not np.allclose(np.load(tmp_path / "a.npy"), apply_generator(players["generator_ab"], images).numpy())
    assert_user_error(gankit("sample", str(run), "--out", str(tmp_path / "s.png")), "gankit apply")


@pytest.mark.parametrize("sets, message", [
    (["dynamics.name=unrolled"], "no such pair"),
    (["train.ema_decay=0.9"], "two translators"),
    (["dynamics.steps.generator=2"], "generator_ab, generator_ba"),
    (["data.translation=blur:1"], "invert or dilate:R"),
    (["data.name=folders", "data.translation=null"], "needs data.a and data.b"),
    (["data.name=folders", "data.a=x", "data.b=y", "data.image_size=30", "data.translation=null"], "multiple of 4"),
])
def test_unpaired_config_mistakes_are_one_line(sets, message):
    with pytest.raises(ConfigError, match=message):
        build_experiment(_config(*sets))


def test_the_documented_cyclegan_trains():
    namespace = run_example("docs/image2image.md", "## Python: a CycleGAN in a few lines", ("steps=20", "steps=3"))
    game = namespace["game"]
    assert game.pools["a"].count == game.pools["b"].count == 3 * 16  # each critic step stored its 16 translations
    assert all(namespace["optimizers"][p].state for p in game.players)  # all four players took Adam steps


@pytest.mark.slow
def test_two_gloo_processes_match_one_process_without_pools(tmp_path):
    import os
    import subprocess
    import sys

    def run(out, *extra):
        sets = [a for s in [*TINY, "loss.pool_size=0", "train.batch_size=8"] for a in ("--set", s)]
        args = [sys.executable, "-m", "gankit", "train", "mnist_cycle", "--steps", "4", "--no-progress", "--out",
                str(out), *sets, *extra]
        done = subprocess.run(args, capture_output=True, text=True, check=False,
                              env={**os.environ, "OMP_NUM_THREADS": "1"},
                              timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]

    from gankit.kinds.paired import apply_generator
    from gankit.runs import restore_run

    run(tmp_path / "one")
    run(tmp_path / "two", "--nproc", "2")
    one, two = restore_run(tmp_path / "one"), restore_run(tmp_path / "two")
    # instance normalization and per-image means: each rank's half batch gives half the global gradient
    for critic in ("discriminator_a", "discriminator_b"):
        for key, value in one.players[critic].state_dict().items():
            torch.testing.assert_close(two.players[critic].state_dict()[key], value, rtol=0, atol=2e-5)
    # a translator's conv biases before InstanceNorm have no effect and a zero gradient up to rounding, which Adam
    # turns into full steps of either sign: compare what the translators compute, not those weights
    images = load_unpaired_data(_config().data, 0).test_a[:8]
    for translator in ("generator_ab", "generator_ba"):
        torch.testing.assert_close(apply_generator(two.players[translator], images),
                                   apply_generator(one.players[translator], images), rtol=0, atol=1e-4)


def test_registered_psnr_finds_how_far_a_translation_is_displaced():
    from gankit.metrics.translation import registered_psnr

    truth = torch.rand(3, 1, 16, 16) * 2 - 1
    displaced = torch.roll(truth, shifts=(1, -2), dims=(2, 3)) + 0.01 * torch.randn(3, 1, 16, 16)
    score, shift = registered_psnr(displaced, truth)
    assert shift == (1, -2)  # the content sits 1 pixel lower and 2 to the left of the truth
    # independently: shift back with numpy's edge padding, then skimage's PSNR on [0, 1] images
    back = np.pad(displaced.numpy(), ((0, 0), (0, 0), (2, 2), (2, 2)), mode="edge")[:, :, 3:19, 0:16]
    expected = np.mean([peak_signal_noise_ratio((t[0].numpy() + 1) / 2, (b[0] + 1) / 2, data_range=1)
                        for t, b in zip(truth, back)])
    assert score == pytest.approx(expected, rel=1e-5)
    plain = np.mean([peak_signal_noise_ratio((t[0].numpy() + 1) / 2, (d[0].numpy() + 1) / 2, data_range=1)
                     for t, d in zip(truth, displaced)])
    assert registered_psnr(displaced, truth, max_shift=0)[0] == pytest.approx(plain, rel=1e-5)  # no shift: plain
    assert score > plain + 5
